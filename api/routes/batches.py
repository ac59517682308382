"""``/v1/batches``: many payloads at once, and their progress."""

from __future__ import annotations

from math import ceil

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import kind_schemas as schemas
from api.context import (
    AUTH,
    BODY,
    Authenticated,
    call,
    errors,
    media_type,
    read_body,
    read_json,
    service,
    settings,
)
from api.errors import ApiError
from api.schemas import Batch, BatchItem
from correspondence.batches import parse_ndjson

router = APIRouter(tags=["batches"])


@router.post(
    "/v1/batches",
    status_code=202,
    response_model=Batch,
    responses=errors(*AUTH, *BODY),
    openapi_extra={"requestBody": schemas.BATCH_BODY},
)
async def submit_batch(request: Request, who: Authenticated) -> JSONResponse:
    """Many payloads at once: a JSON array, or `application/x-ndjson`, one per line. Each
    is accepted as a queued document or refused on its own (see the batch's documents)."""
    limit = settings(request).max_batch_bytes
    if media_type(request) == "application/x-ndjson":
        items = parse_ndjson(await read_body(request, limit))
    else:
        items = await read_json(request, limit)
        if not isinstance(items, list):
            raise ApiError(422, "type", "send a JSON array of payloads, or NDJSON")
    progress = await call(service(request).batches.submit, items, client=who)
    return JSONResponse(
        Batch.of(progress).model_dump(mode="json"),
        status_code=202,
        headers={
            "Location": f"/v1/batches/{progress.id}",
            "Retry-After": str(max(1, ceil(settings(request).worker_poll_seconds))),
        },
    )


@router.get("/v1/batches/{batch_id}", response_model=Batch, responses=errors(*AUTH, 404))
async def batch_progress(request: Request, batch_id: str, who: Authenticated) -> Batch:
    """Counts per status and the rate so far."""
    return Batch.of(await call(service(request).batches.progress, batch_id, client=who))


@router.get(
    "/v1/batches/{batch_id}/documents",
    response_model=list[BatchItem],
    responses=errors(*AUTH, 404),
)
async def batch_documents(request: Request, batch_id: str, who: Authenticated) -> list[BatchItem]:
    """Every item: its document, or the errors that refused it."""
    batches = service(request).batches
    results = await call(lambda: list(batches.results(batch_id, client=who)))
    return [BatchItem.of(r) for r in results]
