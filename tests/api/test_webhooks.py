"""Webhooks end to end, against a real HTTP receiver on 127.0.0.1: the receiver is down,
then answers 503, then is up; every event reaches it, in order per document, each signed
so that :func:`correspondence.webhooks.verify` accepts it; events survive a process that
dies before sending them; and a host outside the allow-list is refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from correspondence import webhooks
from correspondence.bootstrap import build_service
from correspondence.registry import events
from correspondence.registry.models import WebhookEvent
from correspondence.service import Service
from tests.api.conftest import Api, fast_settings
from tests.api.test_failed_renders import CrashingRenderers, crashing
from tests.conftest import load_sample
from tests.servers import api_server, free_port

SECRET = "s3cr3t-for-the-receiver-0123456789"
OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def documented_verifier() -> Any:
    """``verified_event`` from docs/operations.md's Python recipe, run as written."""
    text = OPERATIONS.read_text("utf-8")
    section = text.split("### Verifying a signature in Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(OPERATIONS), "exec"), namespace)  # our own docs, run as written
    return namespace["verified_event"]


@dataclass
class Received:
    """One call the receiver got: its body, headers and when (the receiver's clock)."""

    body: bytes
    headers: dict[str, str]
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """A real HTTP server, started and stopped on one port; the first ``fail_first``
    calls it receives are answered 503 (after being recorded: the sender will repeat them)."""

    port: int
    fail_first: int = 0
    calls: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/correspondence"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 503 if len(receiver.calls) < receiver.fail_first else 204
                receiver.calls.append(Received(body, dict(self.headers.items()), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[Received]:
        """Calls answered 2xx."""
        return [c for c in self.calls if c.answered < 300]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    found = Receiver(free_port())
    yield found
    found.stop()


def webhook_settings(tmp_path: Path, **overrides: Any) -> Any:
    return fast_settings(
        tmp_path,
        webhook_allowed_hosts=["127.0.0.1"],
        webhook_retry_base_seconds=0.2,
        webhook_retry_max_seconds=0.5,
        webhook_timeout_seconds=2.0,
        **overrides,
    )


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Api]:
    settings = webhook_settings(tmp_path)
    service = build_service(settings, renderers=CrashingRenderers(settings, size=2))
    with api_server(settings, service=service) as running:
        client = Api(running)
        yield client
        client.http.close()


def outbox_rows(service: Service) -> list[tuple[str, str, int, str | None]]:
    """(type, status, attempts, last error) of every event in the outbox."""
    with service.registry.transaction() as tx:
        return [
            (row.type, row.status, row.attempts, row.last_error)
            for row in tx.scalars(select(WebhookEvent).order_by(WebhookEvent.seq)).all()
        ]


def wait_until(check: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_events_reach_a_receiver_that_was_down_once_each_in_order_and_signed(
    api: Api, receiver: Receiver
) -> None:
    key = api.key_with("documents:write", "documents:read", "deliveries:write")
    registered = api.post("/v1/webhooks", {"url": receiver.url, "secret": SECRET}, key=key)
    assert registered.status_code == 201, registered.text
    assert registered.json()["secret"] == SECRET
    listed = api.get("/v1/webhooks", key=key)
    assert listed.status_code == 200
    assert [e["url"] for e in listed.json()] == [receiver.url]
    assert SECRET not in listed.text and "secret" not in listed.json()[0]

    # Two documents emailed on issue, one that fails: with the receiver down.
    deliver = {"email": {"to": ["credit.control@example.com"]}}
    issued_ids = []
    for sample in ("02_premium_invoice_es-MX.json", "01_renewal_pack_es-ES.json"):
        answer = api.post("/v1/documents", {**load_sample(sample), "deliver": deliver}, key=key)
        assert answer.status_code == 201, answer.text
        issued_ids.append(answer.json()["id"])
    failed = api.post(
        "/v1/documents", crashing(load_sample("07_collection_update_es-MX.json")), key=key
    )
    assert failed.json()["errors"][0]["error"] == "render_failed", failed.text
    failed_id = api.get(failed.headers["Location"], key=key).json()["id"]
    # Someone else's document is not theirs to hear of.
    api.post("/v1/documents", load_sample("04_claim_filing_guide_en-GB.json"))

    expected = {(d, "document.issued") for d in issued_ids}
    expected |= {(d, "delivery.sent") for d in issued_ids} | {(failed_id, "document.failed")}
    # The dispatcher tries while nobody listens: every event is kept and retried.
    wait_until(lambda: len(outbox_rows(api.service)) == len(expected))

    def tried_twice() -> bool:
        rows = outbox_rows(api.service)
        return all(a >= 2 for t, _, a, _ in rows if t.startswith("document."))

    wait_until(tried_twice)
    rows = outbox_rows(api.service)
    assert all(s == "pending" for _, s, _, _ in rows)
    assert all("unreachable" in (e or "") for t, _, _, e in rows if t.startswith("document."))
    # An email's event waits behind its document's, which is not delivered yet.
    assert all(a == 0 for t, _, a, _ in rows if t.startswith("delivery."))
    retries = sum(a for _, _, a, _ in rows)

    receiver.fail_first = 2  # up, but failing at first: those two are sent again
    receiver.start()
    started = time.monotonic()
    wait_until(lambda: all(s == "sent" for _, s, _, _ in outbox_rows(api.service)))
    print(
        f"{retries} failed tries while down; all sent {time.monotonic() - started:.2f} s after up"
    )

    calls = receiver.calls
    assert len(receiver.delivered()) == len(expected) and len(calls) == len(expected) + 2
    verified_event = documented_verifier()
    for call in calls:
        header = call.headers[webhooks.SIGNATURE_HEADER]
        assert verified_event(SECRET.encode(), call.body, header) == call.event
        assert verified_event(SECRET.encode(), call.body + b" ", header) is None
        assert verified_event(b"another secret", call.body, header) is None
        t = int(header.split(",")[0].removeprefix("t="))
        assert webhooks.verify(SECRET.encode(), call.body, header, now=t)
        assert not webhooks.verify(b"another secret", call.body, header, now=t)
        assert call.headers[webhooks.EVENT_ID_HEADER] == call.event["id"]
        assert call.event["created_at"].endswith("Z")
        datetime.fromisoformat(call.event["created_at"])
    # Deduplicated by event id, the receiver saw each event once.
    seen: dict[str, dict[str, Any]] = {}
    for call in calls:
        seen.setdefault(call.event["id"], call.event)
    got = {(e["data"]["document_id"], e["type"]) for e in seen.values()}
    assert got == expected
    # In order per document: the email's event after its document's.
    for document_id in issued_ids:
        order = [e["type"] for e in seen.values() if e["data"]["document_id"] == document_id]
        assert order == ["document.issued", "delivery.sent"]
        (sent,) = [
            e
            for e in seen.values()
            if e["type"] == "delivery.sent" and e["data"]["document_id"] == document_id
        ]
        assert sent["data"]["delivery_id"] and sent["data"]["status"] == "sent"
    repeated = [c.event["id"] for c in calls[:2]]
    assert [c.event["id"] for c in calls].count(repeated[0]) == 2

    deleted = api.http.delete(f"/v1/webhooks/{registered.json()['id']}", headers=api.auth(key))
    assert deleted.status_code == 204
    assert api.get("/v1/webhooks", key=key).json() == []
    again = api.http.delete(f"/v1/webhooks/{registered.json()['id']}", headers=api.auth(key))
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://hooks.example.net/x", "is not in CORRESPONDENCE_WEBHOOK_ALLOWED_HOSTS"),
        ("http://example.org/x", "must use https"),
        ("file:///etc/passwd", "no host"),
        ("https://user:pw@127.0.0.1/x", "credentials"),
    ],
)
def test_a_host_outside_the_allow_list_is_refused_naming_the_field(
    api: Api, url: str, why: str
) -> None:
    answer = api.post("/v1/webhooks", {"url": url})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["field"] == "url" and why in error["message"]
    assert api.get("/v1/webhooks").json() == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_event_of_a_process_that_died_before_sending_is_sent_by_the_next(
    tmp_path: Path, receiver: Receiver, database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    settings = webhook_settings(tmp_path, run_worker=False, database_url=url)
    first = build_service(settings)
    key = first.create_api_key(name="upstream", scopes=("documents:write", "documents:read"))
    client = first.authenticate(key)
    made = first.webhooks.register({"url": receiver.url, "secret": SECRET}, client=client)
    assert made.secret == SECRET
    outcome = first.issue(load_sample("02_premium_invoice_es-MX.json"), client=client)
    # The process ends here, between the commit and any send: the event is in the outbox.
    first.close()
    first.database.dispose()

    second = build_service(settings)
    with second.registry.transaction() as tx:
        assert events.outstanding(tx) == 1
    receiver.start()
    assert second.webhooks.send_due() == 1
    (call,) = receiver.calls
    assert call.event["type"] == "document.issued"
    assert call.event["data"]["document_id"] == outcome.document.id
    header = call.headers[webhooks.SIGNATURE_HEADER]
    assert webhooks.verify(SECRET.encode(), call.body, header, now=int(time.time()))
    assert second.webhooks.send_due() == 0
    second.close()
    second.database.dispose()
