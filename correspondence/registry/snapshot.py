"""The registry's state as ``/metrics`` reports it: documents by kind and status,
deliveries by status, the queue's depth and the age of its oldest document."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from correspondence.metrics import Snapshot
from correspondence.registry.models import Delivery, Document
from correspondence.registry.store import Tx
from correspondence.statuses import WAITING


def snapshot(tx: Tx, now: datetime) -> Snapshot:
    """Counted in the database, so every process reports the same figures."""
    by_kind = tx.execute(
        select(Document.kind, Document.status, func.count()).group_by(
            Document.kind, Document.status
        )
    ).all()
    by_status = tx.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    queued, oldest = tx.execute(
        select(func.count(), func.min(Document.created_at)).where(Document.status.in_(WAITING))
    ).one()
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = max(0.0, (now - oldest).total_seconds())
    return Snapshot(
        documents={(str(kind), str(status)): int(n) for kind, status, n in by_kind},
        deliveries={str(status): int(n) for status, n in by_status},
        queued=int(queued),
        oldest_queued_seconds=age,
    )
