"""The OpenAPI document (no credentials: it holds no data) and its two readers, Swagger UI
at ``/docs`` and ReDoc at ``/redoc``, whose scripts and styles this process serves itself
(from the ``fastapi-offline`` package): they work with no network."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.context import caller
from api.errors import ApiError
from api.kind_schemas import components
from correspondence.errors import Unauthenticated
from correspondence.service import Client

router = APIRouter(include_in_schema=False)

ASSETS = files("fastapi_offline") / "static"
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
PREFIX = "/docs/assets/"
OFF_SITE = {b"https://cdn.redoc.ly/redoc/logo-mini.svg": f"{PREFIX}favicon.png".encode()}
"""The one file a bundle would fetch from elsewhere (ReDoc's sidebar logo): ours instead."""


@cache
def _asset(name: str) -> bytes:
    data = (ASSETS / name).read_bytes()
    for remote, local in OFF_SITE.items():
        data = data.replace(remote, local)
    return data


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document: FastAPI's, with the kinds' request bodies in its components."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        kinds, union = components()
        found = spec.setdefault("components", {}).setdefault("schemas", {})
        clash = sorted(set(found) & set(kinds))
        if clash:  # a response model named like a payload model: rename one of them
            raise RuntimeError(f"schemas named twice: {', '.join(clash)}")
        found.update(kinds)
        found["DocumentRequest"] = union
        app.openapi_schema = spec
    return app.openapi_schema


async def _reader(request: Request) -> Client:
    """Whoever reads the docs pages: the API key, as a bearer token or a Basic password."""
    try:
        return await caller(request, None, None)
    except Unauthenticated:
        raise ApiError(
            401,
            "unauthenticated",
            "sign in with your API key as the password",
            "Authorization",
            {"WWW-Authenticate": 'Basic realm="correspondence API docs"'},
        ) from None


Reader = Annotated[Client, Depends(_reader)]


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(build_openapi(request.app))


@router.get("/docs")
async def docs(_: Reader) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="correspondence API",
        swagger_js_url=f"{PREFIX}swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}favicon.png",
    )


@router.get("/redoc")
async def redoc(_: Reader) -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="correspondence API",
        redoc_js_url=f"{PREFIX}redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}favicon.png",
        with_google_fonts=False,
    )


@router.get(PREFIX + "{name}")
async def asset(name: str) -> Response:
    """One of the readers' packaged files (a fixed list; no path comes from the request)."""
    media = ASSET_TYPES.get(name)
    if media is None:
        raise ApiError(404, "not_found", f"no asset {name[:80]!r}")
    return Response(
        _asset(name), media_type=media, headers={"Cache-Control": "public, max-age=86400"}
    )
