"""Webhooks: signing, verifying, where we may call, and when to try again.

An event is stored in the same transaction as the change it reports, then sent by the
dispatcher (``deliver``) as a JSON POST with the header::

    Correspondence-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">

as Stripe signs its events: the timestamp is inside the signature, so a captured request
cannot be replayed later than the receiver's tolerance. Events are delivered at least once;
receivers deduplicate by the event's ``id``.

Where we call is never request data alone: an endpoint's host must be in
``CORRESPONDENCE_WEBHOOK_ALLOWED_HOSTS``, and it must use HTTPS unless the host is the
loopback interface (tests and sidecars).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import random
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Correspondence-Signature"
EVENTS = ("document.issued", "document.failed", "delivery.sent", "delivery.failed")
MAX_AGE_SECONDS = 72 * 3600
"""An event not delivered within this long after it happened is given up (``expired``)."""
BASE_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 3600.0
TOLERANCE_SECONDS = 300
LOOPBACK_NAMES = frozenset({"localhost"})


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: bytes, body: bytes, header: str, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` and is no older than ``tolerance``.

    This is what a receiver runs; docs/operations.md shows it as a recipe."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before try ``attempt + 1`` after ``attempt`` failures: exponential, capped
    at an hour, with full jitter so receivers coming back up are not hit in step."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2.0 ** (attempt - 1))
    return (rng or random.Random()).uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_error(url: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why ``url`` may not be registered, or None when it may."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL may not carry credentials"
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return "the URL must use https (http only on the loopback interface)"
    if host not in {h.lower() for h in allowed_hosts}:
        return f"the host {host!r} is not in CORRESPONDENCE_WEBHOOK_ALLOWED_HOSTS"
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new target: we call only allow-listed hosts."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Outcome:
    """What one send did: delivered (a 2xx), or why not."""

    delivered: bool
    status: int | None
    reason: str


def body_of(event: Mapping[str, Any]) -> bytes:
    """The bytes sent for ``event``: compact JSON, keys in a stable order."""
    return json.dumps(event, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def deliver(
    url: str, secret: bytes, event: Mapping[str, Any], now: int, timeout: float = 10.0
) -> Outcome:
    """POST ``event`` to ``url``, signed; a 2xx answer is delivered, anything else is not."""
    body = body_of(event)
    request = urllib.request.Request(  # noqa: S310 (scheme checked by endpoint_error)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body, now),
            "User-Agent": "correspondence-webhooks",
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return Outcome(200 <= answer.status < 300, answer.status, f"HTTP {answer.status}")
    except urllib.error.HTTPError as error:
        return Outcome(False, error.code, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Outcome(False, None, f"unreachable: {reason}")
