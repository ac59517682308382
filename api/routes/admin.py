"""``/v1/admin``: API keys and staff accounts, for a key holding the ``admin`` scope.

What the CLI's ``keys`` and ``staff`` commands do, over HTTP. A listing never holds a
secret nor a hash; a new or rotated key is in the one answer that creates it, never again.
Revoking a key or disabling an account takes effect on its next request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.context import AUTH, BODY, Authenticated, call, errors, read_object, service, settings
from api.schemas import Out, rfc3339
from correspondence.access import NAME_MAX, ApiKeyInfo, StaffInfo
from correspondence.errors import InvalidPayload
from correspondence.kinds import problems_from
from correspondence.rate_limit import RATE_LIMIT_MAX
from correspondence.scopes import SCOPES, Scope

router = APIRouter(tags=["admin"])


KeyId = Path(
    min_length=1,
    max_length=16,
    description="the key's id: its public prefix, the part after `cor_` of the key",
)
Email = Path(min_length=1, max_length=200, description="the staff account's email")
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""Something not blank, and no control character (as the core checks it)."""


# --- models -----------------------------------------------------------------------------------


class ApiKeyLinks(Out):
    self: str
    revoke: str
    rotate: str


class ApiKey(Out):
    """An API key as it may be shown: no secret, no hash."""

    id: str = Field(description="the public prefix: the part after `cor_` of the key")
    name: str
    scopes: list[Scope]
    created_at: str = Field(description="RFC 3339, UTC, ending in Z")
    revoked_at: str | None = Field(description="RFC 3339, UTC, ending in Z; null: in use")
    rotated_at: str | None = Field(description="when the secret was last replaced, if ever")
    rate_limit_per_minute: int | None = Field(description="the key's own limit; null: default")
    effective_rate_limit_per_minute: int = Field(description="the limit that applies now")
    links: ApiKeyLinks

    @classmethod
    def of(cls, info: ApiKeyInfo) -> ApiKey:
        here = f"/v1/admin/keys/{info.id}"
        return cls(
            id=info.id,
            name=info.name,
            scopes=list(info.scopes),
            created_at=rfc3339(info.created_at) or "",
            revoked_at=rfc3339(info.revoked_at),
            rotated_at=rfc3339(info.rotated_at),
            rate_limit_per_minute=info.rate_limit_per_minute,
            effective_rate_limit_per_minute=info.effective_rate_limit_per_minute,
            links=ApiKeyLinks(self=here, revoke=f"{here}/revoke", rotate=f"{here}/rotate"),
        )


class NewApiKey(Out):
    """A key just created or rotated: ``key`` is shown in this answer only."""

    key: str = Field(description="`cor_<id>_<secret>`: shown once, only its hash is stored")
    api_key: ApiKey


class StaffAccount(Out):
    """A staff account of the preview UI, as it may be shown: no password hash."""

    id: int
    email: str
    created_at: str = Field(description="RFC 3339, UTC, ending in Z")
    disabled_at: str | None = Field(description="RFC 3339, UTC, ending in Z; null: enabled")
    locked_until: str | None = Field(
        description="sign-in locked after repeated failures until then; null: not locked"
    )

    @classmethod
    def of(cls, info: StaffInfo) -> StaffAccount:
        return cls(
            id=info.id,
            email=info.email,
            created_at=rfc3339(info.created_at) or "",
            disabled_at=rfc3339(info.disabled_at),
            locked_until=rfc3339(info.locked_until),
        )


class ApiKeyRequest(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid", title="ApiKeyRequest")

    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES))
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=RATE_LIMIT_MAX,
        description="requests a minute; null or absent: the server's default",
    )


class ApiKeyChange(BaseModel):
    """A change to an API key: its rate limit (null: the server's default again)."""

    model_config = ConfigDict(extra="forbid", title="ApiKeyChange")

    rate_limit_per_minute: int | None = Field(ge=1, le=RATE_LIMIT_MAX)


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


async def _read(request: Request, model: type[Any]) -> Any:
    body = await read_object(request, settings(request).max_body_bytes)
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise InvalidPayload(problems_from(error)) from None


def _shown_once(info: ApiKeyInfo, key: str, status: int, headers: dict[str, str]) -> JSONResponse:
    """A new key's one showing: never stored by a cache on the way."""
    return JSONResponse(
        NewApiKey(key=key, api_key=ApiKey.of(info)).model_dump(mode="json"),
        status_code=status,
        headers={**headers, "Cache-Control": "no-store"},
    )


# --- keys -------------------------------------------------------------------------------------


@router.get("/v1/admin/keys", response_model=list[ApiKey], responses=errors(*AUTH))
async def list_api_keys(request: Request, who: Authenticated) -> list[ApiKey]:
    """Every API key, oldest first, revoked ones included (never a secret or a hash)."""
    who.require("admin")
    return [ApiKey.of(info) for info in await call(service(request).access.api_keys)]


@router.post(
    "/v1/admin/keys",
    status_code=201,
    response_model=NewApiKey,
    responses=errors(*AUTH, *BODY),
    openapi_extra=_body(ApiKeyRequest),
)
async def create_api_key(request: Request, who: Authenticated) -> JSONResponse:
    """Create a key; the answer holds the key itself, shown this once."""
    who.require("admin")
    asked: ApiKeyRequest = await _read(request, ApiKeyRequest)
    info, key = await call(
        service(request).access.new_api_key,
        name=asked.name,
        scopes=asked.scopes,
        rate_limit_per_minute=asked.rate_limit_per_minute,
    )
    return _shown_once(info, key, 201, {"Location": f"/v1/admin/keys/{info.id}"})


@router.get("/v1/admin/keys/{key_id}", response_model=ApiKey, responses=errors(*AUTH, 404))
async def get_api_key(request: Request, who: Authenticated, key_id: str = KeyId) -> ApiKey:
    """One API key."""
    who.require("admin")
    return ApiKey.of(await call(service(request).access.api_key, key_id))


@router.patch(
    "/v1/admin/keys/{key_id}",
    response_model=ApiKey,
    responses=errors(*AUTH, *BODY, 404),
    openapi_extra=_body(ApiKeyChange),
)
async def change_api_key(request: Request, who: Authenticated, key_id: str = KeyId) -> ApiKey:
    """Set a key's rate limit (null: the server's default); it applies from its next request."""
    who.require("admin")
    asked: ApiKeyChange = await _read(request, ApiKeyChange)
    access = service(request).access
    return ApiKey.of(await call(access.set_rate_limit, key_id, asked.rate_limit_per_minute))


@router.post("/v1/admin/keys/{key_id}/revoke", response_model=ApiKey, responses=errors(*AUTH, 404))
async def revoke_api_key(request: Request, who: Authenticated, key_id: str = KeyId) -> ApiKey:
    """Revoke a key: its next request is ``401``. Revoking it again changes nothing."""
    who.require("admin")
    return ApiKey.of(await call(service(request).access.revoke_api_key, key_id))


@router.post(
    "/v1/admin/keys/{key_id}/rotate",
    response_model=NewApiKey,
    responses=errors(*AUTH, 404, 409),
)
async def rotate_api_key(request: Request, who: Authenticated, key_id: str = KeyId) -> JSONResponse:
    """A new secret for a key (same id, name, scopes and limit), shown this once; the old
    one is refused from the next request. ``409`` for a revoked key."""
    who.require("admin")
    info, key = await call(service(request).access.rotate_api_key, key_id)
    return _shown_once(info, key, 200, {})


# --- staff ------------------------------------------------------------------------------------


@router.get("/v1/admin/staff", response_model=list[StaffAccount], responses=errors(*AUTH))
async def list_staff(request: Request, who: Authenticated) -> list[StaffAccount]:
    """Every staff account of the preview UI, oldest first (never a password hash)."""
    who.require("admin")
    return [StaffAccount.of(info) for info in await call(service(request).access.staff_accounts)]


@router.post(
    "/v1/admin/staff/{email}/disable", response_model=StaffAccount, responses=errors(*AUTH, 404)
)
async def disable_staff(request: Request, who: Authenticated, email: str = Email) -> StaffAccount:
    """Disable a staff account: no sign-in, and every session of it ends (its next request
    goes to the sign-in page). Disabling it again changes nothing."""
    who.require("admin")
    return StaffAccount.of(await call(service(request).access.disable_staff, email=email))
