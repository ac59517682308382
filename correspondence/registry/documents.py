"""The documents table: finding, locking, leasing and listing documents, and turning a
row into the :class:`DocumentInfo` the use cases answer with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_, update

from correspondence.errors import NotFound
from correspondence.registry.models import Document
from correspondence.registry.store import Tx
from correspondence.results import Client, DocumentInfo, DocumentQuery, ReviewInfo, RowFields
from correspondence.statuses import WAITING, DocumentStatus


def info(row: Document) -> DocumentInfo:
    """What a registry row says, as a frozen value."""
    return DocumentInfo(
        id=row.id,
        kind=row.kind,
        locale=row.locale,
        jurisdiction=row.jurisdiction,
        status=DocumentStatus(row.status),
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
        signed_by=row.signed_by,
        signed_at=row.signed_at,
        review=_review(row),
    )


def _review(row: Document) -> ReviewInfo | None:
    if row.review_state is None:
        return None
    return ReviewInfo(
        state=row.review_state,
        because=row.review_because or "",
        requested_by=row.review_requested_by or "",
        decided_by=row.review_decided_by,
        decided_at=row.review_decided_at,
        reason=row.review_reason,
    )


def get(tx: Tx, document_id: str) -> Document | None:
    """The row, if there is one."""
    return tx.get(Document, document_id)


def get_one(tx: Tx, document_id: str) -> Document:
    """The row, which must exist."""
    return tx.get_one(Document, document_id)


def visible(tx: Tx, document_id: str, client: Client) -> Document:
    """The document, if this client may see it; otherwise it does not exist for them
    (404, the same answer as for an id that is nobody's)."""
    row = tx.get(Document, document_id)
    if row is None or not client.may_read(row.issued_by):
        raise NotFound(f"no document {document_id}")
    return row


def add(tx: Tx, row: Document) -> None:
    """Insert ``row`` now (a duplicate version raises the database's uniqueness error)."""
    tx.add(row)
    tx.flush()


def add_all(tx: Tx, rows: Sequence[Document]) -> None:
    """Insert ``rows`` now, together (a duplicate version raises the database's uniqueness
    error, and the caller's transaction rolls back: none of them is kept)."""
    tx.add_all(rows)
    tx.flush()


def latest(tx: Tx, kind: str, reference: str) -> Document | None:
    """The newest version of the document ``(kind, reference)``."""
    return tx.scalars(
        select(Document)
        .where(Document.kind == kind, Document.business_reference == reference)
        .order_by(Document.version.desc())
        .limit(1)
    ).first()


LOOKUP_CHUNK = 400
"""Business references looked up per query (two bound values each: within SQLite's
limit, and a plan PostgreSQL caches)."""


def latest_of(tx: Tx, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Document]:
    """The newest version of each document ``(kind, reference)`` of ``keys`` that exists,
    in one query per :data:`LOOKUP_CHUNK` keys (what :func:`latest` finds, for many)."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], Document] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = tx.scalars(
            select(Document)
            .where(tuple_(Document.kind, Document.business_reference).in_(chunk))
            .order_by(Document.version)
        )
        for row in rows:  # ascending versions: the newest is kept
            found[(row.kind, row.business_reference)] = row
    return found


def locked(tx: Tx, document_id: str, *, skip: bool) -> Document | None:
    """The row, locked until the transaction ends and read afresh (even if this
    transaction loaded it before); with ``skip``, ``None`` if another transaction holds it
    (PostgreSQL; SQLite serialises writers anyway)."""
    query = select(Document).where(Document.id == document_id)
    query = query.with_for_update(skip_locked=skip).execution_options(populate_existing=True)
    return tx.scalars(query).first()


def exists(tx: Tx, document_id: str) -> bool:
    """Whether the document exists."""
    return tx.scalar(select(Document.id).where(Document.id == document_id)) is not None


def count_waiting(tx: Tx) -> int:
    """How many documents the issuer still owes."""
    waiting = tx.scalar(
        select(func.count()).select_from(Document).where(Document.status.in_(WAITING))
    )
    return waiting or 0


def due(tx: Tx, now: datetime, limit: int) -> Sequence[str]:
    """The oldest owed documents whose time has come."""
    return tx.scalars(
        select(Document.id)
        .where(Document.status.in_(WAITING), Document.next_attempt_at <= now)
        .order_by(Document.created_at)
        .limit(limit)
    ).all()


def renew_leases(tx: Tx, document_ids: Sequence[str], until: datetime) -> None:
    """Keep documents being rendered from being taken by another issuer before ``until``."""
    tx.execute(
        update(Document)
        .where(Document.id.in_(document_ids), Document.status == DocumentStatus.ISSUING)
        .values(next_attempt_at=until)
    )


def set_due(tx: Tx, document_id: str, when: datetime, error: str | None = None) -> None:
    """Make an owed document due at ``when`` (recording why, with ``error``)."""
    values: dict[str, object] = {"next_attempt_at": when}
    if error is not None:
        values["last_error"] = error
    tx.execute(
        update(Document)
        .where(Document.id == document_id, Document.status.in_(WAITING))
        .values(**values)
    )


def set_due_all(tx: Tx, document_ids: Sequence[str], when: datetime, error: str) -> None:
    """Make the owed documents ``document_ids`` due at ``when``, recording why."""
    for start in range(0, len(document_ids), LOOKUP_CHUNK):
        tx.execute(
            update(Document)
            .where(
                Document.id.in_(document_ids[start : start + LOOKUP_CHUNK]),
                Document.status.in_(WAITING),
            )
            .values(next_attempt_at=when, last_error=error)
        )


def by_sha256(tx: Tx, sha256: str, owner: int | None) -> Document | None:
    """The issued document with these PDF bytes (of ``owner``'s, unless ``None``)."""
    mine = [] if owner is None else [Document.issued_by == owner]
    return tx.scalars(
        select(Document).where(
            Document.sha256 == sha256.lower(), Document.status == DocumentStatus.ISSUED, *mine
        )
    ).first()


def page(tx: Tx, query: DocumentQuery, owner: int | None) -> tuple[int, Sequence[Document]]:
    """How many documents match ``query`` (``owner``'s, unless ``None``), and one page of
    them, newest first."""
    conditions: list[ColumnElement[bool]] = [] if owner is None else [Document.issued_by == owner]
    for column, value in (
        (Document.policy_number, query.policy_number),
        (Document.kind, query.kind),
        (Document.locale, query.locale),
        (Document.status, query.status),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.policyholder:
        # The search is for the text as typed: LIKE's wildcards in it are escaped.
        typed = query.policyholder.lower()
        literal = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        conditions.append(
            func.lower(Document.policyholder_name).like(pattern, escape="\\")
            | func.lower(Document.policyholder_tax_id).like(pattern, escape="\\")
        )
    bounds: tuple[tuple[date | None, bool], ...] = (
        (query.issued_from, True),
        (query.issued_to, False),
    )
    for day, lower in bounds:
        if day is not None:
            conditions.append(Document.issue_date >= day if lower else Document.issue_date <= day)
    total = tx.scalar(select(func.count()).select_from(Document).where(*conditions))
    rows = tx.scalars(
        select(Document)
        .where(*conditions)
        .order_by(Document.created_at.desc(), Document.id)
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    return total or 0, rows


def new(
    *,
    document_id: str,
    fields: RowFields,
    payload: dict[str, Any],
    version: int,
    replaces: str | None,
    issued_by: int,
    now: datetime,
) -> Document:
    """A row for a validated payload, not yet in the registry."""
    return Document(
        id=document_id,
        kind=fields.kind,
        locale=fields.locale,
        jurisdiction=fields.jurisdiction,
        policy_number=fields.policy_number,
        policyholder_tax_id=fields.policyholder_tax_id,
        policyholder_name=fields.policyholder_name,
        business_reference=fields.business_reference,
        version=version,
        replaces_id=replaces,
        issue_date=fields.issue_date,
        status=DocumentStatus.NEW,
        payload=payload,
        warnings=[],
        attempts=0,
        created_at=now,
        issued_by=issued_by,
    )


def replace_payload(row: Document, fields: RowFields, payload: dict[str, Any]) -> None:
    """Give a failed row a corrected payload (it keeps its id, version and number)."""
    row.payload = payload
    row.policy_number = fields.policy_number
    row.policyholder_tax_id = fields.policyholder_tax_id
    row.policyholder_name = fields.policyholder_name
    row.issue_date = fields.issue_date
    row.locale = fields.locale
