"""Email deliveries and their attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from correspondence.registry.models import Delivery, DeliveryAttempt, Document
from correspondence.registry.store import Tx
from correspondence.results import AttemptInfo, DeliveryInfo
from correspondence.statuses import DeliveryStatus, DocumentStatus


def add(tx: Tx, row: Delivery) -> None:
    """Record a delivery inside the caller's transaction."""
    tx.add(row)
    tx.flush()


def find(tx: Tx, document_id: str, key: str) -> Delivery | None:
    """The delivery a previous request with this Idempotency-Key created."""
    return tx.scalars(
        select(Delivery).where(Delivery.document_id == document_id, Delivery.idempotency_key == key)
    ).first()


def of_document(tx: Tx, document_id: str) -> Sequence[Delivery]:
    """Every delivery of a document, oldest first."""
    return tx.scalars(
        select(Delivery).where(Delivery.document_id == document_id).order_by(Delivery.created_at)
    ).all()


def get_one(tx: Tx, delivery_id: str) -> Delivery:
    """The delivery, which must exist."""
    return tx.get_one(Delivery, delivery_id)


def info(tx: Tx, row: Delivery) -> DeliveryInfo:
    """A delivery with its attempts."""
    attempts = tx.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == row.id)
        .order_by(DeliveryAttempt.id)
    ).all()
    return DeliveryInfo(
        id=row.id,
        document_id=row.document_id,
        to=tuple(row.recipients.get("to", [])),
        cc=tuple(row.recipients.get("cc", [])),
        status=DeliveryStatus(row.status),
        attempts=tuple(AttemptInfo(a.at, a.outcome, a.detail) for a in attempts),
        last_error=row.last_error,
        message_id=row.message_id,
        created_at=row.created_at,
        sent_at=row.sent_at,
        next_attempt_at=row.next_attempt_at,
    )


def due(tx: Tx, now: datetime, limit: int) -> Sequence[str]:
    """Deliveries of issued documents whose time has come; a delivery whose sender died
    (its ``sending`` lease ran out) is queued again first."""
    tx.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.next_attempt_at < now)
        .values(status=DeliveryStatus.QUEUED)
    )
    return tx.scalars(
        select(Delivery.id)
        .join(Document, Document.id == Delivery.document_id)
        .where(
            Delivery.status == DeliveryStatus.QUEUED,
            Delivery.next_attempt_at <= now,
            Document.status == DocumentStatus.ISSUED,
        )
        .order_by(Delivery.created_at)
        .limit(limit)
    ).all()


def claim(tx: Tx, delivery_id: str, until: datetime) -> bool:
    """Take a queued delivery for sending until ``until``; ``False`` if another sender
    took it first."""
    claimed = tx.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.QUEUED)
        .values(status=DeliveryStatus.SENDING, next_attempt_at=until)
    )
    return bool(getattr(claimed, "rowcount", 0))


def add_attempt(tx: Tx, delivery_id: str, at: datetime, outcome: str, detail: str) -> None:
    """Keep one try at sending."""
    tx.add(DeliveryAttempt(delivery_id=delivery_id, at=at, outcome=outcome, detail=detail))


def without_content(tx: Tx, document_id: str) -> Sequence[Delivery]:
    """The document's deliveries still to send whose email is not written yet."""
    return tx.scalars(
        select(Delivery).where(
            Delivery.document_id == document_id,
            Delivery.content.is_(None),
            Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
        )
    ).all()


DOCUMENT_FAILED = "its document failed: "
"""How the reason of a delivery failed because its document failed begins (see below)."""


def fail_for_failed_documents(tx: Tx, now: datetime) -> list[tuple[str, str, str]]:
    """Fail every queued delivery whose document failed (or was rejected in review), with
    the document's reason;
    returns (delivery id, document id, reason) of each. Retrying the document queues
    them again (:func:`requeue_for_document`)."""
    rows = tx.execute(
        select(Delivery, Document.last_error, Document.status)
        .join(Document, Document.id == Delivery.document_id)
        .where(
            Delivery.status == DeliveryStatus.QUEUED,
            Document.status.in_((DocumentStatus.FAILED, DocumentStatus.REJECTED)),
        )
    ).all()
    failed = []
    for row, why, status in rows:
        # a rejected document's reason says so ("rejected in review: …"); it is never retried
        prefix = "its document was " if status == DocumentStatus.REJECTED else DOCUMENT_FAILED
        reason = f"{prefix}{why or 'no reason recorded'}"[:2000]
        row.status, row.next_attempt_at, row.last_error = DeliveryStatus.FAILED, None, reason
        add_attempt(tx, row.id, now, "document_failed", reason)
        failed.append((row.id, row.document_id, reason))
    return failed


def requeue_for_document(tx: Tx, document_id: str, now: datetime) -> int:
    """Queue again the deliveries that failed only because ``document_id`` failed."""
    requeued = tx.execute(
        update(Delivery)
        .where(
            Delivery.document_id == document_id,
            Delivery.status == DeliveryStatus.FAILED,
            Delivery.last_error.startswith(DOCUMENT_FAILED),
        )
        .values(status=DeliveryStatus.QUEUED, next_attempt_at=now, last_error=None)
    )
    return int(getattr(requeued, "rowcount", 0))
