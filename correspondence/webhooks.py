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
import logging
import random
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from correspondence import logs, metrics
from correspondence.config import Settings
from correspondence.errors import InvalidPayload, NotFound, Problem
from correspondence.registry import events
from correspondence.registry.store import Registry
from correspondence.results import Client

LOG = logging.getLogger(__name__)
SIGNATURE_HEADER = "Correspondence-Signature"
EVENT_ID_HEADER = "Correspondence-Event-Id"
EVENT_TYPE_HEADER = "Correspondence-Event-Type"
URL_MAX = 2000
EVENTS = (
    "document.issued",
    "document.failed",
    "document.review_requested",
    "document.rejected",
    "delivery.sent",
    "delivery.failed",
)
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


def retry_delay(
    attempt: int,
    rng: random.Random | None = None,
    base: float = BASE_DELAY_SECONDS,
    cap: float = MAX_DELAY_SECONDS,
) -> float:
    """Seconds before try ``attempt + 1`` after ``attempt`` failures: exponential, capped
    (at an hour by default), with jitter so receivers coming back up are not hit in step."""
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))
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
    url: str,
    secret: bytes,
    event: Mapping[str, Any],
    now: int,
    timeout: float = 10.0,
    extra_headers: Mapping[str, str] | None = None,
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
            **(extra_headers or {}),
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


# --- the use case: endpoints registered by API keys, and the dispatcher ----------------------

LEASE_MARGIN_SECONDS = 60.0
"""A taken event is left to another dispatcher this long after the call's timeout."""
SECRET_MIN, SECRET_MAX = 24, 200


@dataclass(frozen=True)
class Registered:
    """A new endpoint, and its signing secret: shown this once, never listed."""

    endpoint: events.EndpointInfo
    secret: str


class Webhooks:
    """Registers endpoints for API keys and sends the event outbox to them."""

    def __init__(
        self,
        *,
        settings: Settings,
        registry: Registry,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not crypto)
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._again = False  # asked for while the thread was at it: look once more
        self._closed = threading.Event()

    # endpoints

    def register(self, body: Mapping[str, Any], *, client: Client) -> Registered:
        """Register ``{"url": …, "secret": …}`` (the secret is generated if not given)."""
        client.require("documents:read")
        url, secret = body.get("url"), body.get("secret")
        problems = []
        unknown = sorted(set(body) - {"url", "secret"})
        problems += [
            Problem(name, "not a field of a webhook endpoint", "unknown") for name in unknown
        ]
        if not isinstance(url, str) or not url or len(url) > URL_MAX:
            problems.append(
                Problem("url", f"give the endpoint's URL (up to {URL_MAX} characters)", "type")
            )
        elif (why := endpoint_error(url, self.settings.webhook_allowed_hosts)) is not None:
            problems.append(Problem("url", why, "not_allowed"))
        if secret is None:
            secret = f"whsec_{secrets.token_urlsafe(32)}"
        elif (
            not isinstance(secret, str)
            or not SECRET_MIN <= len(secret) <= SECRET_MAX
            or not secret.isprintable()
        ):
            problems.append(
                Problem(
                    "secret",
                    f"give {SECRET_MIN} to {SECRET_MAX} printable characters, or none",
                    "type",
                )
            )
        if problems:
            raise InvalidPayload(problems)
        assert isinstance(url, str) and isinstance(secret, str)
        with self.registry.transaction() as tx:
            info = events.add_endpoint(
                tx,
                api_key_id=client.id,
                url=url,
                secret=secret,
                all_documents=client.reads_all,
                now=self.clock(),
            )
        LOG.info(
            "webhook.registered", extra={"endpoint_id": info.id, "host": urlsplit(url).hostname}
        )
        return Registered(info, secret)

    def endpoints(self, *, client: Client) -> list[events.EndpointInfo]:
        """The caller's endpoints (never their secrets)."""
        client.require("documents:read")
        with self.registry.transaction() as tx:
            return events.endpoints(tx, client.id)

    def delete(self, endpoint_id: str, *, client: Client) -> None:
        """Stop calling one of the caller's endpoints."""
        client.require("documents:read")
        with self.registry.transaction() as tx:
            if not events.delete_endpoint(tx, client.id, endpoint_id, self.clock()):
                raise NotFound(f"no webhook endpoint {endpoint_id}")
        LOG.info("webhook.deleted", extra={"endpoint_id": endpoint_id})

    # the dispatcher

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)

    def send_in_background(self, limit: int = 10) -> None:
        """Send the due events on a thread of their own, unless it is already at it: an
        endpoint slow to answer (up to the timeout, per event) never holds up the loop
        that issues documents and sends emails. Asked while the thread is at it, the
        thread looks for due events once more before it ends: an event committed after
        its last look is not left for the next poll."""
        with self._thread_lock:
            if self._closed.is_set():
                return
            if self._thread is not None:  # at it: cleared, under this lock, when it ends
                self._again = True
                return
            self._again = False
            self._thread = threading.Thread(
                target=self._drain, args=(limit,), name="webhooks", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Start no more sends; wait for the one under way (up to its timeout)."""
        self._closed.set()
        with self._thread_lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=self.settings.webhook_timeout_seconds + 5)

    def _drain(self, limit: int) -> None:
        try:
            while not self._closed.is_set():
                if self.send_due(limit):
                    continue
                with self._thread_lock:  # nothing due: end, unless asked again meanwhile
                    if not self._again or self._closed.is_set():
                        self._thread = None
                        return
                    self._again = False
        except Exception:  # the database is down: the next pass of the loop tries again
            LOG.exception("webhook dispatcher")
        with self._thread_lock:
            self._thread = None

    def send_due(self, limit: int = 10) -> int:
        """Send up to ``limit`` due events (oldest first, in order per document); return
        how many were tried."""
        with self.registry.transaction() as tx:
            found = list(events.due(tx, self.clock(), limit))
        tried = 0
        for seq in found:
            now = self.clock()
            with self.registry.transaction() as tx:
                taken = events.claim(tx, seq, now, now + self.lease)
            if taken is None:
                continue
            tried += 1
            with logs.bound(document_id=taken.document_id, event_id=taken.event_id):
                self._send(taken)
        return tried

    def _send(self, taken: events.Claimed) -> None:
        now = self.clock()
        outcome = deliver(
            taken.url,
            taken.secret.encode(),
            taken.body,
            int(now.timestamp()),
            timeout=self.settings.webhook_timeout_seconds,
            extra_headers={EVENT_ID_HEADER: taken.event_id, EVENT_TYPE_HEADER: taken.event_type},
        )
        attempts = taken.attempts + 1
        fields = {"type": taken.event_type, "attempts": attempts, "outcome": outcome.reason}
        age = (now - _aware(taken.created_at)).total_seconds()
        if outcome.delivered:
            status, later = events.SENT, None
            LOG.info("webhook.sent", extra=fields)
        elif age >= MAX_AGE_SECONDS:
            status, later = events.EXPIRED, None
            metrics.DEPENDENCY_ERRORS.labels(dependency="webhook").inc()
            LOG.warning("webhook.expired", extra={**fields, "reason": outcome.reason})
        else:
            delay = retry_delay(
                attempts,
                self.rng,
                self.settings.webhook_retry_base_seconds,
                self.settings.webhook_retry_max_seconds,
            )
            status, later = events.PENDING, now + timedelta(seconds=delay)
            metrics.DEPENDENCY_ERRORS.labels(dependency="webhook").inc()
            metrics.RETRIES.labels(
                what="webhook", cause="unreachable" if outcome.status is None else "status"
            ).inc()
            LOG.warning(
                "webhook.retry",
                extra={**fields, "delay_seconds": round(delay, 1), "reason": outcome.reason},
            )
        metrics.WEBHOOK_EVENTS.labels(outcome={"pending": "retried"}.get(status, status)).inc()
        with self.registry.transaction() as tx:
            events.settle(
                tx,
                taken.seq,
                status=status,
                now=now,
                next_attempt_at=later,
                error=None if outcome.delivered else outcome.reason,
            )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
