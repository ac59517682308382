"""The use cases assembled over their ports: which object gets which registry, archive,
mailer, renderers, clock and dispatcher.

This is the one place that knows how the use cases fit together. :mod:`bootstrap` builds
the ports from settings and hands them here (through :class:`~correspondence.service.Service`);
tests hand in-memory ones. It sits below the facade and above the use cases, so nothing
imports back up (``bootstrap`` → ``service`` → ``wiring`` → use cases)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from correspondence import signing
from correspondence.access import Access
from correspondence.archive import Archive
from correspondence.batches import Batches
from correspondence.config import Settings
from correspondence.deliveries.content import MailContents
from correspondence.deliveries.requests import DeliveryRequests
from correspondence.deliveries.sender import Outbox
from correspondence.form_tokens import SpentTokens
from correspondence.issuing.accept import Acceptor
from correspondence.issuing.complete import Issuer
from correspondence.issuing.review import Reviews
from correspondence.mail import Mailer
from correspondence.previews import Previews
from correspondence.queries import Queries
from correspondence.registry.store import Database, Registry
from correspondence.renderers import EnginePool, Renderers
from correspondence.webhooks import Webhooks
from correspondence.workers import build_renderers


@dataclass(frozen=True)
class UseCases:
    """Every use case, and the shared parts they were built over."""

    registry: Registry
    renderers: Renderers
    engines: EnginePool
    issuer: Issuer
    acceptor: Acceptor
    batches: Batches
    queries: Queries
    previews: Previews
    access: Access
    requests: DeliveryRequests
    outbox: Outbox
    webhooks: Webhooks
    reviews: Reviews
    form_tokens: SpentTokens


def build_use_cases(
    *,
    settings: Settings,
    database: Database,
    archive: Archive,
    mailer: Mailer,
    secret: bytes,
    clock: Callable[[], datetime],
    dispatch: Callable[[str], None] | None = None,
    renderers: Renderers | None = None,
) -> UseCases:
    """The use cases over these ports (``renderers``: the ones the settings choose if
    not given)."""
    registry = Registry(database)
    pool = renderers or build_renderers(settings)
    # In-process renderers also make the HTML previews.
    engines = pool if isinstance(pool, EnginePool) else EnginePool(settings, os.cpu_count() or 1)
    mail = MailContents(settings.templates_dir)
    issuer = Issuer(
        settings=settings,
        registry=registry,
        archive=archive,
        renderers=pool,
        clock=clock,
        dispatch=dispatch,
        mail=mail,
        signer=signing.from_settings(settings),
    )
    acceptor = Acceptor(issuer)
    return UseCases(
        registry=registry,
        renderers=pool,
        engines=engines,
        issuer=issuer,
        acceptor=acceptor,
        batches=Batches(acceptor),
        queries=Queries(registry=registry, archive=archive, renderers=pool),
        previews=Previews(renderers=pool, engines=engines),
        access=Access(settings=settings, registry=registry, clock=clock),
        requests=DeliveryRequests(
            settings=settings,
            registry=registry,
            archive=archive,
            secret=secret,
            clock=clock,
            mail=mail,
        ),
        outbox=Outbox(
            settings=settings,
            registry=registry,
            mail=mail,
            archive=archive,
            mailer=mailer,
            secret=secret,
            clock=clock,
        ),
        webhooks=Webhooks(settings=settings, registry=registry, clock=clock),
        reviews=Reviews(acceptor),
        form_tokens=SpentTokens(registry=registry, clock=clock),
    )
