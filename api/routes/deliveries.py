"""Email deliveries of issued documents, and the signed download links they carry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from api import kind_schemas as schemas
from api.context import AUTH, BODY, Authenticated, call, errors, read_object, service, settings
from api.pdfs import pdf_response, pdf_responses
from api.routes.documents import IDEMPOTENCY, ascii_name
from api.schemas import Delivery
from correspondence.errors import NotFound

router = APIRouter(tags=["deliveries"])


@router.post(
    "/v1/documents/{document_id}/deliveries",
    status_code=201,
    response_model=Delivery,
    responses={
        200: {"model": Delivery, "description": "A replay of an Idempotency-Key"},
        **errors(*AUTH, *BODY, 404),
    },
    openapi_extra={"requestBody": schemas.DELIVERY_BODY},
)
async def deliver(
    request: Request,
    document_id: str,
    who: Authenticated,
    idempotency_key: Annotated[str | None, Header(max_length=200, description=IDEMPOTENCY)] = None,
) -> JSONResponse:
    """Email an issued document (sent once it is issued, retried on temporary failures)."""
    body = await read_object(request, settings(request).max_body_bytes)
    info, created = await call(
        service(request).deliver, document_id, body, client=who, idempotency_key=idempotency_key
    )
    return JSONResponse(
        Delivery.of(info).model_dump(mode="json"),
        status_code=201 if created else 200,
        headers={"Location": f"/v1/documents/{document_id}/deliveries/{info.id}"},
    )


@router.get(
    "/v1/documents/{document_id}/deliveries",
    response_model=list[Delivery],
    responses=errors(*AUTH, 404),
)
async def deliveries(request: Request, document_id: str, who: Authenticated) -> list[Delivery]:
    """Every delivery of a document and each attempt."""
    return [
        Delivery.of(d) for d in await call(service(request).deliveries, document_id, client=who)
    ]


@router.get(
    "/v1/documents/{document_id}/deliveries/{delivery_id}",
    response_model=Delivery,
    responses=errors(*AUTH, 404),
)
async def delivery(
    request: Request, document_id: str, delivery_id: str, who: Authenticated
) -> Delivery:
    """One delivery of a document and each attempt."""
    for found in await call(service(request).deliveries, document_id, client=who):
        if found.id == delivery_id:
            return Delivery.of(found)
    raise NotFound(f"document {document_id} has no delivery {delivery_id}")


DOWNLOAD_ROUTE = {
    "response_class": Response,
    "responses": {**pdf_responses("The PDF"), **errors(403, 404, 422, 503, 500)},
}


@router.head("/v1/downloads/{token}", **DOWNLOAD_ROUTE)  # type: ignore[arg-type]
async def head_download(request: Request, token: str) -> Response:
    """The headers of a download link's PDF, without its bytes."""
    return await download(request, token)


@router.get("/v1/downloads/{token}", **DOWNLOAD_ROUTE)  # type: ignore[arg-type]
async def download(request: Request, token: str) -> Response:
    """A PDF behind a signed, expiring email link (no API key: the signature is the key)."""
    info, data = await call(service(request).download, token)
    name = f"{info.kind}-{info.number or info.business_reference}.pdf"
    return pdf_response(
        request,
        data,
        f'"{info.sha256}"',
        {
            "Content-Disposition": f'attachment; filename="{ascii_name(name)}"',
            "Cache-Control": "private, no-store",
        },
    )
