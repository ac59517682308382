"""One log line per request: method, route template, status, duration, request id, key.

The request id is the caller's ``X-Request-ID`` when it is a plain token
(:func:`correspondence.logs.clean_request_id`), else a new one; it is echoed in the
response and bound for every line logged while the request runs, so a document issued
in the request carries it into the issuer. The key's name is what :func:`api.context.caller`
leaves in the request state; the key itself is never logged. Uvicorn's own access log is
off (``correspondence serve``), so this is the only line per request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from correspondence import logs

LOG = logging.getLogger("correspondence.api.access")

HEADER = "X-Request-ID"


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


class AccessLog:
    """The outermost middleware: binds the request id and logs the finished request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode())
        request_id = logs.clean_request_id(given.decode("latin-1") if given else None)
        status = 500
        started = time.perf_counter()

        async def echo(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        with logs.bound(request_id=request_id):
            try:
                await self.app(scope, receive, echo)
            finally:
                fields = {
                    "method": scope["method"],
                    "route": _route(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "key": scope.get("state", {}).get("key"),
                }
                level = logging.WARNING if status >= 500 else logging.INFO
                LOG.log(level, "request", extra=fields)
