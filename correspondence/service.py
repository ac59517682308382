"""The facade the API and the CLI call; each use case lives in a module of its own, and
only :mod:`correspondence.registry` reaches the database."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime

from correspondence.access import Access
from correspondence.archive import Archive
from correspondence.batches import Batches
from correspondence.config import Settings
from correspondence.deliveries.requests import DeliveryRequests
from correspondence.deliveries.sender import Outbox
from correspondence.issuing.accept import Acceptor
from correspondence.issuing.complete import Issuer
from correspondence.mail import Mailer
from correspondence.previews import Previews
from correspondence.queries import Queries
from correspondence.registry.store import Database, Registry
from correspondence.renderers import EnginePool, Renderers
from correspondence.results import Client, DocumentInfo, DocumentQuery, Staff
from correspondence.scopes import SCOPES
from correspondence.workers import build_renderers

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
    engines: EnginePool = field(init=False)
    renderers: Renderers = field(init=False)
    outbox: Outbox = field(init=False)
    batches: Batches = field(init=False)

    def __post_init__(self, render_pool: Renderers | None) -> None:
        s, clock, archive, secret = self.settings, self.clock, self.archive, self.secret
        self.registry = registry = Registry(self.database)
        self.renderers = pool = render_pool or build_renderers(s)
        # In-process renderers also compose the emails and the HTML previews.
        self.engines = pool if isinstance(pool, EnginePool) else EnginePool(s, os.cpu_count() or 1)
        self.issuer = Issuer(settings=s, registry=registry, archive=archive, renderers=pool,
                             clock=clock, dispatch=self.dispatch)  # fmt: skip
        self.acceptor = Acceptor(self.issuer)
        self.batches = Batches(self.acceptor)
        self.queries = Queries(registry=registry, archive=archive, renderers=pool)
        self.previews = Previews(renderers=pool, engines=self.engines)
        self.access = Access(settings=s, registry=registry, clock=clock)
        self.requests = DeliveryRequests(settings=s, registry=registry, archive=archive,
                                         secret=secret, clock=clock)  # fmt: skip
        self.outbox = Outbox(settings=s, registry=registry, engines=self.engines, archive=archive,
                             mailer=self.mailer, secret=secret, clock=clock)  # fmt: skip
        # Each of these public methods is its use case's own (same name and signature).
        q, a, r, i, c = self.queries, self.access, self.requests, self.issuer, self.acceptor
        self.get, self.pdf, self.list, self.verify = q.get, q.pdf, q.list, q.verify
        self.reissue_check, self.preview = q.reissue_check, self.previews.preview
        self.payload, self.metrics_snapshot = q.payload, q.metrics_snapshot
        self.deliver, self.deliveries, self.download = r.deliver, r.deliveries, r.download
        self.create_api_key, self.authenticate = a.create_api_key, a.authenticate
        self.create_staff, self.disable_staff = a.create_staff, a.disable_staff
        self.sign_in, self.sign_out, self.staff = a.sign_in, a.sign_out, a.staff
        self.issue, self.prepare, self.dispatch_queued = c.issue, c.prepare, c.dispatch_queued
        self.accept_all = c.accept_all
        self.issue_accepted, self.retry = i.issue_accepted, i.retry

    def close(self) -> None:
        """Stop the render workers and the lease heartbeat; close the broker."""
        self.issuer.close()
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
        then due emails sent. Returns how many things were attempted."""
        return self.issuer.work_due(limit) + self.outbox.send_due(limit)
