"""The one mapping from core errors to HTTP statuses, and the one error envelope:

{"errors": [{"error": "...", "field": "...", "message": "..."}]}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from math import ceil
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from correspondence.errors import (
    Conflict,
    DocumentFailed,
    Forbidden,
    InvalidPayload,
    NotFound,
    Problem,
    RenderError,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)

LOG = logging.getLogger("correspondence.api")

_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_BYTES = re.compile(b"[\x00-\x1f\x7f]")

RETRY_AFTER_SECONDS = "5"


class ApiError(Exception):
    """An error raised by the HTTP layer itself (body too large, wrong media type …)."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        field: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = Problem(field, message, error)
        self.headers = headers


def envelope(
    problems: Iterable[Problem], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error envelope."""
    body = {
        "errors": [{"error": p.error, "field": p.field, "message": p.message} for p in problems]
    }
    return JSONResponse(body, status_code=status, headers=headers)


class RequestGuard:
    """Refuse, before any route sees them:

    - a body whose declared ``Content-Length`` is over the limit (413), whichever route it
      is for: the JSON routes check it again as they read, but the staff UI's forms would
      otherwise wait for 10¹² bytes that never come;
    - a path or query string holding a control character once percent-decoded (422): no
      identifier or filter has one, and PostgreSQL refuses a NUL in a string parameter."""

    def __init__(self, app: ASGIApp, *, limit: int, larger: dict[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
            if _CONTROL.search(scope["path"]) or _CONTROL_BYTES.search(query):
                response = envelope(
                    [Problem("", "the path or query holds a control character", "control")], 422
                )
                await response(scope, receive, send)
                return
            limit = self.larger.get(scope["path"], self.limit)
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > limit:
                    response = envelope(
                        [Problem("Content-Length", f"the body is over {limit} bytes", "too_large")],
                        413,
                        {"Connection": "close"},
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class CatchAll:
    """An error no handler maps: logged once, with its traceback, and answered ``500`` with
    the envelope. (Starlette's outermost middleware would answer it too, but re-raises it
    for the server to log a second time.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            LOG.exception("unhandled error")
            if started:  # too late for an answer: the client sees the connection end
                raise
            await envelope([Problem("", "internal error", "internal")], 500)(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the envelope."""

    @app.exception_handler(InvalidPayload)
    async def _invalid(_: Request, exc: InvalidPayload) -> JSONResponse:
        return envelope(exc.problems, 422)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return envelope([exc.problem], exc.status, exc.headers)

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        return envelope(
            [Problem("Authorization", str(exc), "unauthenticated")],
            401,
            {"WWW-Authenticate": 'Bearer realm="correspondence"'},
        )

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return envelope([Problem("Authorization", str(exc), "forbidden")], 403)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return envelope([Problem("", str(exc), "not_found")], 404)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return envelope([Problem("", str(exc), "conflict")], 409)

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        LOG.warning("dependency unavailable: %s", exc)
        return envelope(
            [Problem("", "a dependency is unavailable; retry later", "unavailable")],
            503,
            {"Retry-After": RETRY_AFTER_SECONDS},
        )

    @app.exception_handler(RenderError)
    async def _render(_: Request, exc: RenderError) -> JSONResponse:
        LOG.error("render failed: %s", exc)
        return envelope([Problem("", "the document could not be rendered", "render_error")], 500)

    @app.exception_handler(TooManyAttempts)
    async def _too_many(_: Request, exc: TooManyAttempts) -> JSONResponse:
        return envelope(
            [Problem("", str(exc), "too_many_attempts")],
            429,
            {"Retry-After": str(max(1, ceil(exc.retry_after)))},
        )

    @app.exception_handler(DocumentFailed)
    async def _failed(_: Request, exc: DocumentFailed) -> JSONResponse:
        LOG.error("document failed: %s", exc)
        message = (
            f"document {exc.document_id} could not be rendered and is recorded as failed: "
            f'{exc.reason}. Send the corrected payload with "reissue": true'
        )
        return envelope(
            [Problem("", message, "render_failed")],
            422,
            {"Location": f"/v1/documents/{exc.document_id}"},
        )

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), e["msg"], e["type"])
            for e in exc.errors()
        ]
        return envelope(problems, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed"}
        return envelope(
            [Problem("", str(exc.detail), names.get(exc.status_code, "http_error"))],
            exc.status_code,
            dict(exc.headers or {}),
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, __: ClientDisconnect) -> JSONResponse:
        # The client left before sending its whole body: nobody will read this answer.
        return envelope([Problem("", "the request body was cut short", "incomplete")], 400)
