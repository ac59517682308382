"""Batches and their items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

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


def add_item(
    tx: Tx,
    batch_id: str,
    position: int,
    document_id: str | None,
    refused: list[dict[str, str]] | None,
) -> None:
    """Record one item: the document it became, or why it was refused."""
    tx.add(
        BatchItem(batch_id=batch_id, position=position, document_id=document_id, refused=refused)
    )


def get(tx: Tx, batch_id: str) -> Batch | None:
    """The batch, if there is one."""
    return tx.get(Batch, batch_id)


def statuses(tx: Tx, batch_id: str) -> Sequence[Any]:
    """``(refused, document status, issued at)`` for every item."""
    return tx.execute(
        select(BatchItem.refused, Document.status, Document.issued_at)
        .outerjoin(Document, Document.id == BatchItem.document_id)
        .where(BatchItem.batch_id == batch_id)
    ).all()


def items(tx: Tx, batch_id: str) -> Sequence[Any]:
    """``(item, document or None)`` for every item, in submission order."""
    return tx.execute(
        select(BatchItem, Document)
        .outerjoin(Document, Document.id == BatchItem.document_id)
        .where(BatchItem.batch_id == batch_id)
        .order_by(BatchItem.position)
    ).all()
