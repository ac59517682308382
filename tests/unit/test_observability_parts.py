"""The parts of observability that stand alone: log lines, metric exposition, webhook
signatures, the retry schedule and the endpoint allow-list."""

from __future__ import annotations

import io
import json
import logging
import random
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from correspondence import logs, metrics, webhooks


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    handler = logs.configure("json", "INFO", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_log_line_is_one_json_object_with_time_level_logger_and_bound_context(log_stream):
    with logs.bound(request_id="r-1", key="billing"):
        logging.getLogger("correspondence.test").info(
            "document.issued", extra={"document_id": 7, "kind": "premium_invoice"}
        )
    logging.getLogger("correspondence.test").info("after")
    first, second = _lines(log_stream)
    assert first["event"] == "document.issued"
    assert first["level"] == "info"
    assert first["logger"] == "correspondence.test"
    assert first["document_id"] == 7 and first["kind"] == "premium_invoice"
    assert first["request_id"] == "r-1" and first["key"] == "billing"
    assert first["timestamp"].endswith("Z")
    assert "request_id" not in second, "a bound context ends with its block"


def test_payloads_and_secrets_never_reach_a_log_line(log_stream):
    secret = "s3cr3t-value-nobody-may-see"
    logging.getLogger("correspondence.test").warning(
        "refused",
        extra={
            "payload": {"policyholder": secret},
            "authorization": f"Bearer {secret}",
            "password": secret,
            "document_id": 3,
        },
    )
    text = log_stream.getvalue()
    assert secret not in text
    (line,) = _lines(log_stream)
    assert line["payload"] == logs.REDACTED and line["password"] == logs.REDACTED
    assert line["document_id"] == 3


def test_console_format_is_readable_text(capsys):
    stream = io.StringIO()
    handler = logs.configure("console", "INFO", stream)
    try:
        logging.getLogger("correspondence.test").info("hello", extra={"document_id": 9})
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "hello" in text and "document_id=9" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("abc-123_X.y:z", True),
        ("", False),
        ("x" * 65, False),
        ("bad id\n", False),
        ("<script>", False),
    ],
)
def test_a_request_id_from_a_header_is_kept_only_if_it_is_a_plain_token(given, kept):
    result = logs.clean_request_id(given)
    assert (result == given) is kept
    assert 0 < len(result) <= 64


def test_metrics_exposition_has_process_counters_and_registry_gauges():
    metrics.DOCUMENTS.labels(kind="premium_invoice", status="issued").inc()
    with metrics.timed("premium_invoice"):
        pass
    snapshot = metrics.Snapshot(
        documents={("premium_invoice", "issued"): 4, ("claim_decision", "failed"): 1},
        deliveries={"sent": 2},
        queued=3,
        oldest_queued_seconds=12.5,
    )
    body, content_type = metrics.exposition(lambda: snapshot)
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'correspondence_documents_total{kind="premium_invoice",status="issued"}' in text
    assert 'correspondence_render_seconds_count{kind="premium_invoice"}' in text
    assert 'correspondence_registry_documents{kind="claim_decision",status="failed"} 1.0' in text
    assert 'correspondence_registry_deliveries{status="sent"} 2.0' in text
    assert "correspondence_queue_depth 3.0" in text
    assert "correspondence_queue_oldest_seconds 12.5" in text


def test_a_signature_verifies_and_any_change_or_old_timestamp_fails():
    secret, body, now = b"k" * 32, b'{"id":"evt_1"}', 1_800_000_000
    header = webhooks.sign(secret, body, now)
    assert header.startswith(f"t={now},v1=")
    assert webhooks.verify(secret, body, header, now + 10)
    assert not webhooks.verify(secret, body + b" ", header, now)
    assert not webhooks.verify(b"other", body, header, now)
    assert not webhooks.verify(secret, body, header, now + webhooks.TOLERANCE_SECONDS + 1)
    assert not webhooks.verify(secret, body, "v1=abc", now)


def test_retry_delays_grow_exponentially_with_jitter_and_are_capped():
    rng = random.Random(1)
    delays = [webhooks.retry_delay(attempt, rng) for attempt in range(1, 20)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(webhooks.MAX_DELAY_SECONDS, webhooks.BASE_DELAY_SECONDS * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= webhooks.MAX_DELAY_SECONDS
    # enough tries fit in the 72 hours for a receiver down a whole weekend day
    elapsed, attempt = 0.0, 1
    while elapsed + webhooks.MAX_DELAY_SECONDS < webhooks.MAX_AGE_SECONDS:
        elapsed += webhooks.retry_delay(attempt, rng)
        attempt += 1
    assert attempt > 60


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://hooks.example.com/x", None),
        ("http://127.0.0.1:9000/x", None),
        ("http://hooks.example.com/x", "https"),
        ("https://evil.example.net/x", "not in"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("file:///etc/passwd", "host"),
        ("https://10.0.0.1/x", "not in"),
    ],
)
def test_only_allow_listed_https_or_loopback_endpoints_may_be_registered(url, reason):
    error = webhooks.endpoint_error(url, ["hooks.example.com", "127.0.0.1"])
    if reason is None:
        assert error is None
    else:
        assert error is not None and reason in error


class _Receiver(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, bytes]]] = []
    status = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.headers[webhooks.SIGNATURE_HEADER], body))
        self.send_response(type(self).status)
        if type(self).status in (301, 302):
            self.send_header("Location", "https://evil.example.net/")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    _Receiver.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_deliver_posts_a_signed_event_a_real_receiver_can_verify(receiver):
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    event = {"id": "evt_1", "type": "document.issued", "document_id": 5}
    outcome = webhooks.deliver(url, b"secret", event, now=1_800_000_000)
    assert outcome.delivered and outcome.status == 204
    ((header, body),) = _Receiver.seen
    assert json.loads(body) == event
    assert webhooks.verify(b"secret", body, header, now=1_800_000_000)


@pytest.mark.parametrize("status", [500, 302])
def test_an_error_or_a_redirect_is_not_delivered_and_is_not_followed(receiver, status):
    _Receiver.status = status
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/hook"
        outcome = webhooks.deliver(url, b"s", {"id": "e"}, now=1)
    finally:
        _Receiver.status = 204
    assert not outcome.delivered and outcome.status == status
    assert len(_Receiver.seen) == 1


def test_a_receiver_that_is_down_is_reported_unreachable():
    with HTTPServer(("127.0.0.1", 0), _Receiver) as probe:
        port = probe.server_port
    outcome = webhooks.deliver(f"http://127.0.0.1:{port}/hook", b"s", {"id": "e"}, now=1, timeout=2)
    assert not outcome.delivered and outcome.status is None
    assert outcome.reason.startswith("unreachable")
