"""Issue 23: OpenTelemetry tracing is optional and off by default. On, a document issued
over the real API gives one trace: the request's server span, and under it the issue,
render, archive and registry spans, carrying the document's id, kind and locale and the
request id, never the payload. Off, nothing of OpenTelemetry is even imported."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from correspondence import tracing
from correspondence.config import Settings
from tests.api.conftest import Api, fast_settings
from tests.api.test_request_logs import _strings
from tests.conftest import load_sample
from tests.servers import api_server

SAMPLE = "02_premium_invoice_es-MX.json"


@pytest.fixture
def exported(tmp_path: Path) -> Iterator[tuple[Api, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    settings = fast_settings(tmp_path, tracing="otlp")
    assert tracing.configure(settings, exporter=exporter)
    try:
        with api_server(settings) as running:
            client = Api(running)
            yield client, exporter
            client.http.close()
    finally:
        tracing.shutdown()


def wait_for(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    """The finished spans once one named ``name`` has ended (a request's span ends just
    after its response has been sent)."""
    deadline = time.monotonic() + 10
    while not any(s.name == name for s in exporter.get_finished_spans()):
        assert time.monotonic() < deadline, [s.name for s in exporter.get_finished_spans()]
        time.sleep(0.05)
    return list(exporter.get_finished_spans())


def test_an_issued_document_is_one_trace_of_request_render_archive_and_record(
    exported: tuple[Api, InMemorySpanExporter],
) -> None:
    api, exporter = exported
    payload = load_sample(SAMPLE)
    response = api.post("/v1/documents", payload, **{"X-Request-ID": "req-trace-1"})
    assert response.status_code == 201, response.text
    document_id = response.json()["id"]
    spans = wait_for(exporter, "POST /v1/documents")
    by_name = {s.name: s for s in spans}
    request = by_name["POST /v1/documents"]
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.request.method"] == "POST"
    assert request.attributes["http.route"] == "/v1/documents"
    assert request.attributes["http.response.status_code"] == 201
    assert request.attributes["request.id"] == "req-trace-1"
    assert request.parent is None

    issue = by_name["document.issue"]
    assert issue.parent is not None and issue.parent.span_id == request.context.span_id
    for name in ("document.render", "document.archive", "document.record"):
        child = by_name[name]
        assert child.context.trace_id == request.context.trace_id, name
        assert child.parent is not None and child.parent.span_id == issue.context.span_id, name
    kind = payload["document"]["type"]
    for name in ("document.issue", "document.render", "document.archive", "document.record"):
        attributes = by_name[name].attributes
        assert attributes is not None
        assert attributes["document.id"] == document_id
        assert attributes["document.kind"] == kind
        assert attributes["document.locale"] == payload["document"]["locale"]
        assert attributes["request.id"] == "req-trace-1"
    # The render span lasts as long as the render: it is inside the issue span.
    render = by_name["document.render"]
    assert issue.start_time is not None and render.start_time is not None
    assert issue.end_time is not None and render.end_time is not None
    assert issue.start_time <= render.start_time <= render.end_time <= issue.end_time

    assert {s.context.trace_id for s in spans} == {request.context.trace_id}
    # No payload text in any span of the trace (names, attributes, events, resource).
    exported_text = "\n".join(s.to_json() for s in spans)
    identifying = {document_id, kind, payload["document"]["locale"]}
    texts = {t for t in _strings(payload) if len(t) >= 6 and t not in identifying}
    assert len(texts) > 10
    leaked = sorted(t for t in texts if t in exported_text)
    assert leaked == []


def test_a_callers_traceparent_is_continued(
    exported: tuple[Api, InMemorySpanExporter],
) -> None:
    api, exporter = exported
    trace_id, parent_id = "4bf92f3577b34ea0a0b1c2d3e4f50617", "00f067aa0ba902b7"
    response = api.http.get(
        "/v1/documents/no-such-document",
        headers={**api.auth(), "traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert response.status_code == 404
    spans = wait_for(exporter, "GET /v1/documents/{document_id}")
    ours = [s for s in spans if s.context.trace_id == int(trace_id, 16)]
    assert len(ours) == 1
    assert ours[0].parent is not None and ours[0].parent.span_id == int(parent_id, 16)
    assert ours[0].attributes is not None
    assert ours[0].attributes["http.route"] == "/v1/documents/{document_id}"


def test_a_request_that_fails_gives_a_span_with_its_status_and_no_document_spans(
    exported: tuple[Api, InMemorySpanExporter],
) -> None:
    api, exporter = exported
    response = api.post("/v1/documents", {"kind": "premium_invoice"})
    assert response.status_code == 422
    spans = wait_for(exporter, "POST /v1/documents")
    assert [s.name for s in spans] == ["POST /v1/documents"]
    assert spans[0].attributes is not None
    assert spans[0].attributes["http.response.status_code"] == 422


def test_console_mode_writes_each_span_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert tracing.configure(Settings(tracing="console"))
    try:
        about = tracing.document_attributes("doc-1", "premium_invoice", "es-MX")
        with tracing.span("document.render", about) as span:
            assert span is not None
    finally:
        tracing.shutdown()
    written = json.loads(capsys.readouterr().out)
    assert written["name"] == "document.render"
    assert written["attributes"] == {
        "document.id": "doc-1",
        "document.kind": "premium_invoice",
        "document.locale": "es-MX",
    }
    assert written["resource"]["attributes"]["service.name"] == "correspondence"


OFF = """
import sys
from pathlib import Path
from api.app import create_app
from api.tracing import RequestIdOnSpan
from correspondence import tracing
from correspondence.config import Settings

settings = Settings(data_dir=Path(sys.argv[1]), run_worker=False)
assert settings.tracing == "off"
app = create_app(settings)
assert not tracing.configure(settings) and not tracing.enabled()
assert tracing.provider() is None
assert all(m.cls is not RequestIdOnSpan for m in app.user_middleware)
with tracing.span("document.render", {"document.id": "x"}) as span:
    assert span is None
loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk"))
assert loaded == [], loaded
from opentelemetry import trace
assert type(trace.get_tracer_provider()) is trace.ProxyTracerProvider
print("off")
"""


def test_off_by_default_nothing_of_opentelemetry_is_imported_or_installed(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", OFF, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "off"


def test_an_exception_marks_the_span_an_error_by_its_type_not_its_message() -> None:
    exporter = InMemorySpanExporter()
    assert tracing.configure(Settings(tracing="otlp"), exporter=exporter)
    try:
        about = tracing.document_attributes("doc-2", "claim_decision", "en-GB")
        with pytest.raises(ValueError), tracing.span("document.render", about):
            raise ValueError("Acme Widgets Ltd owes 1,234.56")
    finally:
        tracing.shutdown()
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None and span.attributes["error.type"] == "ValueError"
    assert span.status.status_code is StatusCode.ERROR
    assert "Acme" not in span.to_json() and span.events == ()
