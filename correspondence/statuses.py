"""The states a document, a delivery and a batch item go through, as the registry stores
them. They are :class:`enum.StrEnum` so that a stored ``"queued"`` and
``DocumentStatus.QUEUED`` compare equal, and the JSON the API writes stays a plain string.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentStatus(StrEnum):
    """A document: ``new`` (being recorded), ``in_review`` (validated, unnumbered, waiting
    for a member of staff to approve or reject it: docs/review.md), ``queued`` (accepted,
    waiting for the issuer), ``issuing`` (numbered, rendering), ``issued`` (archived),
    ``failed`` (for good, until retried or replaced) or ``rejected`` (in review, for good)."""

    NEW = "new"
    IN_REVIEW = "in_review"
    QUEUED = "queued"
    ISSUING = "issuing"
    ISSUED = "issued"
    FAILED = "failed"
    REJECTED = "rejected"


WAITING = (DocumentStatus.QUEUED, DocumentStatus.ISSUING)
"""The statuses of a document the issuer still owes."""


class DeliveryStatus(StrEnum):
    """An email delivery: ``queued``, ``sending`` (leased by a sender), ``sent`` or
    ``failed``."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class BatchItemStatus(StrEnum):
    """One item of a batch: ``refused`` at submission, else its document's status."""

    REFUSED = "refused"
    IN_REVIEW = "in_review"
    QUEUED = "queued"
    ISSUING = "issuing"
    ISSUED = "issued"
    FAILED = "failed"
    REJECTED = "rejected"


class IdempotencyState(StrEnum):
    """An Idempotency-Key: its request is ``in_progress`` or ``done``."""

    IN_PROGRESS = "in_progress"
    DONE = "done"
