"""Completing accepted documents: the one code path of the in-process issuer and of the
Celery workers, with the leases that keep two of them off the same document.

1. Lock the row (skipping it if another worker holds it), give it its number if it has
   none, and mark it ``issuing``; commit. The number now belongs to this document for
   good, so the series lock is held for milliseconds, not a render.
2. Render and archive, with no lock held. Rendering is deterministic and the archive is
   write-once, so a duplicate delivery that gets here too writes the same bytes.
3. Lock the row again and record it as issued, unless another attempt already did.

A worker that dies in step 1 rolls back; in step 2 or 3 it leaves an ``issuing`` row that
the next attempt completes with the same number. The registry, not the queue, decides: a
document is issued at most once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from importlib.metadata import version as package_version

from correspondence import logs, metrics, tracing
from correspondence.archive import Archive
from correspondence.config import Settings
from correspondence.deliveries.content import MailContents
from correspondence.errors import Conflict, InvalidPayload, RenderError, Unavailable
from correspondence.issuing.artefacts import record, render_and_archive
from correspondence.kinds import KINDS, Kind, Validated, numbered, validate
from correspondence.registry import deliveries, documents, events, numbering
from correspondence.registry.models import Document
from correspondence.registry.store import Registry, Tx
from correspondence.renderers import Renderers
from correspondence.results import Attempt, Client, DocumentInfo
from correspondence.signing import Signer
from correspondence.statuses import WAITING, DocumentStatus
from correspondence.times import aware

LOG = logging.getLogger(__name__)
Dispatch = Callable[[str], None]
"""Hands one queued document to the broker. It may also have ``many(document_ids)``,
which sends them in order until the broker fails and says how many it took and why it
stopped (``(count, None)``: all of them), as :func:`_send_each` does one by one."""


def _send_each(dispatch: Dispatch, document_ids: Sequence[str]) -> tuple[int, Exception | None]:
    for sent, document_id in enumerate(document_ids):
        try:
            dispatch(document_id)
        except Exception as error:  # any broker failure: the rest are not tried
            return sent, error
    return len(document_ids), None


class Issuer:
    """Numbers, renders, archives and records documents, now or on a later attempt."""

    def __init__(
        self,
        *,
        settings: Settings,
        registry: Registry,
        archive: Archive,
        renderers: Renderers,
        clock: Callable[[], datetime],
        dispatch: Dispatch | None,
        mail: MailContents | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.settings = settings
        self.work_waiting = registry.work_waiting
        """Set once work for this process's issuer loop is committed: by the registry
        after a transaction that left webhook events or emails (``store.leave_work``),
        and here for a document queued with no broker to hand it to."""
        self.signer = signer
        self.mail = mail
        self.registry = registry
        self.archive = archive
        self.renderers = renderers
        self.clock = clock
        self.dispatch = dispatch
        self._versions = {name: package_version(name) for name in ("weasyprint", "pypdf")}
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._closed = threading.Event()

    def close(self) -> None:
        """Stop renewing leases."""
        self._closed.set()

    @property
    def lease(self) -> timedelta:
        """How long a taken document waits before someone else may take it: a short
        render lease in-process, renewed while the render lasts (so a process killed in
        the middle of one leaves its documents to the next within that time, not after
        minutes); with Celery, the broker's own redelivery time."""
        if self.dispatch is None:
            return timedelta(seconds=self.settings.render_lease_seconds)
        return timedelta(seconds=self.settings.broker_visibility_timeout_seconds)

    def number(
        self, tx: Tx, row: Document, kind: Kind, validated: Validated | None = None
    ) -> Validated:
        """Give ``row`` its number (once), and return the payload as it will be printed,
        validated (``validated``, the payload as it stands, saves validating it again)."""
        current = validated or validate(row.payload)
        if row.number is None and (request := kind.numbering(current.doc)) is not None:
            number = numbering.allocate(tx, request)
            row.payload = kind.with_number(row.payload, number)
            row.number = number
            # Set on the model unvalidated: an allocated number is formatted from the
            # validated series and year, a stated one was validated with the payload.
            return numbered(current, number)
        return current

    def issue_accepted(self, document_id: str) -> Attempt:
        """Issue one accepted document (steps 1 to 3 above), its log lines carrying the
        request id it was asked for with."""
        with logs.bound(document_id=document_id, **self._origin(document_id)):
            return self._issue_accepted(document_id)

    def _origin(self, document_id: str) -> dict[str, str]:
        """The request id to log with, if the document was asked for in a request (a
        Celery task bound it already from its message: no query then)."""
        if logs.context().get("request_id"):
            return {}
        try:
            with self.registry.transaction() as tx:
                found = events.document_request_id(tx, document_id)
        except Unavailable:  # the attempt itself reports the database
            return {}
        return {"request_id": found} if found else {}

    def _issue_accepted(self, document_id: str) -> Attempt:
        try:
            reserved = self._reserve(document_id)
        except (InvalidPayload, Conflict) as error:
            return self._fail(document_id, str(error))
        except Unavailable as error:
            metrics.DEPENDENCY_ERRORS.labels(dependency="database").inc()
            LOG.warning("document.reserve_failed", extra={"reason": str(error)})
            raise
        except Exception as error:  # the stored payload cannot be numbered: record why
            return self._fail(document_id, f"{type(error).__name__}: {error}"[:2000])
        if isinstance(reserved, Attempt):
            return reserved
        return self.finish(document_id, reserved)

    def finish(self, document_id: str, validated: Validated) -> Attempt:
        """Steps 2 and 3: render and archive with no lock held, then record."""
        with logs.bound(document_id=document_id):
            return self._finish(document_id, validated)

    def _finish(self, document_id: str, validated: Validated) -> Attempt:
        kind = validated.kind.name
        about = tracing.document_attributes(document_id, kind, validated.doc.document.locale)
        with tracing.span("document.issue", about):
            return self._render_and_record(document_id, validated, about)

    def _render_and_record(
        self, document_id: str, validated: Validated, about: dict[str, object]
    ) -> Attempt:
        kind = validated.kind.name
        LOG.info("document.issuing", extra={"kind": kind})
        try:
            with self._holding(document_id):
                artefact = render_and_archive(
                    self.renderers, self.archive, validated, document_id, self.signer
                )
        except Unavailable as error:  # the archive, the renderers or the timestamp authority
            metrics.DEPENDENCY_ERRORS.labels(dependency=error.dependency).inc()
            return self._reschedule(document_id, str(error))
        except (InvalidPayload, Conflict, RenderError) as error:
            return self._fail(document_id, str(error))
        except Exception as error:  # a failure the payload causes: record it, never loop
            return self._fail(document_id, f"{type(error).__name__}: {error}"[:2000])
        with (
            tracing.span("document.record", about),
            metrics.stage("record"),
            self.registry.transaction() as tx,
        ):
            row = documents.locked(tx, document_id, skip=False)
            if row is None or row.status not in WAITING:
                return Attempt("done")
            record(row, artefact, self._versions, self.clock())
            events.record(
                tx, "document.issued", document_id=document_id, now=self.clock(), status=row.status
            )
            if self.mail is not None:  # the emails asked for with it: their words, now
                self.mail.fill(tx, document_id, validated, row.locale)
        metrics.DOCUMENTS.labels(kind=kind, status=DocumentStatus.ISSUED).inc()
        LOG.info("document.issued", extra={"kind": kind, "status": DocumentStatus.ISSUED})
        return Attempt("issued")

    def _reserve(self, document_id: str) -> Validated | Attempt:
        with metrics.stage("reserve"), self.registry.transaction() as tx:
            row = documents.locked(tx, document_id, skip=True)
            if row is None:
                return Attempt("busy" if documents.exists(tx, document_id) else "done")
            if row.status not in WAITING:
                return Attempt("done")
            if row.status == DocumentStatus.QUEUED and row.attempts == 0:  # first taken
                waited = self.clock() - aware(row.created_at)
                metrics.STAGE_SECONDS.labels(stage="queue").observe(
                    max(0.0, waited.total_seconds())
                )
            validated = self.number(tx, row, KINDS[row.kind])
            row.status = DocumentStatus.ISSUING
            row.next_attempt_at = self.clock() + self.lease
            return validated

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
        period = self.lease.total_seconds() / 3
        while not self._closed.wait(period):
            with self._held_lock:
                held = list(self._held)
            if not held:
                continue
            try:
                with self.registry.transaction() as tx:
                    documents.renew_leases(tx, held, self.clock() + self.lease)
            except Exception:  # the database is down: the next beat tries again
                LOG.exception("renewing render leases")

    def send(self, document_id: str) -> None:
        """Hand a queued document to the broker; if the broker cannot take it, the issuer
        sends it again on a later pass."""
        assert self.dispatch is not None
        with self.registry.transaction() as tx:
            documents.set_due(tx, document_id, self.clock() + self.lease)
        try:
            self.dispatch(document_id)
        except Exception as error:  # any broker failure: the issuer resends later
            LOG.warning(
                "document.dispatch_failed",
                extra={"document_id": document_id, "reason": f"broker: {error}"},
            )
            metrics.RETRIES.labels(what="document", cause="broker").inc()
            with self.registry.transaction() as tx:
                documents.set_due(tx, document_id, self.clock(), f"broker: {error}")

    def send_accepted(self, document_ids: Sequence[str]) -> None:
        """With a broker, hand documents accepted just now (a batch) to it, after their
        commit. Their rows already hold the broker's lease, set when they were recorded,
        so unlike :meth:`send` this takes no transaction each. At the broker's first
        failure the rest are not tried: those not sent are made due, in one transaction,
        and the issuer sends them again on its next passes."""
        if not document_ids:
            return
        if self.dispatch is None:
            self.work_waiting.set()  # the in-process issuer takes them
            return
        many = getattr(self.dispatch, "many", None)
        sent, error = many(document_ids) if many else _send_each(self.dispatch, document_ids)
        if error is None:
            return
        unsent = list(document_ids[sent:])
        LOG.warning(
            "document.dispatch_failed",
            extra={"documents": len(unsent), "reason": f"broker: {error}"},
        )
        metrics.RETRIES.labels(what="document", cause="broker").inc(len(unsent))
        with self.registry.transaction() as tx:
            documents.set_due_all(tx, unsent, self.clock(), f"broker: {error}")

    def send_if_brokered(self, document_id: str) -> None:
        """With a broker, hand ``document_id`` to it (the in-process issuer finds it due)."""
        if self.dispatch is not None:
            self.send(document_id)
        else:
            self.work_waiting.set()

    def _reschedule(self, document_id: str, reason: str) -> Attempt:
        with self.registry.transaction() as tx:
            row = documents.locked(tx, document_id, skip=False)
            if row is None or row.status not in WAITING:
                return Attempt("done")
            row.attempts += 1
            delay = self.settings.retry_delay(row.attempts)
            row.status = DocumentStatus.QUEUED
            # With a broker, the task's own retry comes first; the issuer's resend is the
            # safety net should that message be lost.
            later = delay + (self.lease.total_seconds() if self.dispatch else 0)
            row.next_attempt_at = self.clock() + timedelta(seconds=later)
            row.last_error = reason
            kind, attempts = row.kind, row.attempts
        metrics.RETRIES.labels(what="document", cause="unavailable").inc()
        LOG.warning(
            "document.retry",
            extra={
                "kind": kind,
                "status": DocumentStatus.QUEUED,
                "attempts": attempts,
                "delay_seconds": delay,
                "reason": reason,
            },
        )
        return Attempt("retry", delay)

    def _fail(self, document_id: str, reason: str) -> Attempt:
        with self.registry.transaction() as tx:
            row = documents.locked(tx, document_id, skip=False)
            if row is None or row.status not in WAITING:
                return Attempt("done")
            row.attempts += 1
            row.status = DocumentStatus.FAILED
            row.last_error = reason
            row.next_attempt_at = None
            kind, attempts = row.kind, row.attempts
            events.record(
                tx, "document.failed", document_id=document_id, now=self.clock(), status=row.status
            )
        metrics.DOCUMENTS.labels(kind=kind, status=DocumentStatus.FAILED).inc()
        LOG.warning(
            "document.failed",
            extra={
                "kind": kind,
                "status": DocumentStatus.FAILED,
                "attempts": attempts,
                "reason": reason,
            },
        )
        return Attempt("failed")

    def retry(self, document_id: str, *, client: Client) -> DocumentInfo:
        """Put a failed document back in the queue."""
        client.require("documents:write")
        with self.registry.transaction() as tx:
            row = documents.visible(tx, document_id, client)
            if row.status != DocumentStatus.FAILED:
                raise Conflict(f"document {document_id} is {row.status}, not failed")
            row.status = DocumentStatus.QUEUED
            row.next_attempt_at = self.clock()
            info = documents.info(row)
            deliveries.requeue_for_document(tx, document_id, self.clock())
        LOG.info(
            "document.requeued",
            extra={"document_id": document_id, "status": DocumentStatus.QUEUED, "by": client.name},
        )
        self.send_if_brokered(document_id)
        return info

    def work_due(self, limit: int) -> int:
        """Attempt the owed documents whose time has come, oldest first: issue them here
        (one thread per renderer), or with a broker, send them to it again (their task
        was lost). Returns how many."""
        with self.registry.transaction() as tx:
            found = list(documents.due(tx, self.clock(), limit))
        if self.dispatch is not None:
            for document_id in found:
                self.send(document_id)
        elif found:
            workers = min(len(found), self.renderers.size)
            with ThreadPoolExecutor(workers, thread_name_prefix="issue") as pool:
                list(pool.map(self.issue_accepted, found))
        return len(found)
