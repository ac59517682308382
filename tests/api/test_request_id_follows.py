"""Issue 23: the request id follows the document. The lines the in-process issuer, the
mail outbox sender and a real Celery worker write about a document asked for in a request
carry that request's id, read from the real log output (JSON lines)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from correspondence import logs
from tests.api.conftest import Api, fast_settings
from tests.conftest import load_sample
from tests.servers import CeleryWorker, api_server, redis_server

DELIVER = {"email": {"to": ["credit.control@example.com"]}}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.configure("json", "INFO", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def json_lines(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def wait_for_lines(read: Any, *events: str, timeout: float = 90) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = json_lines(read())
        if all(any(r.get("event") == e for r in lines) for e in events):
            return lines
        assert time.monotonic() < deadline, read()[-3000:]
        time.sleep(0.1)


def test_the_issuer_and_the_outbox_sender_log_with_the_request_id(
    api: Api, log_stream: io.StringIO
) -> None:
    payload = {**load_sample("02_premium_invoice_es-MX.json"), "deliver": DELIVER}
    accepted = api.post(
        "/v1/documents", payload, **{"X-Request-ID": "req-follow-1", "Prefer": "respond-async"}
    )
    assert accepted.status_code == 202, accepted.text
    document_id = accepted.json()["id"]
    lines = wait_for_lines(log_stream.getvalue, "document.issued", "delivery.sent")
    # Issued and emailed by the background loop, long after the request's answer.
    ours = [r for r in lines if r.get("document_id") == document_id and r["event"] != "request"]
    issued = [r for r in ours if r["event"] in ("document.issuing", "document.issued")]
    sent = [r for r in ours if r["event"] == "delivery.sent"]
    assert len(issued) == 2 and len(sent) == 1
    for line in issued + sent:
        assert line["request_id"] == "req-follow-1", line
    assert sent[0]["delivery_id"]


def test_a_celery_worker_logs_with_the_request_id(tmp_path: Path) -> None:
    with redis_server() as broker:
        settings = fast_settings(tmp_path, broker_url=broker, log_format="json")
        worker_log = tmp_path / "worker.log"
        worker = CeleryWorker(settings, "follow", worker_log)
        try:
            with api_server(settings) as running:
                client = Api(running)
                answer = client.post(
                    "/v1/documents",
                    load_sample("07_collection_update_es-MX.json"),
                    **{"X-Request-ID": "req-follow-celery", "Prefer": "respond-async"},
                )
                assert answer.status_code == 202, answer.text
                document_id = answer.json()["id"]
                lines = wait_for_lines(
                    lambda: worker_log.read_text(errors="replace"), "document.issued"
                )
                client.http.close()
        finally:
            worker.stop()
    ours = [r for r in lines if r.get("document_id") == document_id]
    assert {"document.issuing", "document.issued"} <= {r["event"] for r in ours}
    for line in ours:
        assert line["request_id"] == "req-follow-celery", line
