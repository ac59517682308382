"""What every router shares: the service, the settings, the caller, the body readers and
the error responses each operation documents."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBasic, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from api.errors import ApiError
from api.schemas import Errors
from correspondence import bounded_json, logs
from correspondence.config import Settings
from correspondence.errors import Unauthenticated
from correspondence.service import Client, Service

T = TypeVar("T")

JSON_TYPES = ("application/json", "application/merge-patch+json")

UNMETERED = frozenset({"/metrics"})
"""Paths a key may call past its rate limit: a scraper must see an overloaded service.
(Health checks need no key at all.)"""

MAX_OFFSET = 10**9
"""The largest list offset (422 above): far past any registry, well inside a 64-bit integer."""


class _Declared(HTTPBearer):
    """The bearer scheme, declared for OpenAPI; the header is read by :func:`caller`."""

    async def __call__(self, request: HTTPConnection) -> None:
        return None


class _DeclaredBasic(HTTPBasic):
    """Basic (any user name, the API key as password): what a browser sends to /docs."""

    async def __call__(self, request: HTTPConnection) -> None:
        return None


BEARER = _Declared(
    scheme_name="bearer",
    bearerFormat="cor_<prefix>_<secret>",
    description="An API key: `Authorization: Bearer cor_…`",
    auto_error=False,
)
BASIC = _DeclaredBasic(
    scheme_name="basic",
    description="Any user name and the API key as the password (browsers, for /docs)",
    auto_error=False,
)


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value, validate=True).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn`` off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def caller(
    request: Request,
    _bearer: Annotated[None, Security(BEARER)],
    _basic: Annotated[None, Security(BASIC)],
) -> Client:
    """The API client whose key the request carries (401 without one, or with a bad one;
    429 past the key's rate limit, except on :data:`UNMETERED` paths)."""
    svc: Service = request.app.state.service
    token = _token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("send Authorization: Bearer <API key>")
    try:
        client = await call(
            svc.access.authenticate, token, metered=request.url.path not in UNMETERED
        )
    except Unauthenticated:
        raise Unauthenticated(
            "the API key in Authorization is not valid: unknown, revoked or malformed"
        ) from None
    request.state.key = client.name  # for the access log line (api.access_log)
    logs.bind(key=client.name)
    return client


Authenticated = Annotated[Client, Depends(caller)]


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


async def read_body(request: Request, limit: int) -> bytes:
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


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON: 415 for another media type, 413 above ``limit`` bytes."""
    media = media_type(request)
    if media not in JSON_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send application/json, not {media or 'no content type'}",
            "Content-Type",
        )
    return bounded_json.loads(await read_body(request, limit))


async def read_object(request: Request, limit: int) -> dict[str, Any]:
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise ApiError(422, "type", "the body must be a JSON object")
    return body


# --- documented responses ---------------------------------------------------------------------

_WHY = {
    400: "The request body was cut short",
    401: "No API key, or one that is unknown, revoked or malformed",
    403: "The key lacks the scope this operation needs",
    404: "No such resource (or not one this key may read)",
    409: "Conflicts with the registry's state (see the message)",
    413: "The body is over the size limit",
    415: "The body is not JSON",
    422: "Invalid input: each error names its field",
    429: "Over the key's rate limit; retry after Retry-After seconds",
    500: "A document could not be rendered, or an internal error",
    503: "A dependency (database, archive, renderers) is unavailable; retry later",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for ``statuses``, each with the error envelope."""
    return {s: {"model": Errors, "description": _WHY[s]} for s in statuses}


AUTH = (401, 403, 422, 429, 503, 500)
"""Every authenticated operation may answer these."""
BODY = (400, 413, 415)
"""…and every one that reads a body, these."""
