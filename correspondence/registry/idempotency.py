"""Idempotency-Key records: a key is claimed before its request runs, released if the
request fails, and points at the document once it succeeds."""

from __future__ import annotations

from datetime import datetime, timedelta

from correspondence.registry.models import IdempotencyKey
from correspondence.registry.store import Tx
from correspondence.statuses import IdempotencyState
from correspondence.times import aware


def claim(
    tx: Tx, client_id: int, key: str, request_hash: str, now: datetime, stale: timedelta
) -> IdempotencyKey | None:
    """The existing record of ``key`` (its request was seen before, or is running); or
    ``None`` once this request holds the key (a new record, or one abandoned for longer
    than ``stale`` by a crashed request, taken over)."""
    row = tx.get(IdempotencyKey, (client_id, key))
    if row is None:
        tx.add(
            IdempotencyKey(
                api_key_id=client_id,
                key=key,
                request_hash=request_hash,
                state=IdempotencyState.IN_PROGRESS,
                created_at=now,
            )
        )
        return None
    if (
        row.request_hash == request_hash
        and row.state == IdempotencyState.IN_PROGRESS
        and aware(row.created_at) <= now - stale
    ):
        row.created_at = now
        return None
    return row


def release(tx: Tx, client_id: int, key: str) -> None:
    """Forget a key whose request failed, so that it can be sent again."""
    row = tx.get(IdempotencyKey, (client_id, key))
    if row is not None and row.state == IdempotencyState.IN_PROGRESS:
        tx.delete(row)


def finish(tx: Tx, idempotency: tuple[int, str] | None, document_id: str) -> None:
    """Point the key (if any) at the document its request resolved to."""
    if idempotency is None:
        return
    row = tx.get(IdempotencyKey, idempotency)
    if row is not None:
        row.state = IdempotencyState.DONE
        row.document_id = document_id
