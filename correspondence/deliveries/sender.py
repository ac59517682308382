"""The sender loop: deliveries recorded in the registry are sent once their document is
issued.

A temporary failure (connection refused, timeout, SMTP 4xx) is retried with exponential
backoff; a permanent one (SMTP 5xx) is recorded as ``failed`` with the server's reply.
Every attempt is kept. A recipient that accepted the message is never sent it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from correspondence import links, logs, metrics
from correspondence.archive import Archive
from correspondence.config import Settings
from correspondence.deliveries.content import MailContents, stored
from correspondence.errors import Unavailable
from correspondence.mail import Mailer, PermanentFailure, Sent, TemporaryFailure
from correspondence.mail.compose import Envelope, compose_stored
from correspondence.registry import deliveries, documents, events
from correspondence.registry.store import Registry, Tx
from correspondence.statuses import DeliveryStatus

LEASE = timedelta(minutes=5)
LOG = logging.getLogger(__name__)


class Outbox:
    """Sends due deliveries and records every attempt."""

    def __init__(
        self,
        *,
        settings: Settings,
        registry: Registry,
        mail: MailContents,
        archive: Archive,
        mailer: Mailer,
        secret: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.mail = mail
        self.archive = archive
        self.mailer = mailer
        self.secret = secret
        self.clock = clock

    def send_due(self, limit: int = 10) -> int:
        """Send up to ``limit`` due deliveries of issued documents; return how many tried."""
        with self.registry.transaction() as tx:
            orphans = deliveries.fail_for_failed_documents(tx, self.clock())
            for delivery_id, document_id, _ in orphans:
                _event(tx, document_id, delivery_id, DeliveryStatus.FAILED, self.clock())
            due = list(deliveries.due(tx, self.clock(), limit))
        for delivery_id, document_id, reason in orphans:
            with logs.bound(delivery_id=delivery_id):
                _log_outcome(document_id, DeliveryStatus.FAILED, "document_failed", 0, reason)
        tried = 0
        for delivery_id in due:
            with self.registry.transaction() as tx:
                claimed = deliveries.claim(tx, delivery_id, self.clock() + LEASE)
                origin = events.delivery_request_id(tx, delivery_id) if claimed else None
            if claimed:
                tried += 1
                bound = {"request_id": origin} if origin else {}
                with logs.bound(delivery_id=delivery_id, **bound):
                    self._send(delivery_id)
        return tried

    def download_link(self, document_id: str, expires: datetime) -> str:
        """A signed link to the document's PDF, from the settings' URL template."""
        token = links.sign(self.secret, document_id, expires)
        return self.settings.download_url(token)

    def _send(self, delivery_id: str) -> None:
        try:
            message, pending = self._message(delivery_id)
        except Unavailable as error:  # the archive (the PDF) or the database
            metrics.DEPENDENCY_ERRORS.labels(dependency=error.dependency).inc()
            self._record(delivery_id, "temporary_failure", str(error), retry=True)
            return
        except Exception as error:  # a message that cannot be built never will be
            reason = f"the message cannot be built: {type(error).__name__}: {error}"
            self._record(delivery_id, "permanent_failure", reason, retry=False)
            return
        try:
            sent = self.mailer.send(message=message, recipients=pending)
        except TemporaryFailure as error:
            self._record(delivery_id, "temporary_failure", error.reply or str(error), retry=True)
        except Unavailable as error:
            metrics.DEPENDENCY_ERRORS.labels(dependency="smtp").inc()
            self._record(delivery_id, "temporary_failure", str(error), retry=True)
        except PermanentFailure as error:
            self._record(delivery_id, "permanent_failure", error.reply or str(error), retry=False)
        except Exception as error:  # a mailer's own bug: retried, a bounded number of times
            reason = f"{type(error).__name__}: {error}"
            self._record(delivery_id, "temporary_failure", reason, retry=True)
        else:
            self._record_sent(delivery_id, sent)

    def _message(self, delivery_id: str) -> tuple[EmailMessage, list[str]]:
        """The message, and the recipients still waiting for it."""
        with self.registry.transaction() as tx:
            delivery = deliveries.get_one(tx, delivery_id)
            document = documents.get_one(tx, delivery.document_id)
            if delivery.content is None:  # recorded before its words were stored: once
                delivery.content = self.mail.from_payload(document.payload, document.locale)
            content, key = stored(delivery.content), document.archive_key
            recipients = dict(delivery.recipients)
            message_id, document_id = delivery.message_id, document.id
            done = set(delivery.accepted or ()) | set(delivery.refused or {})
        pending = [a for a in [*recipients.get("to", []), *recipients.get("cc", [])]]
        pending = [a for a in dict.fromkeys(pending) if a not in done]
        assert key is not None
        pdf = self.archive.get(key=key)
        link = expires = None
        if len(pdf) > self.settings.mail_max_attachment_bytes:
            expires = self.clock() + timedelta(seconds=self.settings.download_link_ttl_seconds)
            link = self.download_link(document_id, expires)
        envelope = Envelope(
            sender=self.settings.mail_from,
            to=tuple(recipients.get("to", [])),
            cc=tuple(recipients.get("cc", [])),
            message_id=message_id,
            date=self.clock(),
        )
        message = compose_stored(
            content,
            envelope,
            pdf=None if link else pdf,
            link=link,
            expires=expires.date() if expires else None,
        )
        message.as_bytes()  # a header that cannot be serialised fails here, not later
        return message, pending

    def _record(
        self, delivery_id: str, outcome: str, detail: str, *, retry: bool, sent: bool = False
    ) -> None:
        now = self.clock()
        with self.registry.transaction() as tx:
            row = deliveries.get_one(tx, delivery_id)
            row.attempts += 1
            deliveries.add_attempt(tx, delivery_id, now, outcome, detail[:2000])
            document_id = row.document_id
            if sent:
                row.status, row.sent_at = DeliveryStatus.SENT, now
                row.next_attempt_at, row.last_error = None, None
            elif retry and row.attempts < self.settings.mail_max_attempts:
                delay = self.settings.retry_delay(row.attempts)
                row.status, row.last_error = DeliveryStatus.QUEUED, detail
                row.next_attempt_at = now + timedelta(seconds=delay)
            else:
                if retry:
                    detail = f"gave up after {row.attempts} attempts: {detail}"
                row.status, row.next_attempt_at, row.last_error = (
                    DeliveryStatus.FAILED,
                    None,
                    detail,
                )
            status, attempts = DeliveryStatus(row.status), row.attempts
            if status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
                _event(tx, document_id, delivery_id, status, now)
        _log_outcome(document_id, status, outcome, attempts, detail)

    def _record_sent(self, delivery_id: str, sent: Sent) -> None:
        """What the server did with each recipient: the ones that accepted are never
        sent the message again; the ones refused for now are tried again, alone."""
        with self.registry.transaction() as tx:
            row = deliveries.get_one(tx, delivery_id)
            row.accepted = [*(row.accepted or ()), *sent.accepted]
            row.refused = {**(row.refused or {}), **sent.permanent}
            refused = dict(row.refused)
        parts = [f"accepted: {', '.join(sent.accepted)}"] if sent.accepted else []
        parts += [f"refused for now: {a} ({r})" for a, r in sent.temporary.items()]
        parts += [f"refused: {a} ({r})" for a, r in sent.permanent.items()]
        detail = f"{sent.reply}; " * bool(sent.reply) + "; ".join(parts)
        if sent.temporary:
            outcome = "partially_sent" if sent.accepted else "temporary_failure"
            self._record(delivery_id, outcome, detail, retry=True)
        elif refused:
            outcome = "partially_sent" if sent.accepted else "permanent_failure"
            reason = "; ".join(f"{a} refused: {r}" for a, r in refused.items())
            self._record(delivery_id, outcome, reason if not sent.accepted else detail, retry=False)
        else:
            self._record(delivery_id, "sent", detail, retry=False, sent=True)


def _event(
    tx: Tx, document_id: str, delivery_id: str, status: DeliveryStatus, now: datetime
) -> None:
    """The webhook event of a delivery's end, in the transaction that records it."""
    kind = "delivery.sent" if status == DeliveryStatus.SENT else "delivery.failed"
    events.record(
        tx, kind, document_id=document_id, delivery_id=delivery_id, now=now, status=status
    )


def _log_outcome(
    document_id: str, status: DeliveryStatus, outcome: str, attempts: int, detail: str
) -> None:
    """One line per attempt (the delivery id is bound by the caller), and the counters."""
    fields = {
        "document_id": document_id,
        "status": status,
        "outcome": outcome,
        "attempts": attempts,
        "reason": detail[:500],
    }
    if status == DeliveryStatus.QUEUED:
        metrics.RETRIES.labels(what="delivery", cause=outcome).inc()
        LOG.warning("delivery.retry", extra=fields)
    elif status == DeliveryStatus.FAILED:
        metrics.DELIVERIES.labels(status=status).inc()
        LOG.warning("delivery.failed", extra=fields)
    else:
        metrics.DELIVERIES.labels(status=status).inc()
        LOG.info("delivery.sent", extra={**fields, "reason": None})
