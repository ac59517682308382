"""The use cases: issue (now or later), preview, read, list, verify, re-check; API keys.

The service composes the engine, the registry and the archive. It never speaks HTTP.

Issuing a document, synchronously:

1. validate the payload and compute its figures (a bad payload is refused before anything
   is reserved);
2. return the existing document if ``(kind, document.our_reference)`` was issued before,
   unless the request says ``"reissue": true`` (then a new version links to the old one);
3. take a renderer (all busy: ``Unavailable``, 503, nothing reserved);
4. in one short transaction: insert the registry row as ``issuing`` and give it the next
   number of its series (or record the number upstream stated);
5. render and write the PDF and the payload to the archive (write-once), with no lock
   held, so that invoices of one series render side by side;
6. record the document as issued.

If the archive cannot be reached in step 5, the document keeps its number and is issued
by the issuer once the archive is back (the API answers 202 with its Location): nothing
accepted is lost and no number is skipped. An asynchronous request (``accept``) is recorded
as ``queued`` and goes through steps 4 to 6 in :meth:`Service.issue_accepted`, in-process
or on Celery workers, retried with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import InitVar, dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version as package_version
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Engine as Database
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from correspondence import links
from correspondence.archive import Archive, ArchiveConflict, document_key
from correspondence.batches import Batches
from correspondence.config import Settings
from correspondence.engine import RenderedDocument
from correspondence.errors import (
    Conflict,
    DocumentFailed,
    Forbidden,
    IdempotencyMismatch,
    InvalidPayload,
    NotFound,
    Problem,
    RenderError,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import (
    KINDS,
    SEQUENCE_MAX,
    STATED_AHEAD_MAX,
    Kind,
    Validated,
    validate,
)
from correspondence.mail import Mailer
from correspondence.outbox import DeliveryInfo, Outbox, Recipients, parse_recipients
from correspondence.registry import sessions
from correspondence.registry.models import (
    ApiKey,
    Delivery,
    Document,
    IdempotencyKey,
    NumberSeries,
    SignInThrottle,
    StaffUser,
)
from correspondence.renderers import EnginePool, Renderers
from correspondence.scopes import SCOPES
from correspondence.templating import ASSET_ORIGIN
from correspondence.workers import build_renderers

Clock = Callable[[], datetime]
LOG = logging.getLogger(__name__)

REQUEST_OPTIONS = ("reissue", "deliver")
WAITING = ("queued", "issuing")
IDEMPOTENCY_STALE = timedelta(minutes=10)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentInfo:
    """What the registry knows about one document."""

    id: str
    kind: str
    locale: str
    jurisdiction: str
    status: str
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

    @classmethod
    def of(cls, row: Document) -> DocumentInfo:
        """From a registry row."""
        return cls(
            id=row.id,
            kind=row.kind,
            locale=row.locale,
            jurisdiction=row.jurisdiction,
            status=row.status,
            number=row.number,
            policy_number=row.policy_number,
            policyholder_name=row.policyholder_name,
            policyholder_tax_id=row.policyholder_tax_id,
            business_reference=row.business_reference,
            version=row.version,
            replaces_id=row.replaces_id,
            issue_date=row.issue_date,
            sha256=row.sha256,
            size=row.size,
            pages=row.pages,
            archive_key=row.archive_key,
            warnings=tuple(row.warnings or ()),
            template_version=row.template_version,
            template_hash=row.template_hash,
            weasyprint_version=row.weasyprint_version,
            pypdf_version=row.pypdf_version,
            created_at=row.created_at,
            issued_at=row.issued_at,
            attempts=row.attempts,
            last_error=row.last_error,
        )


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

    def may_read(self, issued_by: int | None) -> bool:
        """Whether this client may see a document (or batch) that ``issued_by`` asked for."""
        return self.reads_all or (issued_by is not None and issued_by == self.id)


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
class Prepared:
    """A request validated for later: what :meth:`Service.accept_all` records."""

    validated: Validated
    payload: dict[str, Any]
    reissue: bool
    recipients: Recipients | None


@dataclass(frozen=True)
class _Artefact:
    rendered: RenderedDocument
    sha256: str
    archive_key: str
    template_version: str
    template_hash: str


# --- helpers --------------------------------------------------------------------------------


def canonical_hash(body: Mapping[str, Any]) -> str:
    """sha256 of a JSON body with sorted keys: the identity of a request."""
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def split_request(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate request options (``reissue``) from the document payload."""
    payload = {k: v for k, v in body.items() if k not in REQUEST_OPTIONS}
    options = {k: body[k] for k in REQUEST_OPTIONS if k in body}
    if "reissue" in options and not isinstance(options["reissue"], bool):
        raise InvalidPayload([Problem("reissue", "must be true or false", "type")])
    return payload, options


# --- the service ------------------------------------------------------------------------------


@dataclass
class Service:
    """The use cases of correspondence."""

    settings: Settings
    database: Database
    archive: Archive
    mailer: Mailer
    secret: bytes
    clock: Clock
    dispatch: Callable[[str], None] | None = None
    render_pool: InitVar[Renderers | None] = None
    engines: EnginePool = field(init=False)
    renderers: Renderers = field(init=False)
    outbox: Outbox = field(init=False)
    batches: Batches = field(init=False)

    def __post_init__(self, render_pool: Renderers | None) -> None:
        self._sessions = sessions(self.database)
        self.engines = EnginePool(self.settings, size=os.cpu_count() or 1)
        self.renderers = render_pool or build_renderers(self.settings)
        self.outbox = Outbox(
            settings=self.settings,
            transaction=self._transaction,
            engines=self.engines,
            archive=self.archive,
            mailer=self.mailer,
            secret=self.secret,
            clock=self.clock,
        )
        self.batches = Batches(self, self._transaction, self.clock)
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._closed = threading.Event()
        self._versions = {
            "weasyprint": package_version("weasyprint"),
            "pypdf": package_version("pypdf"),
        }

    def close(self) -> None:
        """Stop the render workers and close the broker connections."""
        self._closed.set()
        self.renderers.close()
        close = getattr(self.dispatch, "close", None)
        if close is not None:
            close()

    # -- database access ----------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as error:
            raise Unavailable(f"database: {error.orig or error}") from error
        except DataError as error:  # a value the database cannot store; rolled back
            raise InvalidPayload(
                [Problem("", f"a value cannot be stored: {error.orig or error}", "unstorable")]
            ) from None

    def check_ready(self) -> dict[str, str]:
        """Reach the database and the archive, and find a live renderer; raise
        :class:`Unavailable` if any of them fails."""
        with self._transaction() as session:
            session.execute(text("SELECT 1"))
        self.archive.check()
        self.renderers.check()
        return {"database": "ok", "archive": "ok", "renderers": "ok"}

    # -- issuing --------------------------------------------------------------------------

    def issue(
        self,
        body: Mapping[str, Any],
        *,
        client: Client,
        idempotency_key: str | None = None,
        asynchronous: bool = False,
    ) -> IssueOutcome:
        """Issue the document ``body`` asks for (or accept it for later, ``asynchronous``)."""
        client.require("documents:write")
        payload, options = split_request(body)
        if "deliver" in options:
            client.require("deliveries:write")
        validated = validate(payload)  # refuse bad input before reserving anything
        recipients = (
            parse_recipients(options["deliver"], limit=self.settings.max_recipients_per_delivery)
            if "deliver" in options
            else None
        )
        if idempotency_key is None:
            return self._issue_or_accept(
                client, validated, payload, options, asynchronous, None, recipients
            )
        request_hash = canonical_hash({"body": body, "async": asynchronous})
        existing = self._claim_idempotency(client, idempotency_key, request_hash)
        if existing is not None:
            return IssueOutcome(existing, created=False, replayed=True)
        try:
            return self._issue_or_accept(
                client,
                validated,
                payload,
                options,
                asynchronous,
                (client.id, idempotency_key),
                recipients,
            )
        except BaseException:
            self._release_idempotency(client.id, idempotency_key)
            raise

    def _claim_idempotency(
        self, client: Client, key: str, request_hash: str
    ) -> DocumentInfo | None:
        now = self.clock()
        try:
            with self._transaction() as session:
                row = session.get(IdempotencyKey, (client.id, key))
                if row is None:
                    session.add(
                        IdempotencyKey(
                            api_key_id=client.id,
                            key=key,
                            request_hash=request_hash,
                            state="in_progress",
                            created_at=now,
                        )
                    )
                    return None
                if row.request_hash != request_hash:
                    raise IdempotencyMismatch(
                        [
                            Problem(
                                "Idempotency-Key",
                                "was already used with a different request body",
                                "idempotency_mismatch",
                            )
                        ]
                    )
                if row.state == "in_progress":
                    if _aware(row.created_at) > now - IDEMPOTENCY_STALE:
                        raise Conflict("a request with this Idempotency-Key is in progress")
                    row.created_at = now  # abandoned by a crashed request: take it over
                    return None
                assert row.document_id is not None
                return DocumentInfo.of(session.get_one(Document, row.document_id))
        except IntegrityError:
            raise Conflict("a request with this Idempotency-Key is in progress") from None

    def _release_idempotency(self, client_id: int, key: str) -> None:
        with self._transaction() as session:
            row = session.get(IdempotencyKey, (client_id, key))
            if row is not None and row.state == "in_progress":
                session.delete(row)

    def _issue_or_accept(
        self,
        client: Client,
        validated: Validated,
        payload: dict[str, Any],
        options: Mapping[str, Any],
        asynchronous: bool,
        idempotency: tuple[int, str] | None,
        recipients: Recipients | None = None,
    ) -> IssueOutcome:
        doc = validated.doc
        kind = validated.kind
        reference = doc.document.our_reference
        with self._transaction() as session:
            latest = session.scalars(
                select(Document)
                .where(Document.kind == kind.name, Document.business_reference == reference)
                .order_by(Document.version.desc())
                .limit(1)
            ).first()
            if latest is not None and not client.may_read(latest.issued_by):
                # Neither its metadata nor a new version of it: another client's document.
                raise Conflict(
                    f"{kind.name} {reference} was issued for another client; "
                    "this key may not read it"
                )
            if latest is not None and not options.get("reissue", False):
                self._finish_idempotency(session, idempotency, latest.id)
                return IssueOutcome(DocumentInfo.of(latest), created=False)
        if latest is not None and latest.status == "failed":
            return self._replace_failed(
                latest.id, validated, payload, asynchronous, idempotency, recipients
            )
        version = latest.version + 1 if latest else 1
        row = self._new_row(validated, payload, version, latest.id if latest else None)
        row.issued_by = client.id
        if asynchronous:
            self._check_queue_room()
            try:
                with self._transaction() as session:
                    row.status = "queued"
                    row.next_attempt_at = self.clock()
                    session.add(row)
                    session.flush()
                    self._finish_idempotency(session, idempotency, row.id)
                    if recipients is not None:
                        self.outbox.enqueue(session, row.id, recipients)
            except IntegrityError:
                raise Conflict(f"{kind.name} {reference} version {version} exists") from None
            if self.dispatch is not None:
                self._send(row.id)
            return IssueOutcome(DocumentInfo.of(row), created=True)
        # Take a renderer first: when all are busy the request is refused (503) before a
        # number is taken. Then the same three steps as an accepted document.
        with self.renderers.slots.hold():
            try:
                with self._transaction() as session:
                    row.status = "issuing"
                    row.next_attempt_at = self.clock() + self._lease
                    session.add(row)
                    session.flush()
                    numbered = self._number(session, row, kind, validated)
                    self._finish_idempotency(session, idempotency, row.id)
                    if recipients is not None:
                        self.outbox.enqueue(session, row.id, recipients)
            except IntegrityError as error:
                raise Conflict(
                    f"{kind.name} {reference} was issued concurrently: {error.orig}"
                ) from None
            attempt = self._finish(row.id, numbered)
        if attempt.outcome == "retry" and self.dispatch is not None:
            self._send(row.id)
        with self._transaction() as session:
            info = DocumentInfo.of(session.get_one(Document, row.id))
        if attempt.outcome == "failed":
            raise DocumentFailed(info.id, info.last_error or "rendering failed")
        # "retry": the archive is down; the document keeps its number and is issued when
        # it is back (the API answers 202 with its Location).
        return IssueOutcome(info, created=True)

    def _replace_failed(
        self,
        document_id: str,
        validated: Validated,
        payload: dict[str, Any],
        asynchronous: bool,
        idempotency: tuple[int, str] | None,
        recipients: Recipients | None,
    ) -> IssueOutcome:
        """``"reissue": true`` for a document that failed and was never issued: the
        corrected payload takes its place (same id, version and number, so the series
        keeps no gap) and is issued as a new request would be."""
        kind = validated.kind
        with nullcontext() if asynchronous else self.renderers.slots.hold():
            with self._transaction() as session:
                row = self._locked(session, document_id, skip=False)
                if row is None or row.status != "failed":
                    raise Conflict(f"document {document_id} is no longer failed; send it again")
                self._adopt(row, validated, payload, "queued" if asynchronous else "issuing")
                numbered = self._number(session, row, kind)
                self._finish_idempotency(session, idempotency, row.id)
                if recipients is not None:
                    self.outbox.enqueue(session, row.id, recipients)
                info = DocumentInfo.of(row)
            if asynchronous:
                if self.dispatch is not None:
                    self._send(document_id)
                return IssueOutcome(info, created=True)
            attempt = self._finish(document_id, numbered)
        with self._transaction() as session:
            info = DocumentInfo.of(session.get_one(Document, document_id))
        if attempt.outcome == "failed":
            raise DocumentFailed(info.id, info.last_error or "rendering failed")
        if attempt.outcome == "retry" and self.dispatch is not None:
            self._send(document_id)
        return IssueOutcome(info, created=True)

    def _adopt(
        self, row: Document, validated: Validated, payload: dict[str, Any], status: str
    ) -> None:
        """Give the failed ``row`` the corrected ``payload``; it keeps its number (a
        payload that states another one, or moves it to another series, is refused)."""
        kind = validated.kind
        request = kind.numbering(validated.doc)
        if request is not None and row.number is not None:
            if request.stated is None:
                try:
                    request.sequence_of(row.number)
                except ValueError:
                    raise Conflict(
                        f"document {row.id} holds number {row.number}; the corrected "
                        "payload must keep its series and year"
                    ) from None
                payload = kind.with_number(payload, row.number)
            elif request.stated != row.number:
                raise Conflict(
                    f"document {row.id} holds number {row.number}; the corrected "
                    f"payload states {request.stated}: state {row.number} or none"
                )
        doc = validated.doc
        row.payload = payload
        row.policy_number = doc.policy.number
        row.policyholder_tax_id = doc.policyholder.tax_id
        row.policyholder_name = doc.policyholder.legal_name
        row.issue_date = doc.document.issue_date
        row.locale = doc.document.locale
        row.status = status
        row.next_attempt_at = self.clock() + (timedelta(0) if status == "queued" else self._lease)

    def prepare(self, body: Mapping[str, Any]) -> Prepared:
        """Validate a request for later: the payload, its options and its recipients."""
        payload, options = split_request(body)
        validated = validate(payload)
        recipients = (
            parse_recipients(options["deliver"], limit=self.settings.max_recipients_per_delivery)
            if "deliver" in options
            else None
        )
        return Prepared(validated, payload, bool(options.get("reissue", False)), recipients)

    def accept_all(
        self, session: Session, items: Sequence[Prepared | None], *, client: Client
    ) -> tuple[list[str | Conflict | None], list[str]]:
        """Record every prepared item as queued inside the caller's transaction (a batch:
        all of them or none); an item already issued under its business reference
        resolves to that document. ``None`` items are skipped (refused by the caller).
        Returns what each item became, and the documents queued now."""
        waiting = session.scalar(
            select(func.count()).select_from(Document).where(Document.status.in_(WAITING))
        )
        accepted = sum(item is not None for item in items)
        if (waiting or 0) + accepted > self.settings.max_queued_documents:
            raise Unavailable(f"{waiting} documents are waiting to be issued; retry later")
        results: list[str | Conflict | None] = []
        queued: list[str] = []
        for item in items:
            if item is None:
                results.append(None)
                continue
            kind, reference = item.validated.kind.name, item.validated.doc.document.our_reference
            latest = session.scalars(
                select(Document)
                .where(Document.kind == kind, Document.business_reference == reference)
                .order_by(Document.version.desc())
                .limit(1)
            ).first()
            if latest is not None and not client.may_read(latest.issued_by):
                results.append(
                    Conflict(f"{kind} {reference} was issued for another client; "
                             "this key may not read it")
                )  # fmt: skip
                continue
            if latest is not None and (not item.reissue or latest.status in WAITING):
                results.append(latest.id)  # already there (or taken by this batch)
                continue
            if latest is not None and latest.status == "failed":
                try:
                    self._adopt(latest, item.validated, item.payload, "queued")
                except Conflict as error:
                    results.append(error)
                    continue
                row = latest
            else:
                version = latest.version + 1 if latest else 1
                row = self._new_row(
                    item.validated, item.payload, version, latest.id if latest else None
                )
                row.issued_by = client.id
                row.status = "queued"
                row.next_attempt_at = self.clock()
                session.add(row)
                session.flush()
            if item.recipients is not None:
                self.outbox.enqueue(session, row.id, item.recipients)
            results.append(row.id)
            queued.append(row.id)
        return results, queued

    def dispatch_queued(self, document_ids: Sequence[str]) -> None:
        """With a broker, hand newly queued documents to it (after their commit)."""
        if self.dispatch is not None:
            for document_id in document_ids:
                self._send(document_id)

    def _check_queue_room(self) -> None:
        with self._transaction() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Document)
                .where(Document.status.in_(("queued", "issuing")))
            )
        if (waiting or 0) >= self.settings.max_queued_documents:
            raise Unavailable(f"{waiting} documents are waiting to be issued; retry later")

    def _new_row(
        self, validated: Validated, payload: dict[str, Any], version: int, replaces: str | None
    ) -> Document:
        doc = validated.doc
        return Document(
            id=str(uuid.uuid4()),
            kind=validated.kind.name,
            locale=doc.document.locale,
            jurisdiction=doc.document.jurisdiction,
            policy_number=doc.policy.number,
            policyholder_tax_id=doc.policyholder.tax_id,
            policyholder_name=doc.policyholder.legal_name,
            business_reference=doc.document.our_reference,
            version=version,
            replaces_id=replaces,
            issue_date=doc.document.issue_date,
            status="new",
            payload=payload,
            warnings=[],
            attempts=0,
            created_at=self.clock(),
        )

    @staticmethod
    def _finish_idempotency(
        session: Session, idempotency: tuple[int, str] | None, document_id: str
    ) -> None:
        if idempotency is None:
            return
        row = session.get(IdempotencyKey, idempotency)
        if row is not None:
            row.state = "done"
            row.document_id = document_id

    def _number(
        self, session: Session, row: Document, kind: Kind, validated: Validated | None = None
    ) -> Validated:
        """Give ``row`` its number (once), and return the payload as it will be printed,
        validated (``validated``, the payload as it stands, saves validating it again)."""
        current = validated or validate(row.payload)
        if row.number is None and (request := kind.numbering(current.doc)) is not None:
            number = self._allocate(session, request)
            row.payload = kind.with_number(row.payload, number)
            row.number = number
            return validate(row.payload)
        return current

    def _record(self, row: Document, artefact: _Artefact) -> None:
        row.status = "issued"
        row.sha256 = artefact.sha256
        row.size = len(artefact.rendered.pdf)
        row.pages = artefact.rendered.pages
        row.archive_key = artefact.archive_key
        row.warnings = list(artefact.rendered.warnings)
        row.template_version = artefact.template_version
        row.template_hash = artefact.template_hash
        row.weasyprint_version = self._versions["weasyprint"]
        row.pypdf_version = self._versions["pypdf"]
        row.issued_at = self.clock()
        row.next_attempt_at = None
        row.last_error = None

    def _allocate(self, session: Session, request: Any) -> str:
        """Lock the series row and take the next number, or record the stated one."""
        insert = pg_insert if self.database.dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(NumberSeries)
            .values(series=request.series, year=request.year, last=0)
            .on_conflict_do_nothing()
        )
        series = (NumberSeries.series == request.series, NumberSeries.year == request.year)
        if request.stated is None:
            last = session.execute(
                update(NumberSeries)
                .where(*series)
                .values(last=NumberSeries.last + 1)
                .returning(NumberSeries.last)
            ).scalar_one()
            if last > SEQUENCE_MAX:  # the transaction rolls back: the series stays as it was
                raise InvalidPayload(
                    [
                        Problem(
                            request.field.replace("number", "series"),
                            f"series {request.series} has no number left for {request.year}: "
                            f"{request.format(SEQUENCE_MAX)} was the last",
                            "series_exhausted",
                        )
                    ]
                )
            number: str = request.format(last)
            return number
        sequence = request.sequence_of(request.stated)
        current = session.execute(  # take the series lock before checking anything
            update(NumberSeries)
            .where(*series)
            .values(last=NumberSeries.last)
            .returning(NumberSeries.last)
        ).scalar_one()
        if sequence > current + STATED_AHEAD_MAX:
            highest = request.format(min(current + STATED_AHEAD_MAX, SEQUENCE_MAX))
            raise InvalidPayload(
                [
                    Problem(
                        request.field,
                        f"{request.stated} is beyond the range series {request.series} can take "
                        f"now: a stated number runs at most {STATED_AHEAD_MAX} ahead of the "
                        f"series' last number, so up to {highest}",
                        "number_range",
                    )
                ]
            )
        session.execute(update(NumberSeries).where(*series).values(last=max(current, sequence)))
        taken = session.scalar(select(Document.id).where(Document.number == request.stated))
        if taken is not None:
            raise Conflict(f"invoice number {request.stated} was already issued ({taken})")
        stated: str = request.stated
        return stated

    def _render_and_archive(self, validated: Validated, document_id: str) -> _Artefact:
        result = self.renderers.render(validated)
        rendered = result.document
        template_version, template_hash = result.template_version, result.template_hash
        sha = hashlib.sha256(rendered.pdf).hexdigest()
        doc = validated.doc
        base = document_key(
            jurisdiction=doc.document.jurisdiction,
            policy_number=doc.policy.number,
            kind=validated.kind.name,
            issue_date=doc.document.issue_date,
            document_id=document_id,
        )
        metadata = {
            "sha256": sha,
            "kind": validated.kind.name,
            "locale": doc.document.locale,
            "document-id": document_id,
        }
        self._put_once(f"{base}.pdf", rendered.pdf, "application/pdf", metadata)
        payload = doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode("utf-8")
        self._put_once(f"{base}.json", payload, "application/json", metadata)
        return _Artefact(rendered, sha, f"{base}.pdf", template_version, template_hash)

    def _put_once(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]
    ) -> None:
        try:
            self.archive.put(key=key, data=data, content_type=content_type, metadata=metadata)
        except ArchiveConflict:
            # A retry after a crash between the archive write and the commit: accept the
            # object only if it holds exactly these bytes.
            if self.archive.get(key=key) != data:
                raise RenderError(f"archive already holds different bytes at {key}") from None

    # -- asynchronous completion -------------------------------------------------------------

    def issue_accepted(self, document_id: str) -> Attempt:
        """Issue one accepted document: the one code path of the in-process issuer and of
        the Celery workers.

        1. Lock the row (skipping it if another worker holds it), give it its number if it
           has none, and mark it ``issuing``; commit. The number now belongs to this
           document for good, so the series lock is held for milliseconds, not a render.
        2. Render and archive, with no lock held. Rendering is deterministic and the archive
           is write-once, so a duplicate delivery that gets here too writes the same bytes.
        3. Lock the row again and record it as issued, unless another attempt already did.

        A worker that dies in step 1 rolls back; in step 2 or 3 it leaves an ``issuing``
        row that the next attempt completes with the same number. The registry, not the
        queue, decides: a document is issued at most once."""
        try:
            reserved = self._reserve(document_id)
        except (InvalidPayload, Conflict) as error:
            return self._fail(document_id, str(error))
        except Unavailable:
            raise
        except Exception as error:  # the stored payload cannot be numbered: record why
            return self._fail(document_id, f"{type(error).__name__}: {error}"[:2000])
        if isinstance(reserved, Attempt):
            return reserved
        return self._finish(document_id, reserved)

    def _finish(self, document_id: str, validated: Validated) -> Attempt:
        """Steps 2 and 3: render and archive with no lock held, then record."""
        try:
            with self._holding(document_id):
                artefact = self._render_and_archive(validated, document_id)
        except Unavailable as error:
            return self._reschedule(document_id, str(error))
        except (InvalidPayload, Conflict, RenderError) as error:
            return self._fail(document_id, str(error))
        except Exception as error:  # a failure the payload causes: record it, never loop
            return self._fail(document_id, f"{type(error).__name__}: {error}"[:2000])
        with self._transaction() as session:
            row = self._locked(session, document_id, skip=False)
            if row is None or row.status not in WAITING:
                return Attempt("done")
            self._record(row, artefact)
        return Attempt("issued")

    def _reserve(self, document_id: str) -> Validated | Attempt:
        with self._transaction() as session:
            row = self._locked(session, document_id, skip=True)
            if row is None:
                exists = session.scalar(select(Document.id).where(Document.id == document_id))
                return Attempt("busy" if exists else "done")
            if row.status not in WAITING:
                return Attempt("done")
            validated = self._number(session, row, KINDS[row.kind])
            row.status = "issuing"
            row.next_attempt_at = self.clock() + self._lease
            return validated

    @staticmethod
    def _visible(session: Session, document_id: str, client: Client) -> Document:
        """The document, if this client may see it; otherwise it does not exist for them
        (404, the same answer as for an id that is nobody's)."""
        row = session.get(Document, document_id)
        if row is None or not client.may_read(row.issued_by):
            raise NotFound(f"no document {document_id}")
        return row

    @staticmethod
    def _locked(session: Session, document_id: str, *, skip: bool) -> Document | None:
        query = select(Document).where(Document.id == document_id)
        found: Document | None = session.scalars(query.with_for_update(skip_locked=skip)).first()
        return found

    @property
    def _lease(self) -> timedelta:
        """How long a taken document waits before someone else may take it: a short
        render lease in-process, renewed while the render lasts (so a process killed in
        the middle of one leaves its documents to the next within that time, not after
        minutes); with Celery, the broker's own redelivery time."""
        if self.dispatch is None:
            return timedelta(seconds=self.settings.render_lease_seconds)
        return timedelta(seconds=self.settings.broker_visibility_timeout_seconds)

    @contextmanager
    def _holding(self, document_id: str) -> Iterator[None]:
        """Renew the lease of ``document_id`` for as long as this block runs."""
        with self._held_lock:
            self._held.add(document_id)
            if self._heartbeat is None or not self._heartbeat.is_alive():
                self._heartbeat = threading.Thread(
                    target=self._renew_leases, name="lease-heartbeat", daemon=True
                )
                self._heartbeat.start()
        try:
            yield
        finally:
            with self._held_lock:
                self._held.discard(document_id)

    def _renew_leases(self) -> None:
        period = self._lease.total_seconds() / 3
        while not self._closed.wait(period):
            with self._held_lock:
                held = list(self._held)
            if not held:
                continue
            try:
                with self._transaction() as session:
                    session.execute(
                        update(Document)
                        .where(Document.id.in_(held), Document.status == "issuing")
                        .values(next_attempt_at=self.clock() + self._lease)
                    )
            except Exception:  # the database is down: the next beat tries again
                LOG.exception("renewing render leases")

    def work_once(self, limit: int = 10) -> int:
        """One pass of the in-process issuer: issue due documents, or with a broker, send
        the ones whose task was lost to it again; then send due emails. Returns how many
        things were attempted."""
        now = self.clock()
        with self._transaction() as session:
            due = session.scalars(
                select(Document.id)
                .where(Document.status.in_(WAITING), Document.next_attempt_at <= now)
                .order_by(Document.created_at)
                .limit(limit)
            ).all()
        if self.dispatch is not None:
            for document_id in due:
                self._send(document_id)
        elif due:
            workers = min(len(due), self.renderers.size)
            with ThreadPoolExecutor(workers, thread_name_prefix="issue") as pool:
                list(pool.map(self.issue_accepted, due))
        return len(due) + self.outbox.send_due(limit)

    def _send(self, document_id: str) -> None:
        """Hand a queued document to the broker; if the broker cannot take it, the issuer
        sends it again on a later pass."""
        assert self.dispatch is not None
        with self._transaction() as session:
            session.execute(
                update(Document)
                .where(Document.id == document_id, Document.status.in_(WAITING))
                .values(next_attempt_at=self.clock() + self._lease)
            )
        try:
            self.dispatch(document_id)
        except Exception as error:  # any broker failure: the issuer resends later
            with self._transaction() as session:
                session.execute(
                    update(Document)
                    .where(Document.id == document_id, Document.status.in_(WAITING))
                    .values(next_attempt_at=self.clock(), last_error=f"broker: {error}")
                )

    def _reschedule(self, document_id: str, reason: str) -> Attempt:
        with self._transaction() as session:
            row = self._locked(session, document_id, skip=False)
            if row is None or row.status not in WAITING:
                return Attempt("done")
            row.attempts += 1
            delay = self.settings.retry_delay(row.attempts)
            row.status = "queued"
            # With a broker, the task's own retry comes first; the issuer's resend is the
            # safety net should that message be lost.
            later = delay + (self._lease.total_seconds() if self.dispatch else 0)
            row.next_attempt_at = self.clock() + timedelta(seconds=later)
            row.last_error = reason
            return Attempt("retry", delay)

    def _fail(self, document_id: str, reason: str) -> Attempt:
        with self._transaction() as session:
            row = self._locked(session, document_id, skip=False)
            if row is None or row.status not in WAITING:
                return Attempt("done")
            row.attempts += 1
            row.status = "failed"
            row.last_error = reason
            row.next_attempt_at = None
            return Attempt("failed")

    def retry(self, document_id: str, *, client: Client) -> DocumentInfo:
        """Put a failed document back in the queue."""
        client.require("documents:write")
        with self._transaction() as session:
            row = self._visible(session, document_id, client)
            if row.status != "failed":
                raise Conflict(f"document {document_id} is {row.status}, not failed")
            row.status = "queued"
            row.next_attempt_at = self.clock()
            info = DocumentInfo.of(row)
        if self.dispatch is not None:
            self._send(document_id)
        return info

    # -- deliveries -----------------------------------------------------------------------

    def deliver(
        self,
        document_id: str,
        body: Mapping[str, Any],
        *,
        client: Client,
        idempotency_key: str | None = None,
    ) -> tuple[DeliveryInfo, bool]:
        """Queue an email delivery of an issued document; ``True`` if this request created it."""
        client.require("deliveries:write")
        recipients = parse_recipients(body, at="", limit=self.settings.max_recipients_per_delivery)
        with self._transaction() as session:
            self._visible(session, document_id, client)
            if idempotency_key is not None:
                existing = self.outbox.find(session, document_id, idempotency_key)
                if existing is not None:
                    return self.outbox.info(session, existing), False
            row = self.outbox.enqueue(session, document_id, recipients, idempotency_key)
            session.flush()
            return self.outbox.info(session, row), True

    def deliveries(self, document_id: str, *, client: Client) -> tuple[DeliveryInfo, ...]:
        """Every delivery of a document, with each attempt."""
        client.require("documents:read")
        with self._transaction() as session:
            self._visible(session, document_id, client)
            rows = session.scalars(
                select(Delivery)
                .where(Delivery.document_id == document_id)
                .order_by(Delivery.created_at)
            ).all()
            return tuple(self.outbox.info(session, r) for r in rows)

    def download(self, token: str) -> tuple[DocumentInfo, bytes]:
        """The archived PDF a signed, unexpired link grants (no API key needed)."""
        document_id = links.verify(self.secret, token, self.clock())
        with self._transaction() as session:
            row = session.get(Document, document_id)
            if row is None or row.archive_key is None:
                raise NotFound("the document behind this link is gone")
            info = DocumentInfo.of(row)
        assert info.archive_key is not None
        return info, self.archive.get(key=info.archive_key)

    # -- previews -------------------------------------------------------------------------

    def preview(
        self,
        payload: object,
        *,
        client: Client,
        locale: str | None,
        html: bool,
        asset_base: str | None = None,
    ) -> bytes | str:
        """Render without numbering, registry or archive, marked as a draft.

        HTML inlines the stylesheet unless ``asset_base`` says where the assets are served."""
        client.require("previews")
        if locale is not None and locale not in SUPPORTED_LOCALES:
            raise InvalidPayload(
                [
                    Problem(
                        "locale",
                        f"{locale[:20]!r} is not a locale we write in; "
                        f"choose one of {', '.join(SUPPORTED_LOCALES)}",
                        "locale",
                    )
                ]
            )
        validated = validate(payload)
        if not html:
            return self.renderers.render(validated, locale=locale, draft=True).document.pdf
        with self.engines.lease() as engine:
            return engine.html(
                validated,
                locale=locale,
                draft=True,
                inline_css=asset_base is None,
                asset_base=asset_base or ASSET_ORIGIN,
            )

    # -- reading --------------------------------------------------------------------------

    def get(self, document_id: str, *, client: Client) -> DocumentInfo:
        """One document's metadata."""
        client.require("documents:read")
        with self._transaction() as session:
            return DocumentInfo.of(self._visible(session, document_id, client))

    def pdf(self, document_id: str, *, client: Client) -> tuple[DocumentInfo, bytes]:
        """The archived bytes, never re-rendered."""
        info = self.get(document_id, client=client)
        if info.status != "issued" or info.archive_key is None:
            raise Conflict(f"document {document_id} is {info.status}; it has no PDF yet")
        return info, self.archive.get(key=info.archive_key)

    def list(self, query: DocumentQuery, *, client: Client) -> DocumentPage:
        """Documents matching ``query``, newest first."""
        client.require("documents:read")
        conditions = [] if client.reads_all else [Document.issued_by == client.id]
        for column, value in (
            (Document.policy_number, query.policy_number),
            (Document.kind, query.kind),
            (Document.locale, query.locale),
            (Document.status, query.status),
        ):
            if value is not None:
                conditions.append(column == value)
        if query.policyholder:
            pattern = f"%{query.policyholder.lower()}%"
            conditions.append(
                func.lower(Document.policyholder_name).like(pattern)
                | func.lower(Document.policyholder_tax_id).like(pattern)
            )
        if query.issued_from is not None:
            conditions.append(Document.issue_date >= query.issued_from)
        if query.issued_to is not None:
            conditions.append(Document.issue_date <= query.issued_to)
        with self._transaction() as session:
            total = session.scalar(select(func.count()).select_from(Document).where(*conditions))
            rows = session.scalars(
                select(Document)
                .where(*conditions)
                .order_by(Document.created_at.desc(), Document.id)
                .limit(query.limit)
                .offset(query.offset)
            ).all()
            items = tuple(DocumentInfo.of(r) for r in rows)
        return DocumentPage(items, total or 0, query.limit, query.offset)

    def verify(self, sha256: str, *, client: Client) -> DocumentInfo | None:
        """The issued document whose PDF has this sha256, if we issued one."""
        client.require("documents:read")
        mine = [] if client.reads_all else [Document.issued_by == client.id]
        with self._transaction() as session:
            row = session.scalars(
                select(Document).where(
                    Document.sha256 == sha256.lower(), Document.status == "issued", *mine
                )
            ).first()
            return DocumentInfo.of(row) if row is not None else None

    def reissue_check(self, document_id: str) -> ReissueReport:
        """Re-render a stored document from its stored payload and compare the bytes."""
        with self._transaction() as session:
            row = session.get(Document, document_id)
            if row is None:
                raise NotFound(f"no document {document_id}")
            if row.sha256 is None:
                raise Conflict(f"document {document_id} was never rendered")
            stored_sha, stored_hash, payload = row.sha256, row.template_hash, row.payload
        result = self.renderers.render(validate(payload))
        rendered, current = result.document, result.template_hash
        sha = hashlib.sha256(rendered.pdf).hexdigest()
        return ReissueReport(document_id, sha == stored_sha, stored_sha, sha, stored_hash, current)

    # -- API keys -------------------------------------------------------------------------

    def create_api_key(self, *, name: str, scopes: tuple[str, ...]) -> str:
        """Create a key and return it; only its hash is stored, so it is shown once."""
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise InvalidPayload([Problem("scopes", f"choose from {', '.join(SCOPES)}", "scope")])
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self._transaction() as session:
            session.add(
                ApiKey(
                    name=name,
                    prefix=prefix,
                    secret_hash=_hash_secret(secret),
                    scopes=" ".join(sorted(set(scopes))),
                    created_at=self.clock(),
                )
            )
        return f"cor_{prefix}_{secret}"

    def create_staff(self, *, email: str, password: str, replace: bool = False) -> Staff:
        """Add a member of staff (or, with ``replace``, set an existing one's password:
        every session of that account ends)."""
        if len(password) < 12:
            raise InvalidPayload([Problem("password", "use at least 12 characters", "weak")])
        with self._transaction() as session:
            existing = session.scalars(
                select(StaffUser).where(StaffUser.email == email.strip().lower())
            ).first()
            if existing is not None and replace:
                existing.password_hash = _PASSWORDS.hash(password)
                existing.session_epoch += 1
                return Staff(existing.id, existing.email, existing.session_epoch)
            row = StaffUser(
                email=email.strip().lower(),
                password_hash=_PASSWORDS.hash(password),
                created_at=self.clock(),
                session_epoch=0,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise Conflict(f"{email} already exists") from None
            return Staff(row.id, row.email, row.session_epoch)

    def disable_staff(self, *, email: str) -> None:
        """Disable an account: it cannot sign in, and every session of it ends."""
        with self._transaction() as session:
            row = session.scalars(
                select(StaffUser).where(StaffUser.email == email.strip().lower())
            ).first()
            if row is None:
                raise NotFound(f"no staff user {email}")
            row.disabled_at = self.clock()
            row.session_epoch += 1

    def sign_in(self, *, email: str, password: str, address: str | None = None) -> Staff:
        """The member of staff with these credentials, or :class:`Unauthenticated`.

        Failures are counted per account and per client address: past a few, each new
        try must wait longer (:class:`TooManyAttempts`, with the wait), and past more the
        account or the address is locked for a while, right password or not."""
        email = email.strip().lower()
        keys = [f"email:{email}"[:300]] + ([f"addr:{address}"[:300]] if address else [])
        self._throttle(keys)
        with self._transaction() as session:
            row = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
            stored = row.password_hash if row else _DUMMY_HASH
            try:
                _PASSWORDS.verify(stored, password)
                ok = row is not None and row.disabled_at is None
            except (VerifyMismatchError, InvalidHashError):
                ok = False
            if ok:
                assert row is not None
                throttle = session.get(SignInThrottle, keys[0])
                if throttle is not None:
                    session.delete(throttle)
                return Staff(row.id, row.email, row.session_epoch)
        self._count_failure(keys)
        raise Unauthenticated("wrong email or password")

    def _throttle(self, keys: Sequence[str]) -> None:
        s, now = self.settings, self.clock()
        with self._transaction() as session:
            for key in keys:
                row = session.get(SignInThrottle, key)
                if row is None:
                    continue
                if row.locked_until is not None and _aware(row.locked_until) > now:
                    wait = (_aware(row.locked_until) - now).total_seconds()
                    raise TooManyAttempts(
                        f"too many failed sign-ins: locked for {wait:.0f} s", wait
                    )
                failures = self._recent_failures(row, now)
                if failures >= s.sign_in_slowdown_after:
                    delay = min(
                        s.sign_in_delay_seconds * 2 ** (failures - s.sign_in_slowdown_after),
                        s.sign_in_lock_seconds,
                    )
                    wait = delay - (now - _aware(row.last_failure_at)).total_seconds()
                    if wait > 0:
                        raise TooManyAttempts(f"too many failed sign-ins: wait {wait:.1f} s", wait)

    def _recent_failures(self, row: SignInThrottle, now: datetime) -> int:
        window = timedelta(seconds=self.settings.sign_in_lock_seconds)
        return row.failures if _aware(row.last_failure_at) > now - window else 0

    def _count_failure(self, keys: Sequence[str]) -> None:
        s, now = self.settings, self.clock()
        for attempt in range(3):
            try:
                with self._transaction() as session:
                    for key in keys:
                        row = session.get(SignInThrottle, key, with_for_update=True)
                        if row is None:
                            row = SignInThrottle(key=key, failures=0, last_failure_at=now)
                            session.add(row)
                        row.failures = self._recent_failures(row, now) + 1
                        row.last_failure_at = now
                        limit = (
                            s.sign_in_lock_after
                            if key.startswith("email:")
                            else s.sign_in_address_lock_after
                        )
                        if row.failures >= limit:
                            row.locked_until = now + timedelta(seconds=s.sign_in_lock_seconds)
                            row.failures = 0
                return
            except IntegrityError:  # a concurrent first failure of the same key
                if attempt == 2:
                    raise

    def sign_out(self, staff: Staff) -> None:
        """End every session of ``staff``'s account (this one and any other)."""
        with self._transaction() as session:
            row = session.get(StaffUser, staff.id)
            if row is not None and row.session_epoch == staff.epoch:
                row.session_epoch += 1

    def staff(self, staff_id: int, epoch: int = 0) -> Staff | None:
        """The member of staff a session names, if that session is still valid: the
        account exists, is not disabled, and has not ended its sessions since."""
        with self._transaction() as session:
            row = session.get(StaffUser, staff_id)
            if row is None or row.disabled_at is not None or row.session_epoch != epoch:
                return None
            return Staff(row.id, row.email, row.session_epoch)

    def authenticate(self, token: str | None) -> Client:
        """The client a bearer token belongs to."""
        if not token or not token.startswith("cor_") or token.count("_") < 2:
            raise Unauthenticated("send Authorization: Bearer <API key>")
        _, prefix, secret = token.split("_", 2)
        with self._transaction() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
            if (
                row is None
                or row.revoked_at is not None
                or not hmac.compare_digest(row.secret_hash, _hash_secret(secret))
            ):
                raise Unauthenticated("unknown or revoked API key")
            return Client(row.id, row.name, frozenset(row.scopes.split()))


@dataclass(frozen=True)
class Staff:
    """A signed-in member of staff; ``epoch`` is the account's session epoch then."""

    id: int
    email: str
    epoch: int = 0

    @property
    def client(self) -> Client:
        """Staff act through the UI with every scope, under their own name."""
        return Client(id=0, name=f"staff:{self.email}", scopes=frozenset(SCOPES))


_PASSWORDS = PasswordHasher()
# Verified against when the email is unknown, so that both cases take the same time.
_DUMMY_HASH = _PASSWORDS.hash("not a password of anyone")


def _hash_secret(secret: str) -> str:
    # API secrets are 256 random bits: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()  # same bytes for our keys


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
