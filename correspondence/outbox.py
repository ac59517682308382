"""The email outbox: deliveries are recorded in the registry before anything is sent, in
the same transaction as the request that asked for them, and a sender loop sends them.

A temporary failure (connection refused, timeout, SMTP 4xx) is retried with exponential
backoff; a permanent one (SMTP 5xx) is recorded as ``failed`` with the server's reply.
Every attempt is kept. The Message-ID is derived from the delivery id, so a message that
is ever sent twice (a crash between the server's acceptance and our commit) can be
recognised as the same one by the receiving side.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from correspondence import links
from correspondence.archive import Archive
from correspondence.config import Settings
from correspondence.errors import InvalidPayload, Problem, Unavailable
from correspondence.kinds import validate
from correspondence.mail import Mailer, PermanentFailure, Sent, TemporaryFailure
from correspondence.mail.compose import Envelope, attachment_name, compose
from correspondence.registry.models import Delivery, DeliveryAttempt, Document

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Recipients:
    """Validated addresses."""

    to: tuple[str, ...]
    cc: tuple[str, ...]


@dataclass(frozen=True)
class AttemptInfo:
    """One try at sending."""

    at: datetime
    outcome: str
    detail: str


@dataclass(frozen=True)
class DeliveryInfo:
    """A delivery and its attempts."""

    id: str
    document_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    status: str
    attempts: tuple[AttemptInfo, ...]
    last_error: str | None
    message_id: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


def parse_recipients(block: object, at: str = "deliver", *, limit: int = 50) -> Recipients:
    """``{"email": {"to": [...], "cc": [...]}}`` with every address checked, and at most
    ``limit`` of them in all.

    Field paths start with ``at`` (``deliver.email.to.1``), or with ``email`` when empty."""
    at = f"{at}." if at else ""
    problems: list[Problem] = []
    email = block.get("email") if isinstance(block, Mapping) else None
    if not isinstance(email, Mapping):
        raise InvalidPayload([Problem(f"{at}email", 'give {"to": [...], "cc": [...]}', "type")])
    lists: dict[str, tuple[str, ...]] = {}
    for name in ("to", "cc"):
        values = email.get(name, [])
        if not isinstance(values, list) or any(not isinstance(v, str) for v in values):
            problems.append(Problem(f"{at}email.{name}", "must be a list of addresses", "type"))
            continue
        if len(values) > limit:
            problems.append(
                Problem(f"{at}email.{name}", f"at most {limit} recipients per delivery", "too_many")
            )
            continue
        good = []
        for i, value in enumerate(values):
            try:
                good.append(validate_email(value, check_deliverability=False).normalized)
            except EmailNotValidError as error:
                problems.append(
                    Problem(
                        f"{at}email.{name}.{i}",
                        f"{value!r} is not an email address: {error}",
                        "email",
                    )
                )
        lists[name] = tuple(good)
    if not problems and len(lists.get("to", ())) + len(lists.get("cc", ())) > limit:
        problems.append(
            Problem(
                f"{at}email", f"at most {limit} recipients (To and Cc) per delivery", "too_many"
            )
        )
    if not problems and not lists.get("to"):
        problems.append(Problem(f"{at}email.to", "give at least one recipient", "missing"))
    extra = set(email) - {"to", "cc"}
    if extra:
        problems.append(
            Problem(f"{at}email", f"unknown fields: {', '.join(sorted(extra))}", "extra")
        )
    if problems:
        raise InvalidPayload(problems)
    return Recipients(lists["to"], lists.get("cc", ()))


class Outbox:
    """Records deliveries and sends them."""

    def __init__(
        self,
        *,
        settings: Settings,
        transaction: Callable[[], AbstractContextManager[Session]],
        engines: Any,
        archive: Archive,
        mailer: Mailer,
        secret: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self._transaction = transaction
        self._engines = engines
        self.archive = archive
        self.mailer = mailer
        self.secret = secret
        self.clock = clock
        domain = settings.mail_from.rpartition("@")[2] or "correspondence.invalid"
        self._domain = domain

    def enqueue(
        self, session: Session, document_id: str, recipients: Recipients, key: str | None = None
    ) -> Delivery:
        """Record a delivery inside the caller's transaction (nothing is sent here)."""
        delivery_id = str(uuid.uuid4())
        row = Delivery(
            id=delivery_id,
            document_id=document_id,
            recipients={"to": list(recipients.to), "cc": list(recipients.cc)},
            status="queued",
            attempts=0,
            next_attempt_at=self.clock(),
            message_id=f"<{delivery_id}@{self._domain}>",
            idempotency_key=key,
            created_at=self.clock(),
        )
        session.add(row)
        return row

    def find(self, session: Session, document_id: str, key: str) -> Delivery | None:
        """The delivery a previous request with this Idempotency-Key created."""
        return session.scalars(
            select(Delivery).where(
                Delivery.document_id == document_id, Delivery.idempotency_key == key
            )
        ).first()

    def info(self, session: Session, row: Delivery) -> DeliveryInfo:
        """A delivery with its attempts."""
        attempts = session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == row.id)
            .order_by(DeliveryAttempt.id)
        ).all()
        return DeliveryInfo(
            id=row.id,
            document_id=row.document_id,
            to=tuple(row.recipients.get("to", [])),
            cc=tuple(row.recipients.get("cc", [])),
            status=row.status,
            attempts=tuple(AttemptInfo(a.at, a.outcome, a.detail) for a in attempts),
            last_error=row.last_error,
            message_id=row.message_id,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at,
        )

    # -- sending ------------------------------------------------------------------------------

    def send_due(self, limit: int = 10) -> int:
        """Send up to ``limit`` due deliveries of issued documents; return how many tried."""
        now = self.clock()
        with self._transaction() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.status == "sending", Delivery.next_attempt_at < now)
                .values(status="queued")
            )
            due = session.scalars(
                select(Delivery.id)
                .join(Document, Document.id == Delivery.document_id)
                .where(
                    Delivery.status == "queued",
                    Delivery.next_attempt_at <= now,
                    Document.status == "issued",
                )
                .order_by(Delivery.created_at)
                .limit(limit)
            ).all()
        tried = 0
        for delivery_id in due:
            with self._transaction() as session:
                claimed = session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id, Delivery.status == "queued")
                    .values(status="sending", next_attempt_at=self.clock() + LEASE)
                )
            if getattr(claimed, "rowcount", 0):
                tried += 1
                self._send(delivery_id)
        return tried

    def _send(self, delivery_id: str) -> None:
        try:
            message, pending = self._message(delivery_id)
        except Unavailable as error:
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
            self._record(delivery_id, "temporary_failure", str(error), retry=True)
        except PermanentFailure as error:
            self._record(delivery_id, "permanent_failure", error.reply or str(error), retry=False)
        else:
            self._record_sent(delivery_id, sent)

    def _message(self, delivery_id: str) -> tuple[Any, list[str]]:
        """The message, and the recipients still waiting for it."""
        with self._transaction() as session:
            delivery = session.get_one(Delivery, delivery_id)
            document = session.get_one(Document, delivery.document_id)
            payload, locale, key = document.payload, document.locale, document.archive_key
            recipients = dict(delivery.recipients)
            message_id, document_id = delivery.message_id, document.id
            done = set(delivery.accepted or ()) | set(delivery.refused or {})
        pending = [a for a in [*recipients.get("to", []), *recipients.get("cc", [])]]
        pending = [a for a in dict.fromkeys(pending) if a not in done]
        assert key is not None
        pdf = self.archive.get(key=key)
        validated = validate(payload)
        link = expires = None
        if len(pdf) > self.settings.mail_max_attachment_bytes:
            expires = self.clock() + timedelta(seconds=self.settings.download_link_ttl_seconds)
            token = links.sign(self.secret, document_id, expires)
            link = f"{self.settings.public_base_url.rstrip('/')}/v1/downloads/{token}"
        envelope = Envelope(
            sender=self.settings.mail_from,
            to=tuple(recipients.get("to", [])),
            cc=tuple(recipients.get("cc", [])),
            message_id=message_id,
            date=self.clock(),
        )
        with self._engines.lease() as engine:
            context = engine.context(validated, locale=locale)
            context.update(
                kind=validated.kind.name,
                link=link,
                link_expires=expires.date() if expires else None,
            )
            message = compose(
                engine.env,
                context,
                envelope,
                pdf=None if link else pdf,
                filename=attachment_name(engine.env, validated, locale),
            )
            message.as_bytes()  # a header that cannot be serialised fails here, not later
            return message, pending

    def _record(
        self, delivery_id: str, outcome: str, detail: str, *, retry: bool, sent: bool = False
    ) -> None:
        now = self.clock()
        with self._transaction() as session:
            row = session.get_one(Delivery, delivery_id)
            row.attempts += 1
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery_id, at=now, outcome=outcome, detail=detail[:2000]
                )
            )
            if sent:
                row.status, row.sent_at, row.next_attempt_at, row.last_error = (
                    "sent",
                    now,
                    None,
                    None,
                )
            elif retry and row.attempts < self.settings.mail_max_attempts:
                delay = self.settings.retry_delay(row.attempts)
                row.status, row.next_attempt_at, row.last_error = (
                    "queued",
                    now + timedelta(seconds=delay),
                    detail,
                )
            else:
                if retry:
                    detail = f"gave up after {row.attempts} attempts: {detail}"
                row.status, row.next_attempt_at, row.last_error = "failed", None, detail

    def _record_sent(self, delivery_id: str, sent: Sent) -> None:
        """What the server did with each recipient: the ones that accepted are never
        sent the message again; the ones refused for now are tried again, alone."""
        with self._transaction() as session:
            row = session.get_one(Delivery, delivery_id)
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
