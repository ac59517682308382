"""Signed, expiring download links for archived PDFs too large to attach.

A token is ``{document_id}.{expires_epoch}.{hmac}``: the API serves it without an API key
after checking the signature (HMAC-SHA256 with the service's secret) and the expiry.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from correspondence.errors import Forbidden


def _mac(secret: bytes, document_id: str, expires: int) -> str:
    return hmac.new(secret, f"{document_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def sign(secret: bytes, document_id: str, expires: datetime) -> str:
    """A token for ``document_id`` valid until ``expires``."""
    epoch = int(expires.timestamp())
    return f"{document_id}.{epoch}.{_mac(secret, document_id, epoch)}"


def verify(secret: bytes, token: str, now: datetime) -> str:
    """The document id a valid, unexpired token grants; :class:`Forbidden` otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise Forbidden("this download link is not valid")
    document_id, epoch, mac = parts[0], int(parts[1]), parts[2]
    if not hmac.compare_digest(mac, _mac(secret, document_id, epoch)):
        raise Forbidden("this download link is not valid")
    if now >= datetime.fromtimestamp(epoch, tz=UTC):
        raise Forbidden("this download link has expired; ask your contact for a new one")
    return document_id
