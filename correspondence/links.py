"""Signed, expiring download links for archived PDFs too large to attach.

A token is ``{document_id}.{expires_epoch}.{hmac}``: the API serves it without an API key
after checking the signature (HMAC-SHA256 with the service's secret) and the expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from correspondence.errors import Forbidden, InvalidPayload, Problem

_EPOCH = re.compile("[0-9]{1,11}")
"""Seconds since 1970 in ASCII digits: up to the year 5138, never a 4,400-digit number
(``int`` refuses those) or a superscript digit (which ``str.isdigit`` accepts)."""
_MAC = re.compile("[0-9a-f]{64}")


def _mac(secret: bytes, document_id: str, expires: int) -> str:
    return hmac.new(secret, f"{document_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def sign(secret: bytes, document_id: str, expires: datetime) -> str:
    """A token for ``document_id`` valid until ``expires``."""
    epoch = int(expires.timestamp())
    return f"{document_id}.{epoch}.{_mac(secret, document_id, epoch)}"


def verify(secret: bytes, token: str, now: datetime) -> str:
    """The document id a valid, unexpired token grants; :class:`InvalidPayload` if it is not
    shaped like one of our tokens, :class:`Forbidden` if its signature or time is wrong."""
    parts = token.split(".")
    if len(parts) != 3 or not _EPOCH.fullmatch(parts[1]) or not _MAC.fullmatch(parts[2]):
        raise InvalidPayload(
            [
                Problem(
                    "token",
                    "is not a download link: {document}.{expiry in seconds}.{signature}",
                    "token",
                )
            ]
        )
    document_id, epoch, mac = parts[0], int(parts[1]), parts[2]
    if not hmac.compare_digest(mac, _mac(secret, document_id, epoch)):
        raise Forbidden("this download link is not valid")
    if now.timestamp() >= epoch:  # numbers, not datetimes: no year to overflow
        raise Forbidden("this download link has expired; ask your contact for a new one")
    return document_id
