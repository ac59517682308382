"""What the API logs about a request and the document it issues: one line per request with
its route, status, duration, request id and key name; the document's state changes carry
the request id and the document id; no payload content and no key secret."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from correspondence import logs
from tests.api.conftest import Api
from tests.conftest import load_sample


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.configure("json", "INFO", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _request_lines(stream: io.StringIO, count: int = 1) -> list[dict[str, Any]]:
    """The ``request`` lines, once ``count`` are there: the middleware writes its line
    after the answer has gone out, so the client may read the answer first."""
    deadline = time.monotonic() + 10
    while True:
        lines = [r for r in _records(stream) if r["event"] == "request"]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_a_request_logs_one_line_and_its_document_follows_the_request_id(
    api: Api, log_stream: io.StringIO
) -> None:
    payload = load_sample("02_premium_invoice_es-MX.json")
    key = api.key_with("documents:write", "documents:read")
    created = api.post("/v1/documents", payload, key=key, **{"X-Request-ID": "req-4711"})
    assert created.status_code in (200, 201, 202), created.text
    assert created.headers["X-Request-ID"] == "req-4711"
    document_id = created.json()["id"]
    fetched = api.get(f"/v1/documents/{document_id}", key=key)
    generated = fetched.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated), "no X-Request-ID sent: one is made"
    hostile = api.http.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})
    assert hostile.headers["X-Request-ID"] != "bad id\twith tab"

    requests = _request_lines(log_stream, 3)  # the POST, the GET and the health check
    records = _records(log_stream)
    (issue,) = [r for r in requests if r["request_id"] == "req-4711"]
    assert issue["method"] == "POST" and issue["route"] == "/v1/documents"
    assert issue["status"] == created.status_code
    assert issue["key"] == "documents:write+documents:read"
    assert isinstance(issue["duration_ms"], float) and issue["duration_ms"] > 0
    (read,) = [r for r in requests if r["request_id"] == generated]
    assert read["route"] == "/v1/documents/{document_id}" and read["status"] == 200

    issued = [r for r in records if r["event"] == "document.issued"]
    assert issued and issued[0]["document_id"] == document_id
    assert issued[0]["request_id"] == "req-4711" and issued[0]["kind"] == "premium_invoice"

    text = log_stream.getvalue()
    secret = key.split("_", 2)[2]
    assert secret not in text and key not in text
    content = {
        s for s in _strings(payload) if len(s) >= 6 and s != "premium_invoice" and s[:2] != "20"
    }
    assert content, "the sample has content to look for"
    leaked = sorted(s for s in content if s in text)
    assert not leaked, f"payload content in the logs: {leaked}"


def test_an_unauthenticated_request_is_logged_without_a_key(
    api: Api, log_stream: io.StringIO
) -> None:
    answer = api.http.get("/v1/documents", headers={"Authorization": "Bearer cor_nope_secret1"})
    assert answer.status_code == 401
    (line,) = _request_lines(log_stream)
    assert line["status"] == 401 and line["key"] is None
    assert "secret1" not in log_stream.getvalue()
