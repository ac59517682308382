"""``/metrics``: Prometheus text exposition, for a key holding ``metrics:read``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from api.context import AUTH, Authenticated, call, errors, service
from correspondence import metrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **errors(*AUTH)},
)
async def get_metrics(request: Request, client: Authenticated) -> Response:
    """Counters of this process (or of every process, in multiprocess mode) and the
    registry's state read at scrape time. Needs the ``metrics:read`` scope."""
    client.require("metrics:read")
    svc = service(request)

    def snapshot() -> metrics.Snapshot:
        return svc.metrics_snapshot(datetime.now(UTC))

    body, content_type = await call(metrics.exposition, snapshot)
    return Response(body, media_type=content_type)
