"""Webhook endpoints: where an API key is told that its documents were issued or failed,
and that their emails were sent or failed (docs/operations.md describes the calls)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.context import AUTH, BODY, Authenticated, call, errors, read_object, service, settings
from api.schemas import Out, rfc3339
from correspondence.registry.events import EndpointInfo
from correspondence.webhooks import EVENTS, SECRET_MAX, SECRET_MIN, URL_MAX

router = APIRouter(tags=["webhooks"])


class WebhookEndpointRequest(BaseModel):
    """Register an endpoint: its URL (HTTPS, on a host the service allows) and, if you
    wish, the secret its calls are signed with (one is generated otherwise)."""

    model_config = ConfigDict(extra="forbid", title="WebhookEndpointRequest")
    url: str = Field(min_length=1, max_length=URL_MAX, description="https://… on an allowed host")
    secret: str | None = Field(
        default=None,
        min_length=SECRET_MIN,
        max_length=SECRET_MAX,
        description="The signing secret; generated if not given",
    )


BODY_SCHEMA = {
    "required": True,
    "content": {"application/json": {"schema": WebhookEndpointRequest.model_json_schema()}},
}


class WebhookEndpoint(Out):
    id: str
    url: str
    events: list[str] = Field(description="The event types sent to it: every one")
    all_documents: bool = Field(
        description="Whether it hears of every document (its key reads all) or its key's own"
    )
    created_at: str = Field(description="RFC 3339, UTC, ending in Z")

    @classmethod
    def of(cls, info: EndpointInfo) -> WebhookEndpoint:
        return cls(
            id=info.id,
            url=info.url,
            events=list(EVENTS),
            all_documents=info.all_documents,
            created_at=rfc3339(info.created_at) or "",
        )


class WebhookEndpointCreated(WebhookEndpoint):
    secret: str = Field(description="The signing secret: shown this once, never listed")


@router.post(
    "/v1/webhooks",
    status_code=201,
    response_model=WebhookEndpointCreated,
    responses=errors(*AUTH, *BODY),
    openapi_extra={"requestBody": BODY_SCHEMA},
)
async def register_webhook(request: Request, who: Authenticated) -> JSONResponse:
    """Register an endpoint to be told of this key's documents and deliveries."""
    body = await read_object(request, settings(request).max_body_bytes)
    made = await call(service(request).webhooks.register, body, client=who)
    answer = WebhookEndpointCreated(
        **WebhookEndpoint.of(made.endpoint).model_dump(), secret=made.secret
    )
    return JSONResponse(
        answer.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/webhooks/{made.endpoint.id}"},
    )


@router.get("/v1/webhooks", response_model=list[WebhookEndpoint], responses=errors(*AUTH))
async def webhooks(request: Request, who: Authenticated) -> list[WebhookEndpoint]:
    """This key's endpoints (never their secrets)."""
    return [
        WebhookEndpoint.of(e) for e in await call(service(request).webhooks.endpoints, client=who)
    ]


@router.delete(
    "/v1/webhooks/{endpoint_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Deleted: it is called no more"}, **errors(*AUTH, 404)},
)
async def delete_webhook(request: Request, endpoint_id: str, who: Authenticated) -> Response:
    """Stop calling an endpoint; its events not yet delivered are dropped."""
    await call(service(request).webhooks.delete, endpoint_id, client=who)
    return Response(status_code=204)
