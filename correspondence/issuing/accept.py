"""Accepting a request to issue a document, synchronously or for later.

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
accepted is lost and no number is skipped. An asynchronous request is recorded as
``queued`` and goes through steps 4 to 6 in :meth:`Issuer.issue_accepted`, in-process or
on Celery workers, retried with exponential backoff.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from correspondence.deliveries.recipients import enqueue, parse_recipients
from correspondence.errors import (
    Conflict,
    DocumentFailed,
    IdempotencyMismatch,
    Problem,
    Unavailable,
)
from correspondence.issuing import batches
from correspondence.issuing.checked import Checked, row_fields, split_request
from correspondence.issuing.complete import Issuer
from correspondence.issuing.review import hold_for_review
from correspondence.kinds import Validated, validate
from correspondence.registry import documents, idempotency
from correspondence.registry.models import Document
from correspondence.registry.store import Collision, Tx
from correspondence.results import (
    Attempt,
    Client,
    DocumentInfo,
    IssueOutcome,
    Recipients,
    RowFields,
    Staff,
)
from correspondence.review_rules import REQUEST, because, requested
from correspondence.statuses import DocumentStatus, IdempotencyState

IDEMPOTENCY_STALE = timedelta(minutes=10)


@dataclass(frozen=True)
class Prepared:
    """A request validated, to be issued now or recorded for later."""

    validated: Validated
    payload: dict[str, Any]
    reissue: bool
    recipients: Recipients | None
    review: str | None = None
    """Why it waits for review before it is issued (docs/review.md); None: it does not."""

    @property
    def fields(self) -> RowFields:
        return row_fields(self.validated)


@dataclass(frozen=True)
class Batched:
    """A batch's item, checked (:mod:`.checked`) and its options read: what
    :meth:`Acceptor.accept_all` records. It holds no models: a failed document it
    corrects validates the payload again (:func:`batches.accept_all`)."""

    fields: RowFields
    payload: dict[str, Any]
    reissue: bool
    recipients: Recipients | None
    review: str | None


def canonical_hash(body: Mapping[str, Any]) -> str:
    """sha256 of a JSON body with sorted keys: the identity of a request."""
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class Acceptor:
    """Turns requests into registry rows: issued now, or queued for the issuer."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.settings = issuer.settings
        self.registry = issuer.registry
        self.clock = issuer.clock

    def prepare(self, body: Mapping[str, Any]) -> Prepared:
        """Validate a request: the payload, its options and its recipients."""
        payload, options = split_request(body)
        validated = validate(payload)  # refuse bad input before reserving anything
        recipients, asked, reissue = self._options(options)
        review = because(self.settings.review_kinds, validated, asked)
        return Prepared(validated, payload, reissue, recipients, review)

    def ready(self, checked: Checked) -> Batched:
        """A batch's checked item with its options read, as :meth:`prepare` reads them."""
        recipients, asked, reissue = self._options(checked.options)
        review = checked.settings_review or (REQUEST if asked else None)  # as because()
        return Batched(checked.fields, checked.payload, reissue, recipients, review)

    def _options(self, options: Mapping[str, Any]) -> tuple[Recipients | None, bool, bool]:
        """The recipients, whether review was asked for, and ``reissue``."""
        recipients = (
            parse_recipients(options["deliver"], limit=self.settings.max_recipients_per_delivery)
            if "deliver" in options
            else None
        )
        asked = requested(options["review"]) if "review" in options else False
        return recipients, asked, bool(options.get("reissue", False))

    def issue(
        self,
        body: Mapping[str, Any],
        *,
        client: Client,
        idempotency_key: str | None = None,
        asynchronous: bool = False,
        composer: Staff | None = None,
    ) -> IssueOutcome:
        """Issue the document ``body`` asks for (or accept it for later, ``asynchronous``;
        or hold it for review, docs/review.md: ``composer`` is the member of staff who
        composed it, who may not approve it)."""
        client.require("documents:write")
        if "deliver" in body:
            client.require("deliveries:write")
        item = self.prepare(body)
        if idempotency_key is None:
            return self._issue_or_accept(client, item, asynchronous, None, composer)
        request_hash = canonical_hash({"body": body, "async": asynchronous})
        existing = self._claim(client, idempotency_key, request_hash)
        if existing is not None:
            return IssueOutcome(existing, created=False, replayed=True)
        try:
            key = (client.id, idempotency_key)
            return self._issue_or_accept(client, item, asynchronous, key, composer)
        except BaseException:
            with self.registry.transaction() as tx:
                idempotency.release(tx, client.id, idempotency_key)
            raise

    def _claim(self, client: Client, key: str, request_hash: str) -> DocumentInfo | None:
        now = self.clock()
        try:
            with self.registry.transaction() as tx:
                row = idempotency.claim(tx, client.id, key, request_hash, now, IDEMPOTENCY_STALE)
                if row is None:
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
                if row.state == IdempotencyState.IN_PROGRESS:
                    raise Conflict("a request with this Idempotency-Key is in progress")
                assert row.document_id is not None
                return documents.info(documents.get_one(tx, row.document_id))
        except Collision:
            raise Conflict("a request with this Idempotency-Key is in progress") from None

    def enqueue(self, tx: Tx, document_id: str, recipients: Recipients | None) -> None:
        if recipients is not None:
            mail_from = self.settings.mail_from
            enqueue(tx, document_id, recipients, mail_from=mail_from, now=self.clock())

    def _issue_or_accept(
        self,
        client: Client,
        item: Prepared,
        asynchronous: bool,
        key: tuple[int, str] | None,
        composer: Staff | None = None,
    ) -> IssueOutcome:
        kind, doc = item.validated.kind, item.validated.doc
        reference = doc.document.our_reference
        with self.registry.transaction() as tx:
            latest = documents.latest(tx, kind.name, reference)
            if latest is not None and not client.may_read(latest.issued_by):
                # Neither its metadata nor a new version of it: another client's document.
                raise Conflict(
                    f"{kind.name} {reference} was issued for another client; "
                    "this key may not read it"
                )
            if latest is not None and not item.reissue:
                idempotency.finish(tx, key, latest.id)
                return IssueOutcome(documents.info(latest), created=False)
        if item.review is not None or (
            latest is not None and latest.status == DocumentStatus.IN_REVIEW
        ):
            return hold_for_review(self, item, latest, client, key, composer)
        if latest is not None and latest.status == DocumentStatus.FAILED:
            return self._replace_failed(latest.id, item, asynchronous, key)
        row = self.new_row(item, latest, client)
        if asynchronous:
            self.check_queue_room()
            try:
                with self.registry.transaction() as tx:
                    row.status = DocumentStatus.QUEUED
                    row.next_attempt_at = self.due_at(DocumentStatus.QUEUED)
                    documents.add(tx, row)
                    idempotency.finish(tx, key, row.id)
                    self.enqueue(tx, row.id, item.recipients)
            except Collision:
                raise Conflict(f"{kind.name} {reference} version {row.version} exists") from None
            self.issuer.send_if_brokered(row.id)
            return IssueOutcome(documents.info(row), created=True)
        # Take a renderer first: when all are busy the request is refused (503) before a
        # number is taken. Then the same three steps as an accepted document.
        with self.issuer.renderers.slots.hold():
            try:
                with self.registry.transaction() as tx:
                    row.status = DocumentStatus.ISSUING
                    row.next_attempt_at = self.clock() + self.issuer.lease
                    documents.add(tx, row)
                    numbered = self.issuer.number(tx, row, kind, item.validated)
                    self.enqueue(tx, row.id, item.recipients)
            except Collision as error:
                raise Conflict(
                    f"{kind.name} {reference} was issued concurrently: {error.orig}"
                ) from None
            attempt = self.issuer.finish(row.id, numbered)
        return self._outcome(row.id, attempt, key)

    def _outcome(
        self, document_id: str, attempt: Attempt, key: tuple[int, str] | None
    ) -> IssueOutcome:
        """The document after a synchronous attempt. ``retry``: the archive is down; the
        document keeps its number and is issued when it is back (the API answers 202
        with its Location).

        The request's Idempotency-Key points at the document only now: while the attempt
        runs, the key is in progress and the same request sent again is told so (409),
        rather than answered with a document still being issued."""
        if attempt.outcome == "retry":
            self.issuer.send_if_brokered(document_id)
        with self.registry.transaction() as tx:
            idempotency.finish(tx, key, document_id)
            info = documents.info(documents.get_one(tx, document_id))
        if attempt.outcome == "failed":
            raise DocumentFailed(info.id, info.last_error or "rendering failed")
        return IssueOutcome(info, created=True)

    def _replace_failed(
        self, document_id: str, item: Prepared, asynchronous: bool, key: tuple[int, str] | None
    ) -> IssueOutcome:
        """``"reissue": true`` for a document that failed and was never issued: the
        corrected payload takes its place (same id, version and number, so the series
        keeps no gap) and is issued as a new request would be."""
        kind = item.validated.kind
        status = DocumentStatus.QUEUED if asynchronous else DocumentStatus.ISSUING
        with nullcontext() if asynchronous else self.issuer.renderers.slots.hold():
            with self.registry.transaction() as tx:
                row = self.take_failed(tx, document_id)
                self.adopt(row, item.validated, item.payload, status)
                numbered = self.issuer.number(tx, row, kind)
                if asynchronous:
                    idempotency.finish(tx, key, row.id)
                self.enqueue(tx, row.id, item.recipients)
                info = documents.info(row)
            if asynchronous:
                self.issuer.send_if_brokered(document_id)
                return IssueOutcome(info, created=True)
            attempt = self.issuer.finish(document_id, numbered)
        return self._outcome(document_id, attempt, key)

    def adopt(
        self, row: Document, validated: Validated, payload: dict[str, Any], status: DocumentStatus
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
        documents.replace_payload(row, row_fields(validated), payload)
        row.status = status
        row.next_attempt_at = self.due_at(status)

    def due_at(self, status: DocumentStatus) -> datetime:
        """When the issuer may take a document recorded now as ``status``: a queued one at
        once, unless a broker is sent it after the commit (then only once the broker's
        lease has run out, so that the issuer does not send it a second time meanwhile);
        one being issued, after the render lease."""
        now_due = status == DocumentStatus.QUEUED and self.issuer.dispatch is None
        return self.clock() + (timedelta(0) if now_due else self.issuer.lease)

    @staticmethod
    def take_failed(tx: Tx, document_id: str) -> Document:
        """The failed document ``document_id``, locked and read afresh, for a corrected
        payload to take its place; ``Conflict`` if it is no longer failed (a retry or
        another request took it meanwhile)."""
        row = documents.locked(tx, document_id, skip=False)
        if row is None or row.status != DocumentStatus.FAILED:
            raise Conflict(f"document {document_id} is no longer failed; send it again")
        return row

    def new_row(
        self, item: Prepared | Batched, latest: Document | None, client: Client
    ) -> Document:
        return documents.new(
            document_id=str(uuid.uuid4()),
            fields=item.fields,
            payload=item.payload,
            version=latest.version + 1 if latest else 1,
            replaces=latest.id if latest else None,
            issued_by=client.id,
            now=self.clock(),
        )

    def check_queue_room(self, adding: int = 1, tx: Tx | None = None) -> None:
        if tx is None:
            with self.registry.transaction() as fresh:
                waiting = documents.count_waiting(fresh)
        else:
            waiting = documents.count_waiting(tx)
        if waiting + adding > self.settings.max_queued_documents:
            raise Unavailable(f"{waiting} documents are waiting to be issued; retry later")

    def accept_all(
        self, session: Tx, items: Sequence[Batched | None], *, client: Client
    ) -> tuple[list[str | Conflict | None], list[str]]:
        """Record every checked item (:class:`Batched`) as queued (or in review) inside
        the caller's transaction (a batch: all of them or none); see
        :func:`batches.accept_all`."""
        return batches.accept_all(self, session, items, client)

    def dispatch_queued(self, document_ids: Sequence[str]) -> None:
        """With a broker, hand newly queued documents to it (after their commit)."""
        self.issuer.send_accepted(document_ids)
