"""Optional OpenTelemetry tracing: off by default (``CORRESPONDENCE_TRACING``).

Off, nothing from OpenTelemetry is imported and :func:`span` is a no-op. On, each entry
point calls :func:`configure` once: it builds a tracer provider with the chosen exporter
(``console``: spans as JSON on stdout; ``otlp``: OTLP over HTTP to
``CORRESPONDENCE_OTLP_ENDPOINT``, or where the standard ``OTEL_EXPORTER_OTLP_*`` variables
say) and installs it as the global provider if none is installed yet.

Spans carry ids, kinds, locales, routes and statuses, never payload content: callers pass
only those (docs/operations.md lists the spans and their attributes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from correspondence import logs
from correspondence.config import Settings

if TYPE_CHECKING:  # pragma: no cover - types only; nothing is imported at run time
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

SERVICE_NAME = "correspondence"

_provider: TracerProvider | None = None
_tracer: Tracer | None = None


def enabled() -> bool:
    """Whether :func:`configure` switched tracing on in this process."""
    return _tracer is not None


def configure(settings: Settings, exporter: SpanExporter | None = None) -> bool:
    """Switch tracing on as ``settings.tracing`` says; returns whether it is on.

    ``exporter`` replaces the one the settings name when tracing is on (tests pass an
    in-memory one); its spans are exported as each ends. Called again once on, it changes nothing.
    """
    global _provider, _tracer
    if _tracer is not None:
        return True
    if settings.tracing == "off":
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.tracing == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint))
        )
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    _provider = provider
    _tracer = provider.get_tracer("correspondence")
    return True


def provider() -> TracerProvider | None:
    """The tracer provider :func:`configure` built, if tracing is on."""
    return _provider


def shutdown() -> None:
    """Export what is pending and switch tracing off again in this process."""
    global _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = None, None


def _attributes(fields: dict[str, Any]) -> dict[str, Any]:
    """Span attributes: ``None`` values left out; the request id bound for the logs added."""
    found = {k: v for k, v in fields.items() if v is not None}
    request_id = logs.context().get("request_id")
    if request_id and "request.id" not in found:
        found["request.id"] = str(request_id)
    return found


@contextmanager
def span(
    name: str, attributes: dict[str, Any] | None = None, **options: Any
) -> Iterator[Span | None]:
    """A span named ``name``, a child of the current one, for the block; ``None`` and no
    work at all when tracing is off. An exception leaving the block marks it an error,
    with the exception's type as ``error.type`` (not its message);
    ``options`` go to ``start_as_current_span`` (e.g. ``kind``)."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import Status, StatusCode

    fields = _attributes(attributes or {})
    with _tracer.start_as_current_span(
        name, attributes=fields, record_exception=False, set_status_on_exception=False, **options
    ) as current:
        try:
            yield current
        except BaseException as error:  # its type only: a message may quote the payload
            current.set_attribute("error.type", type(error).__name__)
            current.set_status(Status(StatusCode.ERROR))
            raise


def document_attributes(document_id: str, kind: str, locale: str | None) -> dict[str, Any]:
    """The attributes of every span about one document: never its payload."""
    return {"document.id": document_id, "document.kind": kind, "document.locale": locale}
