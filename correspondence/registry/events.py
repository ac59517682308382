"""Webhook endpoints and the event outbox.

:func:`record` is called inside the transaction that changes a document or a delivery, so
the event exists if and only if the change does; one row is written per endpoint that
may read the document (its key asked for it, or reads every document). The dispatcher
(:class:`correspondence.webhooks.Webhooks`) then takes due rows with :func:`due` and
:func:`claim`, and settles each with :func:`settle`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from correspondence.registry.models import (
    ApiKey,
    Delivery,
    Document,
    WebhookEndpoint,
    WebhookEvent,
)
from correspondence.registry.store import Tx, leave_work

PENDING, SENT, EXPIRED, CANCELLED = "pending", "sent", "expired", "cancelled"


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z`` (SQLite gives back naive datetimes, stored in UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- endpoints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointInfo:
    """A registered endpoint, without its secret."""

    id: str
    url: str
    all_documents: bool
    created_at: datetime


def _info(row: WebhookEndpoint) -> EndpointInfo:
    return EndpointInfo(row.id, row.url, row.all_documents, row.created_at)


def add_endpoint(
    tx: Tx, *, api_key_id: int, url: str, secret: str, all_documents: bool, now: datetime
) -> EndpointInfo:
    """Register an endpoint for ``api_key_id``."""
    row = WebhookEndpoint(
        id=str(uuid.uuid4()),
        api_key_id=api_key_id,
        url=url,
        secret=secret,
        all_documents=all_documents,
        created_at=now,
    )
    tx.add(row)
    tx.flush()
    return _info(row)


def endpoints(tx: Tx, api_key_id: int) -> list[EndpointInfo]:
    """The key's endpoints, oldest first."""
    rows = tx.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.api_key_id == api_key_id, WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    ).all()
    return [_info(r) for r in rows]


def delete_endpoint(tx: Tx, api_key_id: int, endpoint_id: str, now: datetime) -> bool:
    """Stop calling the key's endpoint (its unsent events are cancelled); ``False`` if the
    key has no such endpoint."""
    deleted = tx.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.api_key_id == api_key_id,
            WebhookEndpoint.deleted_at.is_(None),
        )
        .values(deleted_at=now)
    )
    if not getattr(deleted, "rowcount", 0):
        return False
    tx.execute(
        update(WebhookEvent)
        .where(WebhookEvent.endpoint_id == endpoint_id, WebhookEvent.status == PENDING)
        .values(status=CANCELLED, next_attempt_at=None)
    )
    return True


# --- the outbox ---------------------------------------------------------------------------------


def record(
    tx: Tx,
    event_type: str,
    *,
    document_id: str,
    now: datetime,
    delivery_id: str | None = None,
    status: str,
    reason: str | None = None,
) -> None:
    """Store the event ``event_type`` for every endpoint that may read the document,
    inside the caller's transaction, which then wakes the webhook sender. ``reason``:
    why a document was rejected in review."""
    owner = _owner(tx, document_id)
    mine = [WebhookEndpoint.api_key_id == owner] if owner is not None else []
    targets = tx.scalars(
        select(WebhookEndpoint.id)
        .join(ApiKey, ApiKey.id == WebhookEndpoint.api_key_id)
        .where(
            WebhookEndpoint.deleted_at.is_(None),
            ApiKey.revoked_at.is_(None),
            or_(WebhookEndpoint.all_documents.is_(True), *mine),
        )
    ).all()
    if not targets:
        return
    event_id = f"evt_{uuid.uuid4().hex}"
    data: dict[str, Any] = {"document_id": document_id, "status": status}
    if delivery_id is not None:
        data["delivery_id"] = delivery_id
    if reason is not None:
        data["reason"] = reason
    body = {"id": event_id, "type": event_type, "created_at": rfc3339(now), "data": data}
    for endpoint_id in targets:
        tx.add(
            WebhookEvent(
                id=event_id,
                endpoint_id=endpoint_id,
                type=event_type,
                document_id=document_id,
                body=body,
                created_at=now,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )
    tx.flush()
    leave_work(tx)  # the webhook sender's


def due(tx: Tx, now: datetime, limit: int) -> Sequence[int]:
    """Pending events whose time has come, oldest first, leaving out any event of a
    document whose earlier event to the same endpoint is still pending (order per
    document), and any to a deleted endpoint."""
    earlier = aliased(WebhookEvent)
    blocked = (
        select(earlier.seq)
        .where(
            earlier.endpoint_id == WebhookEvent.endpoint_id,
            earlier.document_id == WebhookEvent.document_id,
            earlier.seq < WebhookEvent.seq,
            earlier.status == PENDING,
        )
        .exists()
    )
    return tx.scalars(
        select(WebhookEvent.seq)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookEvent.endpoint_id)
        .where(
            WebhookEvent.status == PENDING,
            WebhookEvent.next_attempt_at <= now,
            WebhookEndpoint.deleted_at.is_(None),
            ~blocked,
        )
        .order_by(WebhookEvent.seq)
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class Claimed:
    """An event taken for sending: where, with which secret, and what."""

    seq: int
    event_id: str
    event_type: str
    document_id: str
    url: str
    secret: str
    body: Mapping[str, Any]
    created_at: datetime
    attempts: int


def claim(tx: Tx, seq: int, now: datetime, until: datetime) -> Claimed | None:
    """Take a due event until ``until`` (a dispatcher that dies leaves it to the next
    one then); ``None`` if another dispatcher took it first."""
    taken = tx.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.seq == seq,
            WebhookEvent.status == PENDING,
            WebhookEvent.next_attempt_at <= now,
        )
        .values(next_attempt_at=until)
    )
    if not getattr(taken, "rowcount", 0):
        return None
    row, endpoint = tx.execute(
        select(WebhookEvent, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookEvent.endpoint_id)
        .where(WebhookEvent.seq == seq)
    ).one()
    return Claimed(
        seq=row.seq,
        event_id=row.id,
        event_type=row.type,
        document_id=row.document_id,
        url=endpoint.url,
        secret=endpoint.secret,
        body=dict(row.body),
        created_at=row.created_at,
        attempts=row.attempts,
    )


def settle(
    tx: Tx,
    seq: int,
    *,
    status: str,
    now: datetime,
    next_attempt_at: datetime | None,
    error: str | None,
) -> None:
    """Record one try: ``sent``, ``pending`` again (at ``next_attempt_at``) or ``expired``."""
    row = tx.get_one(WebhookEvent, seq)
    row.attempts += 1
    row.status, row.next_attempt_at = status, next_attempt_at
    row.last_error = error[:2000] if error else None
    if status == SENT:
        row.sent_at = now


def outstanding(tx: Tx) -> int:
    """How many events are still to send."""
    found = tx.scalar(
        select(func.count()).select_from(WebhookEvent).where(WebhookEvent.status == PENDING)
    )
    return found or 0


# --- where the work came from -------------------------------------------------------------------


def _owner(tx: Tx, document_id: str) -> int | None:
    """Who asked for the document: read from the row this transaction holds (the one it
    just locked or changed), else from the database."""
    held = tx.identity_map.get(tx.identity_key(Document, document_id))
    if isinstance(held, Document):
        return held.issued_by
    return tx.scalar(select(Document.issued_by).where(Document.id == document_id))


def document_request_id(tx: Tx, document_id: str) -> str | None:
    """The request id the document was asked for with."""
    return tx.scalar(select(Document.request_id).where(Document.id == document_id))


def delivery_request_id(tx: Tx, delivery_id: str) -> str | None:
    """The request id the delivery was asked for with."""
    return tx.scalar(select(Delivery.request_id).where(Delivery.id == delivery_id))
