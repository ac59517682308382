"""Review before issue (four eyes; docs/review.md).

A document that needs review is validated as any other, then recorded ``in_review``: no
number, nothing rendered, archived or emailed. A member of staff other than the one who
composed it approves it — it is then ``queued`` and issued by the issuer (in-process or
on Celery) exactly as an accepted request — or rejects it with a reason, and it ends
``rejected``. Each decision is one conditional UPDATE (``… WHERE status = 'in_review'``):
of two reviewers deciding at once, one wins and the other is told it was decided.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from correspondence import metrics
from correspondence.errors import Conflict, Forbidden, InvalidPayload, NotFound, Problem
from correspondence.registry import documents, events, idempotency, reviews
from correspondence.registry.models import Document
from correspondence.registry.store import Collision, Tx
from correspondence.results import (
    Client,
    DocumentInfo,
    DocumentPage,
    IssueOutcome,
    ReviewAction,
    Staff,
)
from correspondence.statuses import DocumentStatus

if TYPE_CHECKING:
    from datetime import datetime

    from correspondence.issuing.accept import Acceptor, Prepared

LOG = logging.getLogger(__name__)
REASON_MAX = 2000


def actor_of(client: Client, staff: Staff | None) -> str:
    """Who acts, as review actions name them: ``staff:<email>`` or ``api_key:<id>:<name>``."""
    if staff is not None:
        return f"staff:{staff.email}"
    return f"api_key:{client.id}:{client.name}"[:300]


def hold_row(
    tx: Tx,
    row: Document,
    *,
    because: str,
    client: Client,
    composer: Staff | None,
    now: datetime,
) -> None:
    """Put ``row`` (in the registry, unnumbered) in the review queue, with its event."""
    reviews.hold(
        tx,
        row,
        because=because,
        actor=actor_of(client, composer),
        composer_staff=composer.id if composer is not None else None,
        now=now,
    )
    events.record(tx, "document.review_requested", document_id=row.id, now=now, status=row.status)


def hold_for_review(
    acceptor: Acceptor,
    item: Prepared,
    latest: Document | None,
    client: Client,
    key: tuple[int, str] | None,
    composer: Staff | None,
) -> IssueOutcome:
    """Record a validated request as ``in_review`` (a failed document it corrects takes
    its place, as for any request)."""
    kind, reference = item.validated.kind.name, item.validated.doc.document.our_reference
    if latest is not None and latest.status == DocumentStatus.IN_REVIEW:
        raise Conflict(
            f"{kind} {reference} waits for review as document {latest.id}: "
            "approve or reject it before sending a new version"
        )
    assert item.review is not None
    now = acceptor.clock()
    try:
        with acceptor.registry.transaction() as tx:
            if latest is not None and latest.status == DocumentStatus.FAILED:
                row = acceptor.take_failed(tx, latest.id)
                acceptor.adopt(row, item.validated, item.payload, DocumentStatus.IN_REVIEW)
            else:
                row = acceptor.new_row(item, latest, client)
                documents.add(tx, row)
            hold_row(tx, row, because=item.review, client=client, composer=composer, now=now)
            idempotency.finish(tx, key, row.id)
            acceptor.enqueue(tx, row.id, item.recipients)
            info = documents.info(row)
    except Collision:
        raise Conflict(f"{kind} {reference} was recorded concurrently; send it again") from None
    LOG.info("document.review_requested", extra={"document_id": info.id, "kind": kind})
    return IssueOutcome(info, created=True)


class Reviews:
    """The review queue and the decisions of staff."""

    def __init__(self, acceptor: Acceptor) -> None:
        self.acceptor = acceptor
        self.issuer = acceptor.issuer
        self.registry = acceptor.registry
        self.clock = acceptor.clock

    def submit(self, body: Mapping[str, Any], *, staff: Staff) -> IssueOutcome:
        """A document a member of staff composed, for another to review."""
        asked = {**body, "review": {"required": True}}
        return self.acceptor.issue(asked, client=staff.client, composer=staff)

    def queue(self, *, staff: Staff, limit: int = 50, offset: int = 0) -> DocumentPage:
        """The documents waiting for review, oldest first."""
        with self.registry.transaction() as tx:
            total, rows = reviews.pending(tx, limit, offset)
            items = tuple(documents.info(r) for r in rows)
        return DocumentPage(items, total, limit, offset)

    def actions(self, document_id: str, *, staff: Staff) -> list[ReviewAction]:
        """Every review action on the document, oldest first."""
        with self.registry.transaction() as tx:
            if not documents.exists(tx, document_id):
                raise NotFound(f"no document {document_id}")
            return reviews.actions(tx, document_id)

    def draft(self, document_id: str, *, staff: Staff) -> dict[str, Any]:
        """The payload in review, to render as a draft."""
        with self.registry.transaction() as tx:
            row = documents.get(tx, document_id)
            if row is None:
                raise NotFound(f"no document {document_id}")
            return dict(row.payload)

    def approve(self, document_id: str, *, staff: Staff) -> DocumentInfo:
        """Approve: the document is queued, then numbered, archived and emailed by the
        issuer. Its composer may not approve it."""
        self.acceptor.check_queue_room()
        now = self.clock()
        # With a broker it is sent to it after the commit: the issuer must not meanwhile.
        due = now + (self.issuer.lease if self.issuer.dispatch else timedelta(0))
        with self.registry.transaction() as tx:
            row = self._pending(tx, document_id)
            if row.review_composer_staff == staff.id:
                raise Forbidden(
                    "you composed this document: another member of staff must approve it"
                )
            won = reviews.decide(
                tx, document_id, approve=True, actor=actor_of(staff.client, staff),
                staff_id=staff.id, now=now, reason=None, due=due,
            )  # fmt: skip
            if not won:
                raise self._decided(tx, document_id)
            info = documents.info(documents.get_one(tx, document_id))
        metrics.DOCUMENTS.labels(kind=info.kind, status="approved").inc()
        LOG.info("document.approved", extra={"document_id": document_id, "by": staff.email})
        self.issuer.send_if_brokered(document_id)
        return info

    def reject(self, document_id: str, *, staff: Staff, reason: str) -> DocumentInfo:
        """Reject with a reason: the document ends ``rejected``; its emails are not sent.
        The composer may reject (withdraw) their own document."""
        text = reason.strip()
        if not text:
            raise InvalidPayload(
                [Problem("reason", "say why the document is rejected", "required")]
            )
        if len(text) > REASON_MAX:
            raise InvalidPayload(
                [Problem("reason", f"must be at most {REASON_MAX} characters", "too_long")]
            )
        now = self.clock()
        with self.registry.transaction() as tx:
            self._pending(tx, document_id)
            won = reviews.decide(
                tx, document_id, approve=False, actor=actor_of(staff.client, staff),
                staff_id=staff.id, now=now, reason=text, due=None,
            )  # fmt: skip
            if not won:
                raise self._decided(tx, document_id)
            events.record(
                tx, "document.rejected", document_id=document_id, now=now,
                status=DocumentStatus.REJECTED, reason=text,
            )  # fmt: skip
            info = documents.info(documents.get_one(tx, document_id))
        metrics.DOCUMENTS.labels(kind=info.kind, status=DocumentStatus.REJECTED).inc()
        LOG.info("document.rejected", extra={"document_id": document_id, "by": staff.email})
        return info

    @staticmethod
    def _pending(tx: Tx, document_id: str) -> Document:
        row = documents.get(tx, document_id)
        if row is None:
            raise NotFound(f"no document {document_id}")
        if row.status != DocumentStatus.IN_REVIEW:
            if row.review_decided_by is not None:
                raise Conflict(_already(row))
            raise Conflict(f"document {document_id} is {row.status}, not in review")
        return row

    @staticmethod
    def _decided(tx: Tx, document_id: str) -> Conflict:
        """Another reviewer decided it between our read and our update."""
        tx.expire_all()
        return Conflict(_already(documents.get_one(tx, document_id)))


def _already(row: Document) -> str:
    return (
        f"document {row.id} was already {row.review_state} by {row.review_decided_by}; "
        "nothing was done"
    )
