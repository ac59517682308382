"""The request spans, when tracing is on (:mod:`correspondence.tracing`).

FastAPI starts a server span per request itself (its native OpenTelemetry support,
``FastAPI(telemetry=...)``), named ``METHOD /route/{template}``, with the method, route
template, status and URL path, continuing a caller's W3C ``traceparent``. We hand it our
tracer provider when tracing is on, switch it off otherwise (so a tracer provider some
library installs globally never turns it on), and keep its operation spans, metrics and
log records off: they would add nothing we need, and its log records carry exception
messages. :class:`RequestIdOnSpan` adds the request id to the span.
"""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp, Receive, Scope, Send

from correspondence import logs, tracing

OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def telemetry() -> TelemetryConfig:
    """FastAPI's telemetry settings: its request spans through our provider, or nothing."""
    provider = tracing.provider()
    if provider is None:
        return OFF
    return {**OFF, "tracing": True, "tracer_provider": provider, "operation_spans": False}


class RequestIdOnSpan:
    """Inside :class:`api.access_log.AccessLog`: puts the bound request id on the span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            from opentelemetry import trace

            request_id = logs.context().get("request_id")
            if request_id:
                trace.get_current_span().set_attribute("request.id", str(request_id))
        await self.app(scope, receive, send)
