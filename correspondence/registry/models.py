"""Registry tables: issued documents, invoice number series, idempotency keys, API keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from correspondence import logs
from correspondence.bounds import (
    INVOICE_NUMBER_MAX,
    NAME_MAX,
    POLICY_NUMBER_MAX,
    REFERENCE_MAX,
    SERIES_MAX,
    TAX_ID_MAX,
)


class Base(DeclarativeBase):
    """Declarative base of the registry."""


def _request_id() -> str | None:
    """The request id bound for the work in hand (the HTTP request that inserts a row)."""
    found = logs.context().get("request_id")
    return str(found)[:64] if found else None


class Document(Base):
    """One issued (or accepted, for asynchronous requests) document."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "business_reference", "version", name="uq_documents_business"),
        Index("ix_documents_policy", "policy_number", "kind", "issue_date"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(5))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    # Filled from payload fields: the same lengths as the models' bounds.
    policy_number: Mapped[str] = mapped_column(String(POLICY_NUMBER_MAX))
    policyholder_tax_id: Mapped[str] = mapped_column(String(TAX_ID_MAX))
    policyholder_name: Mapped[str] = mapped_column(String(NAME_MAX))
    business_reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    version: Mapped[int] = mapped_column(Integer, default=1)
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    number: Mapped[str | None] = mapped_column(
        String(INVOICE_NUMBER_MAX), unique=True, nullable=True
    )
    issue_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    template_version: Mapped[str | None] = mapped_column(String(80), nullable=True)
    template_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    weasyprint_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    pypdf_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    archive_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(400), nullable=True)
    """The signer's certificate subject, when the archived PDF is signed (PAdES)."""
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """The time the signature states."""
    unsigned_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The sha256 of the PDF as rendered, before signing: what a re-render reproduces."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    issued_by: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    """The API key that asked for the document (0: the service itself or staff). A key
    reads and delivers only its own documents unless it holds ``documents:read:all``."""
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, default=_request_id)
    """The request that asked for it: the issuer's and the worker's log lines carry it."""
    # Review before issue (docs/review.md); review_state None: none was required.
    review_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    review_because: Mapped[str | None] = mapped_column(String(120), nullable=True)
    review_requested_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    review_composer_staff: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The member of staff who composed it (who may not approve it); None: an API key."""
    review_decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    review_decided_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReviewAction(Base):
    """One review action on a document (requested, approved, rejected): who, when, what."""

    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(300))
    """``staff:<email>`` or ``api_key:<id>:<name>``."""
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    """The payload as it stood: what was asked for, approved or rejected."""


class NumberSeries(Base):
    """The last number allocated in an invoice series for one year (gapless)."""

    __tablename__ = "number_series"

    series: Mapped[str] = mapped_column(String(SERIES_MAX), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """A client's Idempotency-Key: the request it guarded and the document it produced."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """An API key: only a hash of its secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the secret was last replaced (the prefix, name and scopes stay); None: never.
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Requests a minute this key may make; None: the settings' rate_limit_per_minute.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Delivery(Base):
    """An email delivery of a document: recorded before any sending (the outbox)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("document_id", "idempotency_key", name="uq_deliveries_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    recipients: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Per recipient: who has the message (never sent it again), who refused it for good.
    accepted: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    refused: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # What the email says (correspondence.mail.compose.MailContent), rendered from the
    # validated document before sending; None on deliveries recorded before 0007, or
    # asked for before their document was issued (the sender then renders it once).
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, default=_request_id)
    """The request that asked for it: the sender's log lines carry it."""


class DeliveryAttempt(Base):
    """One try at sending a delivery, and what the server said."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text)


class StaffUser(Base):
    """A member of staff who may use the preview UI; the password is stored as argon2."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A session cookie names the epoch it was signed in at; raising it (sign-out, a new
    # password, disabling the account) ends every session of the account at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The language of the staff UI for this member ("en" or "es").
    locale: Mapped[str] = mapped_column(String(5), default="en", server_default="en")


class SignInThrottle(Base):
    """Recent failed sign-ins of one account (``email:…``) or one address (``addr:…``)."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Batch(Base):
    """A bulk submission: many payloads accepted together."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(100))
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BatchItem(Base):
    """One payload of a batch: the document it became, or why it was refused."""

    __tablename__ = "batch_items"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    refused: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)


class WebhookEndpoint(Base):
    """Where an API key is told of its documents' events. The secret signs each call, so
    it is stored as given (never listed)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    all_documents: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether its key reads every document (``documents:read:all``) when registered."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebhookEvent(Base):
    """The webhook outbox: one event for one endpoint, written in the same transaction as
    the change it reports, then sent (and retried) by the dispatcher. ``seq`` orders the
    events of a document; ``id`` is the event's own, the same for every endpoint."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("id", "endpoint_id", name="uq_webhook_events_endpoint"),
        Index("ix_webhook_events_due", "status", "next_attempt_at"),
        Index("ix_webhook_events_order", "endpoint_id", "document_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    type: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str] = mapped_column(String(36))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    """``pending`` (to send, or being sent until ``next_attempt_at``), ``sent``,
    ``expired`` (not delivered within 72 hours) or ``cancelled`` (endpoint deleted)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SpentFormToken(Base):
    """A one-time form token of the staff UI that was spent (api/ui_tokens.py), by the
    sha256 of the token: a second spend of it, from any process, finds it here. Kept
    until the token would have expired anyway."""

    __tablename__ = "spent_form_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    spent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
