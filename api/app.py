"""The HTTP API: ``create_app(settings)``.

Handlers are thin: parse the request, make one service call off the event loop, map the
result. Errors reach the client through :mod:`api.errors` only.
"""

import base64
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from api import errors
from api.errors import ApiError
from api.ui import SignInRequired, build_router
from correspondence import __version__, bounded_json
from correspondence.batches import BatchProgress, parse_ndjson
from correspondence.bootstrap import build_service
from correspondence.config import Settings
from correspondence.errors import Unauthenticated
from correspondence.kinds import KINDS
from correspondence.results import DeliveryInfo
from correspondence.service import Client, DocumentInfo, DocumentQuery, Service

LOG = logging.getLogger("correspondence.api")
T = TypeVar("T")

JSON_TYPES = ("application/json", "application/merge-patch+json")


def _document(info: DocumentInfo) -> dict[str, Any]:
    body = asdict(info)
    body["issue_date"] = info.issue_date.isoformat()
    body["created_at"] = info.created_at.isoformat()
    body["issued_at"] = info.issued_at.isoformat() if info.issued_at else None
    body["warnings"] = list(info.warnings)
    body["links"] = {
        "self": f"/v1/documents/{info.id}",
        "pdf": f"/v1/documents/{info.id}/pdf",
    }
    return body


def _delivery(info: DeliveryInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "document_id": info.document_id,
        "to": list(info.to),
        "cc": list(info.cc),
        "status": info.status,
        "message_id": info.message_id,
        "last_error": info.last_error,
        "created_at": info.created_at.isoformat(),
        "sent_at": info.sent_at.isoformat() if info.sent_at else None,
        "next_attempt_at": info.next_attempt_at.isoformat() if info.next_attempt_at else None,
        "attempts": [
            {"at": a.at.isoformat(), "outcome": a.outcome, "detail": a.detail}
            for a in info.attempts
        ],
    }


def _batch(progress: BatchProgress) -> dict[str, Any]:
    return {
        "id": progress.id,
        "total": progress.total,
        "counts": progress.counts,
        "rate_per_second": progress.rate_per_second,
        "done": progress.done,
        "created_at": progress.created_at.isoformat(),
        "links": {
            "self": f"/v1/batches/{progress.id}",
            "documents": f"/v1/batches/{progress.id}/documents",
        },
    }


MAX_OFFSET = 10**9
"""The largest list offset (422 above): far past any registry, well inside a 64-bit integer."""


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 above ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"the body is over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too_large", f"the body is over {limit} bytes")
    return bytes(body)


async def _read_json(request: Request, limit: int) -> Any:
    """The request body as JSON: 415 for another media type, 413 above ``limit`` bytes."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send application/json, not {media or 'no content type'}",
            "Content-Type",
        )
    return bounded_json.loads(await _read_body(request, limit))


def create_app(settings: Settings, *, service: Service | None = None) -> FastAPI:
    """The ASGI application for ``settings`` (a prebuilt ``service`` may be injected)."""
    svc = service or build_service(settings)
    stop = threading.Event()

    def issuer_loop() -> None:
        while not stop.is_set():
            try:
                done = svc.work_once()
            except Exception:  # keep the loop alive; the next pass retries
                LOG.exception("issuer loop")
                done = 0
            if not done:
                stop.wait(settings.worker_poll_seconds)

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
        if worker.is_alive():
            worker.join(timeout=30)
        svc.close()

    app = FastAPI(
        title="correspondence",
        version=__version__,
        description="Localized documents for a trade credit insurer: issue, preview, verify.",
        lifespan=lifespan,
        docs_url=None,
        openapi_url=None,
    )
    app.state.service = svc
    errors.install(app)
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
        max_age=8 * 3600,
    )
    app.include_router(build_router(svc))

    @app.exception_handler(SignInRequired)
    async def _sign_in(_: Request, __: SignInRequired) -> Response:
        return RedirectResponse("/ui/login", status_code=303)

    async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def client(authorization: Annotated[str | None, Header()] = None) -> Client:
        token = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer":
                token = value.strip()
            elif scheme.lower() == "basic":  # browsers, for /docs: any user, the key as password
                try:
                    token = base64.b64decode(value).decode().partition(":")[2]
                except (ValueError, UnicodeDecodeError):
                    token = None
        return await call(svc.authenticate, token)

    Authenticated = Annotated[Client, Depends(client)]

    # -- health ---------------------------------------------------------------------------

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> dict[str, str]:
        """Readiness: the database and the archive are reachable (503 otherwise)."""
        return await call(svc.check_ready)

    # -- documentation, behind credentials --------------------------------------------------

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(
        _: Request, who: Annotated[Client | None, Depends(_docs_client(client))]
    ) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(who: Annotated[Client | None, Depends(_docs_client(client))]) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="correspondence API")

    # -- documents ------------------------------------------------------------------------

    @app.post("/v1/documents", status_code=201, tags=["documents"])
    async def issue_document(
        request: Request,
        who: Authenticated,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
        prefer: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Issue a document from a payload like the samples; `Prefer: respond-async` → 202."""
        body = await _read_json(request, settings.max_body_bytes)
        if not isinstance(body, dict):
            raise ApiError(422, "type", "the body must be a JSON object")
        asynchronous = "respond-async" in (prefer or "").lower()
        outcome = await call(
            svc.issue, body, client=who, idempotency_key=idempotency_key, asynchronous=asynchronous
        )
        doc = outcome.document
        location = {"Location": f"/v1/documents/{doc.id}"}
        if doc.status in ("queued", "issuing"):
            return JSONResponse(
                _document(doc),
                status_code=202,
                headers={**location, "Preference-Applied": "respond-async"},
            )
        status = 201 if outcome.created or outcome.replayed else 200
        return JSONResponse(_document(doc), status_code=status, headers=location)

    @app.get("/v1/documents", tags=["documents"])
    async def list_documents(
        who: Authenticated,
        policy_number: str | None = None,
        kind: str | None = None,
        locale: str | None = None,
        status: str | None = None,
        policyholder: str | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        """Documents, newest first, filtered and paginated."""
        query = DocumentQuery(
            policy_number=policy_number,
            kind=kind,
            locale=locale,
            status=status,
            policyholder=policyholder,
            issued_from=issued_from,
            issued_to=issued_to,
            limit=limit,
            offset=offset,
        )
        page = await call(svc.list, query, client=who)
        links: dict[str, str] = {}
        if offset + limit < page.total:
            links["next"] = f"/v1/documents?limit={limit}&offset={offset + limit}"
        return {
            "items": [_document(d) for d in page.items],
            "total": page.total,
            "limit": limit,
            "offset": offset,
            "links": links,
        }

    @app.get("/v1/documents/{document_id}", tags=["documents"])
    async def get_document(document_id: str, who: Authenticated) -> dict[str, Any]:
        """One document's metadata (and its status, for asynchronous requests)."""
        return _document(await call(svc.get, document_id, client=who))

    @app.get("/v1/documents/{document_id}/pdf", tags=["documents"])
    async def get_pdf(document_id: str, who: Authenticated) -> Response:
        """The archived PDF, byte for byte; never re-rendered."""
        info, data = await call(svc.pdf, document_id, client=who)
        name = f"{info.kind}-{info.number or info.business_reference}.pdf"
        return Response(
            data,
            media_type="application/pdf",
            headers={
                "ETag": f'"{info.sha256}"',
                "Content-Disposition": f'inline; filename="{_ascii_name(name)}"',
            },
        )

    @app.post("/v1/documents/{document_id}/retry", tags=["documents"])
    async def retry_document(document_id: str, who: Authenticated) -> dict[str, Any]:
        """Queue a failed document again."""
        return _document(await call(svc.retry, document_id, client=who))

    # -- batches ------------------------------------------------------------------------------

    @app.post("/v1/batches", status_code=202, tags=["batches"])
    async def submit_batch(request: Request, who: Authenticated) -> JSONResponse:
        """Many payloads at once: a JSON array, or `application/x-ndjson`, one per line."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/x-ndjson":
            items = parse_ndjson(await _read_body(request, settings.max_batch_bytes))
        else:
            items = await _read_json(request, settings.max_batch_bytes)
            if not isinstance(items, list):
                raise ApiError(422, "type", "send a JSON array of payloads, or NDJSON")
        progress = await call(svc.batches.submit, items, client=who)
        return JSONResponse(
            _batch(progress), status_code=202, headers={"Location": f"/v1/batches/{progress.id}"}
        )

    @app.get("/v1/batches/{batch_id}", tags=["batches"])
    async def batch_progress(batch_id: str, who: Authenticated) -> dict[str, Any]:
        """Counts per status and the rate so far."""
        return _batch(await call(svc.batches.progress, batch_id, client=who))

    @app.get("/v1/batches/{batch_id}/documents", tags=["batches"])
    async def batch_documents(batch_id: str, who: Authenticated) -> list[dict[str, Any]]:
        """Every item: its document, or the errors that refused it."""
        results = await call(lambda: list(svc.batches.results(batch_id, client=who)))
        return [
            {
                "position": r.position,
                "document": _document(r.document) if r.document else None,
                "errors": [
                    {"error": p.error, "field": p.field, "message": p.message} for p in r.problems
                ],
            }
            for r in results
        ]

    # -- deliveries and download links ---------------------------------------------------------

    @app.post("/v1/documents/{document_id}/deliveries", status_code=201, tags=["deliveries"])
    async def deliver(
        document_id: str,
        request: Request,
        who: Authenticated,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        """Email an issued document: `{"email": {"to": [...], "cc": [...]}}`."""
        body = await _read_json(request, settings.max_body_bytes)
        info, created = await call(
            svc.deliver, document_id, body, client=who, idempotency_key=idempotency_key
        )
        return JSONResponse(_delivery(info), status_code=201 if created else 200)

    @app.get("/v1/documents/{document_id}/deliveries", tags=["deliveries"])
    async def deliveries(document_id: str, who: Authenticated) -> list[dict[str, Any]]:
        """Every delivery of a document and each attempt."""
        return [_delivery(d) for d in await call(svc.deliveries, document_id, client=who)]

    @app.get("/v1/downloads/{token}", tags=["deliveries"])
    async def download(token: str) -> Response:
        """A PDF behind a signed, expiring email link (no API key: the signature is the key)."""
        info, data = await call(svc.download, token)
        name = f"{info.kind}-{info.number or info.business_reference}.pdf"
        return Response(
            data,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{_ascii_name(name)}"',
                "Cache-Control": "private, no-store",
            },
        )

    # -- previews, kinds, verification --------------------------------------------------------

    @app.post("/v1/previews", tags=["previews"])
    async def preview(
        request: Request,
        who: Authenticated,
        locale: Literal["es-MX", "es-ES", "en-GB", "en-US"] | None = None,
        format: Literal["pdf", "html"] = "pdf",
    ) -> Response:
        """Render a draft (BORRADOR / DRAFT on every page): no number, registry or archive."""
        body = await _read_json(request, settings.max_body_bytes)
        if not isinstance(body, dict):
            raise ApiError(422, "type", "the body must be a JSON object")
        rendered = await call(svc.preview, body, client=who, locale=locale, html=format == "html")
        if isinstance(rendered, str):
            return HTMLResponse(rendered)
        return Response(rendered, media_type="application/pdf")

    @app.get("/v1/kinds", tags=["kinds"])
    async def kinds(who: Authenticated) -> list[dict[str, Any]]:
        """Every kind, with its JSON Schema and its sample payload."""
        return [
            {"name": k.name, "schema": k.model.model_json_schema(), "sample": k.sample()}
            for k in KINDS.values()
        ]

    @app.get("/v1/verify/{sha256}", tags=["verification"])
    async def verify(sha256: str, who: Authenticated) -> dict[str, Any]:
        """Whether we issued the PDF with this sha256, and which document it is."""
        if len(sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha256):
            raise ApiError(422, "invalid", "a sha256 is 64 hexadecimal characters", "sha256")
        found = await call(svc.verify, sha256, client=who)
        return {"issued": found is not None, "document": _document(found) if found else None}

    return app


def _docs_client(client: Callable[..., Any]) -> Callable[..., Any]:
    async def dependency(authorization: Annotated[str | None, Header()] = None) -> Any:
        try:
            return await client(authorization)
        except Unauthenticated:
            raise ApiError(
                401,
                "unauthenticated",
                "sign in with your API key as the password",
                "Authorization",
                {"WWW-Authenticate": 'Basic realm="correspondence API docs"'},
            ) from None

    return dependency


def _ascii_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def app_from_environment() -> FastAPI:
    """The application configured from ``CORRESPONDENCE_*`` variables (for ``serve``)."""
    return create_app(Settings())
