"""Review before issue in the registry: holding a document for review, deciding it once
(a conditional UPDATE: of two reviewers deciding at once, one changes the row and the other
changes nothing), the review queue, and the record of every review action."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from correspondence.registry.models import Document, ReviewAction
from correspondence.registry.store import Tx
from correspondence.results import ReviewAction as ReviewActionInfo
from correspondence.statuses import DocumentStatus

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


def payload_sha256(payload: dict[str, Any]) -> str:
    """sha256 of the payload as canonical JSON: what a review action was about."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _act(
    tx: Tx,
    row: Document,
    action: str,
    *,
    actor: str,
    staff_id: int | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    tx.add(
        ReviewAction(
            document_id=row.id,
            action=action,
            actor=actor,
            staff_id=staff_id,
            at=now,
            reason=reason,
            payload_sha256=payload_sha256(row.payload),
        )
    )


def hold(
    tx: Tx,
    row: Document,
    *,
    because: str,
    actor: str,
    composer_staff: int | None,
    now: datetime,
) -> None:
    """Put the (added, unnumbered) ``row`` in the review queue and record who asked."""
    row.status = DocumentStatus.IN_REVIEW
    row.next_attempt_at = None
    row.review_state, row.review_because = PENDING, because
    row.review_requested_by, row.review_composer_staff = actor, composer_staff
    row.review_decided_by = row.review_decided_at = row.review_reason = None
    tx.flush()
    _act(tx, row, "requested", actor=actor, staff_id=composer_staff, now=now)


def decide(
    tx: Tx,
    document_id: str,
    *,
    approve: bool,
    actor: str,
    staff_id: int,
    now: datetime,
    reason: str | None,
    due: datetime | None,
) -> bool:
    """Approve (the document is ``queued``, due at ``due``) or reject it, if it is still
    in review; ``False`` if another reviewer decided it first (nothing changed)."""
    values: dict[str, object] = {
        "review_state": APPROVED if approve else REJECTED,
        "review_decided_by": actor,
        "review_decided_at": now,
        "review_reason": reason,
    }
    if approve:
        values.update(status=DocumentStatus.QUEUED, next_attempt_at=due)
    else:
        values.update(
            status=DocumentStatus.REJECTED,
            next_attempt_at=None,
            last_error=f"rejected in review: {reason}"[:2000],
        )
    changed = tx.execute(
        update(Document)
        .where(Document.id == document_id, Document.status == DocumentStatus.IN_REVIEW)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(changed, "rowcount", 0) != 1:
        return False
    row = tx.get_one(Document, document_id)
    _act(
        tx,
        row,
        APPROVED if approve else REJECTED,
        actor=actor,
        staff_id=staff_id,
        now=now,
        reason=reason,
    )
    return True


def pending(tx: Tx, limit: int, offset: int = 0) -> tuple[int, Sequence[Document]]:
    """How many documents wait for review, and one page of them, oldest first."""
    waiting = Document.status == DocumentStatus.IN_REVIEW
    total = tx.scalar(select(func.count()).select_from(Document).where(waiting))
    rows = tx.scalars(
        select(Document)
        .where(waiting)
        .order_by(Document.created_at, Document.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return total or 0, rows


def actions(tx: Tx, document_id: str) -> list[ReviewActionInfo]:
    """The document's review actions, oldest first."""
    rows = tx.scalars(
        select(ReviewAction)
        .where(ReviewAction.document_id == document_id)
        .order_by(ReviewAction.id)
    ).all()
    return [ReviewActionInfo(r.action, r.actor, r.at, r.reason, r.payload_sha256) for r in rows]
