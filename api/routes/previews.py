"""Drafts and the kinds: what a payload looks like before it is issued."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api import kind_schemas as schemas
from api.context import AUTH, BODY, Authenticated, call, errors, read_object, service, settings
from api.kind_schemas import kind_schema
from api.schemas import KindOut, Locale
from correspondence.issuing.checked import REQUEST_OPTIONS
from correspondence.kinds import KINDS

router = APIRouter()


@router.post(
    "/v1/previews",
    tags=["previews"],
    response_class=Response,
    responses={
        200: {
            "description": "The draft (BORRADOR / DRAFT on every page)",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        **errors(*AUTH, *BODY),
    },
    openapi_extra={"requestBody": schemas.DOCUMENT_BODY},
)
async def preview(
    request: Request,
    who: Authenticated,
    locale: Locale | None = None,
    format: Literal["pdf", "html"] = "pdf",
) -> Response:
    """Render a draft of a payload (its request options are ignored): no number, registry
    or archive. `locale` renders it in another of our locales."""
    body = await read_object(request, settings(request).max_body_bytes)
    payload = {k: v for k, v in body.items() if k not in REQUEST_OPTIONS}
    rendered = await call(
        service(request).preview, payload, client=who, locale=locale, html=format == "html"
    )
    if isinstance(rendered, str):
        return HTMLResponse(rendered)
    return Response(rendered, media_type="application/pdf")


@router.get("/v1/kinds", tags=["kinds"], response_model=list[KindOut], responses=errors(*AUTH))
async def kinds(who: Authenticated) -> list[KindOut]:
    """Every kind, with the JSON Schema of its request body and its sample payload: the
    same schemas as the `DocumentRequest` union of this API's OpenAPI document."""
    return [KindOut(name=k.name, schema_=kind_schema(k), sample=k.sample()) for k in KINDS.values()]
