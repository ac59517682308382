"""Health checks: the only operations without credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.context import call, errors, service
from api.errors import RETRY_AFTER_SECONDS
from api.schemas import Out
from correspondence import readiness

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(Out):
    status: str
    """``ready``."""
    checks: dict[str, str]
    """Each dependency (database, archive, renderers; broker and mail where configured):
    ``ok``."""


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=errors(503),
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """Readiness: the database, the archive, every render worker started and, where
    configured, the broker and the SMTP server. ``503`` until then, the envelope naming
    each dependency not ready."""
    states = await call(readiness.checks, service(request))
    failed = {name: state for name, state in states.items() if state != readiness.OK}
    if not failed:
        return Readiness(status="ready", checks=states)
    body = {  # the error envelope: one error per dependency not ready, named as its field
        "errors": [
            {"error": "unavailable", "field": name, "message": f"{name}: {state}"}
            for name, state in failed.items()
        ],
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
