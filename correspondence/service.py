"""The facade the API and the CLI call: it holds the use cases and forwards to them.
Each use case lives in a module of its own, :mod:`correspondence.wiring` assembles them
over their ports, and only :mod:`correspondence.registry` reaches the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime

from correspondence.archive import Archive
from correspondence.batches import Batches
from correspondence.config import Settings
from correspondence.deliveries.sender import Outbox
from correspondence.mail import Mailer
from correspondence.registry.store import Database
from correspondence.renderers import EnginePool, Renderers
from correspondence.results import Client, DocumentInfo, DocumentQuery, Staff
from correspondence.scopes import SCOPES
from correspondence.wiring import UseCases, build_use_cases

Clock = Callable[[], datetime]
__all__ = ["SCOPES", "Client", "Clock", "DocumentInfo", "DocumentQuery", "Service", "Staff"]


@dataclass
class Service:
    """The use cases of correspondence, assembled over one database, archive and mailer."""

    settings: Settings
    database: Database
    archive: Archive
    mailer: Mailer
    secret: bytes
    clock: Clock
    dispatch: Callable[[str], None] | None = None
    render_pool: InitVar[Renderers | None] = None
    assembled: InitVar[UseCases | None] = None
    engines: EnginePool = field(init=False)
    renderers: Renderers = field(init=False)
    outbox: Outbox = field(init=False)
    batches: Batches = field(init=False)

    def __post_init__(self, render_pool: Renderers | None, assembled: UseCases | None) -> None:
        """Hold the use cases ``bootstrap`` assembled, or assemble them over these ports."""
        u = self.use_cases = assembled or build_use_cases(
            settings=self.settings, database=self.database, archive=self.archive,
            mailer=self.mailer, secret=self.secret, clock=self.clock,
            dispatch=self.dispatch, renderers=render_pool,
        )  # fmt: skip
        self.registry, self.renderers, self.engines = u.registry, u.renderers, u.engines
        self.issuer, self.acceptor, self.batches = u.issuer, u.acceptor, u.batches
        self.queries, self.previews, self.access = u.queries, u.previews, u.access
        self.requests, self.outbox, self.webhooks = u.requests, u.outbox, u.webhooks
        # Each of these public methods is its use case's own (same name and signature).
        q, a, r, i, c = u.queries, u.access, u.requests, u.issuer, u.acceptor
        self.get, self.pdf, self.list, self.verify = q.get, q.pdf, q.list, q.verify
        self.reissue_check, self.preview = q.reissue_check, u.previews.preview
        self.payload, self.metrics_snapshot = q.payload, q.metrics_snapshot
        self.deliver, self.deliveries, self.download = r.deliver, r.deliveries, r.download
        self.create_api_key, self.authenticate = a.create_api_key, a.authenticate
        self.create_staff, self.disable_staff = a.create_staff, a.disable_staff
        self.set_staff_locale = a.set_staff_locale
        self.sign_in, self.sign_out, self.staff = a.sign_in, a.sign_out, a.staff
        self.issue, self.prepare, self.dispatch_queued = c.issue, c.prepare, c.dispatch_queued
        self.accept_all = c.accept_all
        self.issue_accepted, self.retry = i.issue_accepted, i.retry
        v = self.reviews = u.reviews  # review before issue: docs/review.md
        self.approve, self.reject, self.review_queue = v.approve, v.reject, v.queue
        self.submit_for_review, self.review_actions = v.submit, v.actions
        self.review_draft = v.draft

    def close(self) -> None:
        """Stop the render workers, the lease heartbeat and the webhook dispatcher; close the
        broker."""
        self.issuer.close()
        self.webhooks.close()
        self.renderers.close()
        close = getattr(self.dispatch, "close", None)
        if close is not None:
            close()

    def check_ready(self) -> dict[str, str]:
        """Reach the database, the archive and a live renderer (or :class:`Unavailable`)."""
        self.registry.ping()
        self.archive.check()
        self.renderers.check()
        return {"database": "ok", "archive": "ok", "renderers": "ok"}

    def work_once(self, limit: int = 10) -> int:
        """One pass of the issuer: due documents issued (with a broker, sent to it again),
        then due emails sent; due webhook events are sent on a thread of their own.
        Returns how many documents and emails were attempted."""
        self.webhooks.send_in_background(limit)
        return self.issuer.work_due(limit) + self.outbox.send_due(limit)
