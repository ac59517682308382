"""The API's contract: response models, the request body of each kind, the error envelope.

Every schema here is what the server really sends or accepts; the OpenAPI document and
``GET /v1/kinds`` are built from them (one source for both).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from correspondence.batches import BatchProgress, BatchResult
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS
from correspondence.results import DeliveryInfo
from correspondence.service import DocumentInfo
from correspondence.signing import SignatureCheck

Locale = Literal["es-MX", "es-ES", "en-GB", "en-US"]
assert set(Locale.__args__) == set(SUPPORTED_LOCALES)  # type: ignore[attr-defined]
Status = Literal["new", "in_review", "queued", "issuing", "issued", "failed", "rejected"]
KindName = Literal[
    "premium_invoice",
    "credit_limit_change_notice",
    "credit_limit_decision",
    "claim_filing_guide",
    "claim_decision",
    "collection_update",
    "renewal_pack",
]
assert set(KindName.__args__) == set(KINDS)  # type: ignore[attr-defined]

MAX_RECIPIENTS = 50
"""The schema's bound on recipients (the server's configured limit may be lower)."""


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite gives back naive datetimes; they were stored in UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC)


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with ``Z``: the one form of every timestamp the API sends."""
    if moment is None:
        return None
    return utc(moment).isoformat().replace("+00:00", "Z")


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------


class ErrorItem(Out):
    error: str = Field(description="a stable code: `invalid`, `not_found`, `conflict` …")
    field: str = Field(description="the field, header or parameter at fault ('' if none)")
    message: str


class Errors(Out):
    """Every error the server sends, whatever its status."""

    errors: list[ErrorItem]


# --- documents --------------------------------------------------------------------------------


class DocumentLinks(Out):
    self: str
    pdf: str


class Review(Out):
    """A document's review before issue (docs/review.md)."""

    required: bool = Field(description="whether it waits (or waited) for review")
    state: Literal["pending", "approved", "rejected"] | None = Field(
        description="null when no review was required"
    )
    because: str | None = Field(
        description="`request` (the request asked) or `settings:<entry>` (the settings' "
        "entry that required it, e.g. `settings:credit_limit_change_notice:reduction`)"
    )
    requested_by: str | None = Field(description="`api_key:<id>:<name>` or `staff:<email>`")
    decided_by: str | None = Field(description="`staff:<email>`, once decided")
    decided_at: str | None = Field(description="RFC 3339, UTC, ending in Z")
    reason: str | None = Field(description="why it was rejected")


class Document(Out):
    """A document in the registry: its identity, status and, once issued, its PDF's hash."""

    id: str
    kind: KindName
    locale: Locale
    jurisdiction: str
    status: Status
    number: str | None
    policy_number: str
    policyholder_name: str
    policyholder_tax_id: str
    business_reference: str
    version: int
    replaces_id: str | None
    issue_date: date
    sha256: str | None
    size: int | None
    pages: int | None
    archive_key: str | None = Field(description="the PDF's key in the archive (not a path)")
    warnings: list[str]
    template_version: str | None
    template_hash: str | None
    weasyprint_version: str | None
    pypdf_version: str | None
    created_at: str = Field(description="RFC 3339, UTC, ending in Z")
    issued_at: str | None = Field(description="RFC 3339, UTC, ending in Z")
    attempts: int
    last_error: str | None
    signed_by: str | None = Field(
        default=None, description="the signer of the PDF (PAdES), when it is signed"
    )
    signed_at: str | None = Field(
        default=None, description="the time the signature states: RFC 3339, UTC, ending in Z"
    )
    review: Review = Field(description="its review before issue (`required`: false if none)")
    links: DocumentLinks

    @classmethod
    def of(cls, info: DocumentInfo) -> Document:
        fields = asdict(info)
        review = info.review
        fields.update(
            review=Review(
                required=False,
                state=None,
                because=None,
                requested_by=None,
                decided_by=None,
                decided_at=None,
                reason=None,
            )
            if review is None
            else Review(
                required=True,
                state=review.state,
                because=review.because,
                requested_by=review.requested_by,
                decided_by=review.decided_by,
                decided_at=rfc3339(review.decided_at),
                reason=review.reason,
            ),
            warnings=list(info.warnings),
            created_at=rfc3339(info.created_at),
            issued_at=rfc3339(info.issued_at),
            signed_at=rfc3339(info.signed_at),
            links=DocumentLinks(
                self=f"/v1/documents/{info.id}", pdf=f"/v1/documents/{info.id}/pdf"
            ),
        )
        return cls.model_validate(fields)


class PageLinks(Out):
    next: str | None = None


class DocumentPage(Out):
    items: list[Document]
    total: int
    limit: int
    offset: int
    links: PageLinks


class SignatureReport(Out):
    """The archived PDF's signature, validated as an outside reader would."""

    signed: bool = Field(description="the PDF carries a signature")
    valid: bool = Field(
        description="intact, cryptographically valid, by a certificate that chains to our "
        "configured roots, and nothing added after it"
    )
    intact: bool = Field(description="the signed bytes are unchanged")
    trusted: bool = Field(description="the signer's certificate chains to our roots")
    signer: str | None
    signed_at: str | None = Field(description="the time the signature states (RFC 3339)")
    timestamped_at: str | None = Field(
        description="the time a timestamp authority vouched for (PAdES B-T), RFC 3339"
    )
    level: str | None = Field(description="PAdES baseline level: B-B or B-T")
    problem: str | None = Field(description="why it is not valid")

    @classmethod
    def of(cls, check: SignatureCheck) -> SignatureReport:
        return cls(
            signed=check.signed,
            valid=check.ok,
            intact=check.intact,
            trusted=check.trusted,
            signer=check.signer,
            signed_at=rfc3339(check.signed_at),
            timestamped_at=rfc3339(check.timestamped_at),
            level=check.level,
            problem=check.problem,
        )


class Verification(Out):
    issued: bool = Field(description="we issued a PDF with exactly these bytes (our registry)")
    document: Document | None
    signature: SignatureReport | None = Field(
        default=None, description="the signature of that PDF, when we issued one"
    )


# --- deliveries -------------------------------------------------------------------------------


class Recipients(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS, description="email addresses")
    cc: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)


class DeliveryRequest(BaseModel):
    """Email a document: `{"email": {"to": [...], "cc": [...]}}`."""

    model_config = ConfigDict(extra="forbid", title="DeliveryRequest")
    email: Recipients


_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:'\"]+/)+[^\s/:'\"]*")


def without_paths(text: str) -> str:
    """``text`` with any server file path replaced: no response names one."""
    return _PATH.sub("<path>", text)


class DeliveryAttempt(Out):
    at: str = Field(description="RFC 3339, UTC, ending in Z")
    outcome: str
    detail: str


class Delivery(Out):
    id: str
    document_id: str
    to: list[str]
    cc: list[str]
    status: Literal["queued", "sending", "sent", "failed"]
    message_id: str
    last_error: str | None
    created_at: str = Field(description="RFC 3339, UTC, ending in Z")
    sent_at: str | None
    next_attempt_at: str | None
    attempts: list[DeliveryAttempt]

    @classmethod
    def of(cls, info: DeliveryInfo) -> Delivery:
        return cls(
            id=info.id,
            document_id=info.document_id,
            to=list(info.to),
            cc=list(info.cc),
            status=info.status,
            message_id=info.message_id,
            last_error=without_paths(info.last_error) if info.last_error else None,
            created_at=rfc3339(info.created_at) or "",
            sent_at=rfc3339(info.sent_at),
            next_attempt_at=rfc3339(info.next_attempt_at),
            attempts=[
                DeliveryAttempt(
                    at=rfc3339(a.at) or "", outcome=a.outcome, detail=without_paths(a.detail)
                )
                for a in info.attempts
            ],
        )


# --- batches ----------------------------------------------------------------------------------


class BatchLinks(Out):
    self: str
    documents: str


class Batch(Out):
    id: str
    total: int
    counts: dict[str, int]
    rate_per_second: float
    done: bool
    created_at: str = Field(description="RFC 3339, UTC, ending in Z")
    links: BatchLinks

    @classmethod
    def of(cls, progress: BatchProgress) -> Batch:
        return cls(
            id=progress.id,
            total=progress.total,
            counts=progress.counts,
            rate_per_second=progress.rate_per_second,
            done=progress.done,
            created_at=rfc3339(progress.created_at) or "",
            links=BatchLinks(
                self=f"/v1/batches/{progress.id}", documents=f"/v1/batches/{progress.id}/documents"
            ),
        )


class BatchItem(Out):
    position: int
    document: Document | None
    errors: list[ErrorItem]

    @classmethod
    def of(cls, result: BatchResult) -> BatchItem:
        return cls(
            position=result.position,
            document=Document.of(result.document) if result.document else None,
            errors=[
                ErrorItem(error=p.error, field=p.field, message=p.message) for p in result.problems
            ],
        )


# --- kinds ----------------------------------------------------------------------------------


class KindOut(Out):
    name: KindName
    schema_: dict[str, Any] = Field(
        alias="schema", serialization_alias="schema", description="the request body's JSON Schema"
    )
    sample: dict[str, Any]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
