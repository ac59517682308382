"""What the use cases answer with: plain frozen values, free of the registry's rows, so
that the API, the CLI and the tests read them without a database session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from correspondence.errors import Forbidden, Problem
from correspondence.scopes import SCOPES
from correspondence.statuses import DeliveryStatus, DocumentStatus


@dataclass(frozen=True)
class RowFields:
    """What a document's registry row reads from its validated payload (its kind, and the
    columns it is searched by): all a batch keeps of an item's validation, which a render
    process sends back cheaply where the payload's models would cost about what
    validating them does to unpickle."""

    kind: str
    locale: str
    jurisdiction: str
    policy_number: str
    policyholder_tax_id: str
    policyholder_name: str
    business_reference: str
    issue_date: date


@dataclass(frozen=True)
class ReviewInfo:
    """A document's review (docs/review.md): ``pending``, ``approved`` or ``rejected``;
    ``because`` is ``request`` or the settings' entry that required it."""

    state: str
    because: str
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class ReviewAction:
    """One review action: who did what, when, on the payload with this sha256."""

    action: str
    actor: str
    at: datetime
    reason: str | None
    payload_sha256: str


@dataclass(frozen=True)
class DocumentInfo:
    """What the registry knows about one document."""

    id: str
    kind: str
    locale: str
    jurisdiction: str
    status: DocumentStatus
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
    archive_key: str | None
    warnings: tuple[str, ...]
    template_version: str | None
    template_hash: str | None
    weasyprint_version: str | None
    pypdf_version: str | None
    created_at: datetime
    issued_at: datetime | None
    attempts: int
    last_error: str | None
    signed_by: str | None = None
    """The signer of the archived PDF (PAdES), if it is signed."""
    signed_at: datetime | None = None
    review: ReviewInfo | None = None
    """Its review, if it needed one."""


@dataclass(frozen=True)
class IssueOutcome:
    """The document a request resolved to, whether this request created it, and whether it
    is the replay of an earlier request with the same Idempotency-Key."""

    document: DocumentInfo
    created: bool
    replayed: bool = False


@dataclass(frozen=True)
class DocumentQuery:
    """Filters for listing documents; dates are issue dates, both ends included."""

    policy_number: str | None = None
    kind: str | None = None
    locale: str | None = None
    status: str | None = None
    policyholder: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class DocumentPage:
    """One page of a listing."""

    items: tuple[DocumentInfo, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Client:
    """An authenticated API client and its scopes."""

    id: int
    name: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        """Refuse unless this client holds ``scope`` (``documents:read:all`` includes
        ``documents:read``)."""
        if scope == "documents:read" and self.reads_all:
            return
        if scope not in self.scopes:
            raise Forbidden(f"this key lacks the {scope!r} scope")

    @property
    def reads_all(self) -> bool:
        """Whether this client reads every document, not only its own."""
        return "documents:read:all" in self.scopes

    @property
    def owner(self) -> int | None:
        """The ``issued_by`` a listing is limited to; ``None`` when it reads all."""
        return None if self.reads_all else self.id

    def may_read(self, issued_by: int | None) -> bool:
        """Whether this client may see a document (or batch) that ``issued_by`` asked for."""
        return self.reads_all or (issued_by is not None and issued_by == self.id)


@dataclass(frozen=True)
class Staff:
    """A signed-in member of staff; ``epoch`` is the account's session epoch then, and
    ``locale`` the language of the staff UI for them (one of :data:`STAFF_LANGUAGES`)."""

    id: int
    email: str
    epoch: int = 0
    locale: str = "en"

    @property
    def client(self) -> Client:
        """Staff act through the UI with every scope, under their own name."""
        return Client(id=0, name=f"staff:{self.email}", scopes=frozenset(SCOPES))


@dataclass(frozen=True)
class ReissueReport:
    """Whether re-rendering a stored document reproduces its archived bytes."""

    document_id: str
    identical: bool
    stored_sha256: str
    rendered_sha256: str
    stored_template_hash: str | None
    current_template_hash: str


@dataclass(frozen=True)
class Attempt:
    """What one attempt at an accepted document came to: ``issued``; ``done`` (nothing
    left to do: issued or failed before); ``busy`` (another worker holds it now);
    ``retry`` after ``delay`` seconds (a dependency is down); ``failed`` for good."""

    outcome: Literal["issued", "done", "busy", "retry", "failed"]
    delay: float = 0.0


@dataclass(frozen=True)
class Recipients:
    """Validated addresses."""

    to: tuple[str, ...]
    cc: tuple[str, ...]


@dataclass(frozen=True)
class AttemptInfo:
    """One try at sending."""

    at: datetime
    outcome: str
    detail: str


@dataclass(frozen=True)
class DeliveryInfo:
    """A delivery and its attempts."""

    id: str
    document_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    status: DeliveryStatus
    attempts: tuple[AttemptInfo, ...]
    last_error: str | None
    message_id: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class BatchProgress:
    """Counts per status and the rate so far."""

    id: str
    total: int
    counts: dict[str, int]
    created_at: datetime
    rate_per_second: float
    done: bool


@dataclass(frozen=True)
class BatchResult:
    """One item: the document it became, or the problems that refused it."""

    position: int
    document: DocumentInfo | None
    problems: tuple[Problem, ...]
