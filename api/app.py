"""The HTTP API: ``create_app(settings)``.

Handlers are thin (:mod:`api.routes`, one router per area): parse the request, make one
service call off the event loop, map the result to a response model (:mod:`api.schemas`).
Errors reach the client through :mod:`api.errors` only.
"""

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from api import errors, ui_tokens
from api.access_log import AccessLog
from api.routes import (
    admin,
    batches,
    deliveries,
    docs,
    documents,
    health,
    metrics,
    previews,
    webhooks,
)
from api.tracing import RequestIdOnSpan, telemetry
from api.ui import build_router
from api.ui_headers import SecurityHeaders
from api.ui_pages import SignInRequired
from correspondence import __version__, tracing
from correspondence.bootstrap import build_service
from correspondence.config import Settings
from correspondence.service import Service

LOG = logging.getLogger("correspondence.api")

TAGS = [
    {"name": "documents", "description": "Issue documents and read the registry"},
    {"name": "batches", "description": "Many payloads at once"},
    {"name": "deliveries", "description": "Email issued documents; signed download links"},
    {"name": "previews", "description": "Drafts, never numbered or archived"},
    {"name": "kinds", "description": "The document kinds and their request schemas"},
    {"name": "verification", "description": "Whether we issued a PDF"},
    {"name": "health", "description": "Liveness and readiness (no credentials); metrics"},
    {"name": "admin", "description": "API keys and staff accounts (the `admin` scope)"},
    {"name": "webhooks", "description": "Endpoints told when documents and deliveries end"},
]

DESCRIPTION = """Localized documents for a trade credit insurer: issue, preview, verify.

Every operation but the health checks needs an API key: `Authorization: Bearer cor_…`
(browsers may send it as the password of Basic authentication). Every error is
`{"errors": [{"error", "field", "message"}]}`; timestamps are RFC 3339 in UTC (`…Z`).
"""


def create_app(settings: Settings, *, service: Service | None = None) -> FastAPI:
    """The ASGI application for ``settings`` (a prebuilt ``service`` may be injected)."""
    svc = service or build_service(settings)
    stop = threading.Event()

    def issuer_loop() -> None:
        waiting = svc.issuer.work_waiting  # set after a commit that leaves work for it
        while not stop.is_set():
            waiting.clear()  # before the pass: work committed during it is not missed
            if stop.is_set():  # shutdown's wake-up may have been the one just cleared
                break
            try:
                done = svc.work_once()
            except Exception:  # keep the loop alive; the next pass retries
                LOG.exception("issuer loop")
                done = 0
            if not done:  # the next poll finds what has fallen due with time
                waiting.wait(settings.worker_poll_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = threading.Thread(target=issuer_loop, name="issuer", daemon=True)
        if settings.run_worker:
            worker.start()
        warm = getattr(svc.renderers, "warm", None)
        if warm is not None:  # start the render workers now, not on the first request
            threading.Thread(target=warm, name="warm-renderers", daemon=True).start()
        yield
        stop.set()
        svc.issuer.work_waiting.set()
        if worker.is_alive():
            worker.join(timeout=30)
        svc.close()
        gc.unfreeze()  # what warming set aside goes back to the collector with the service

    tracing.configure(settings)  # off by default: then no tracer provider at all
    app = FastAPI(
        title="correspondence",
        telemetry=telemetry(),
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        openapi_tags=TAGS,
        generate_unique_id_function=lambda route: route.name,  # issue_document, get_pdf …
    )
    app.state.service = svc
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(errors.CatchAll)
    app.add_middleware(
        errors.RequestGuard,
        limit=settings.max_body_bytes,
        larger={"/v1/batches": settings.max_batch_bytes},
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=svc.secret.decode(),
        same_site="strict",
        session_cookie="correspondence_ui",
        max_age=int(ui_tokens.LIFETIME),  # a session lasts as long as its form tokens
    )
    if tracing.enabled():
        app.add_middleware(RequestIdOnSpan)
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders)  # CSP, Referrer-Policy, nosniff on /ui and /docs
    app.include_router(build_router(svc))
    for area in (health, metrics, docs, documents, batches, deliveries, previews, admin, webhooks):
        app.include_router(area.router)

    def openapi() -> dict[str, Any]:
        return docs.build_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(SignInRequired)
    async def _sign_in(_: Request, __: SignInRequired) -> Response:
        return RedirectResponse("/ui/login", status_code=303)

    return app


def app_from_environment() -> FastAPI:
    """The application configured from ``CORRESPONDENCE_*`` variables (for ``serve``)."""
    return create_app(Settings())
