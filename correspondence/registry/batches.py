"""Batches and their items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from correspondence.registry.models import Batch, BatchItem, Document
from correspondence.registry.store import Tx


def add(
    tx: Tx, *, batch_id: str, client_name: str, client_id: int, total: int, now: datetime
) -> None:
    """Record a batch."""
    tx.add(
        Batch(
            id=batch_id, client_name=client_name, api_key_id=client_id, total=total, created_at=now
        )
    )


def add_items(
    tx: Tx,
    batch_id: str,
    items: Sequence[tuple[str | None, list[dict[str, str]] | None]],
) -> None:
    """Record every item, in one statement: ``(document id, why refused)`` in submission
    order (positions from 0)."""
    tx.flush()  # the batch itself first
    rows = [
        {"batch_id": batch_id, "position": i, "document_id": document_id, "refused": refused}
        for i, (document_id, refused) in enumerate(items)
    ]
    if rows:
        tx.execute(insert(BatchItem), rows)


def get(tx: Tx, batch_id: str) -> Batch | None:
    """The batch, if there is one."""
    return tx.get(Batch, batch_id)


def statuses(tx: Tx, batch_id: str) -> Sequence[Any]:
    """``(document status, items, latest issued at)`` per status of the batch's items,
    counted in the database; a refused item (no document) has the status ``None``."""
    return tx.execute(
        select(Document.status, func.count(), func.max(Document.issued_at))
        .select_from(BatchItem)
        .outerjoin(Document, Document.id == BatchItem.document_id)
        .where(BatchItem.batch_id == batch_id)
        .group_by(Document.status)
    ).all()


def items(tx: Tx, batch_id: str) -> Sequence[Any]:
    """``(item, document or None)`` for every item, in submission order."""
    return tx.execute(
        select(BatchItem, Document)
        .outerjoin(Document, Document.id == BatchItem.document_id)
        .where(BatchItem.batch_id == batch_id)
        .order_by(BatchItem.position)
    ).all()
