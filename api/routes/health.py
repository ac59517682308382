"""Health checks: the only operations without credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.context import call, errors, service

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=dict[str, str], responses=errors(503))
async def readyz(request: Request) -> dict[str, str]:
    """Readiness: the database and the archive are reachable (503 otherwise)."""
    return await call(service(request).check_ready)
