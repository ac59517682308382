"""With no broker, the API's issuer loop starts a pass as soon as work for it is
committed, not at its next poll: an asynchronous request, a batch, the emails of a
document issued in a request, and a delivery asked for later. The poll is set to ten
minutes here, so each of these would otherwise wait that long."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, fast_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.api.test_email import with_delivery
from tests.api.test_webhooks import Receiver
from tests.servers import api_server, free_port

POLL = 600.0
SOON = 30.0  # a render or an email on a loaded machine, far below the poll


@pytest.fixture()
def slow_poll(tmp_path: Path) -> Iterator[Api]:
    settings = fast_settings(
        tmp_path, worker_poll_seconds=POLL, webhook_allowed_hosts=["127.0.0.1"]
    )
    with api_server(settings) as running:
        client = Api(running)
        deadline = time.monotonic() + 60
        while httpx.get(f"{running.base_url}/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.5)  # the loop's first pass has found nothing and is waiting
        yield client
        client.http.close()


def _until(look: Any, done: Any) -> Any:
    deadline = time.monotonic() + SOON
    while not done(found := look()):
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def _issued(api: Api, url: str) -> dict[str, Any]:
    return _until(lambda: api.get(url).json(), lambda doc: doc["status"] == "issued")  # type: ignore[no-any-return]


def _sent(api: Api, document_id: str) -> list[dict[str, Any]]:
    path = f"/v1/documents/{document_id}/deliveries"
    return _until(  # type: ignore[no-any-return]
        lambda: api.get(path).json(), lambda found: found and found[-1]["status"] == "sent"
    )


def test_an_asynchronous_request_is_issued_without_waiting_for_the_poll(slow_poll: Api) -> None:
    accepted = slow_poll.post(
        "/v1/documents", unnumbered_es_invoice("WAKE-1"), Prefer="respond-async"
    )
    assert accepted.status_code == 202, accepted.text
    started = time.monotonic()
    doc = _issued(slow_poll, accepted.headers["Location"])
    assert doc["number"] and time.monotonic() - started < SOON


def test_a_batch_is_issued_without_waiting_for_the_poll(slow_poll: Api) -> None:
    items = [unnumbered_es_invoice(f"WAKE-B{i}") for i in range(3)]
    accepted = slow_poll.post("/v1/batches", items)
    assert accepted.status_code == 202, accepted.text
    url = accepted.json()["links"]["self"]
    progress = _until(lambda: slow_poll.get(url).json(), lambda found: found["done"])
    assert progress["counts"] == {"issued": 3}


def test_emails_go_without_waiting_for_the_poll(slow_poll: Api) -> None:
    """The email asked for with a document issued in the request, then one asked for
    afterwards: each is sent by the loop's next pass, started at once."""
    payload = with_delivery(unnumbered_es_invoice("WAKE-M"), "treasury@nopalazul.example")
    issued = slow_poll.post("/v1/documents", payload)
    assert issued.status_code == 201, issued.text
    document_id = issued.json()["id"]
    assert len(_sent(slow_poll, document_id)) == 1
    again = slow_poll.post(
        f"/v1/documents/{document_id}/deliveries", {"email": {"to": ["credit@nopalazul.example"]}}
    )
    assert again.status_code == 201, again.text
    sent = _sent(slow_poll, document_id)
    assert len(sent) == 2 and sent[-1]["to"] == ["credit@nopalazul.example"]


def test_webhook_events_go_without_waiting_for_the_poll(slow_poll: Api) -> None:
    """The events of a document held for review, then of one issued in a request (each
    recorded in the API process), reach the endpoint at once."""
    receiver = Receiver(free_port())
    receiver.start()
    try:
        registered = slow_poll.post("/v1/webhooks", {"url": receiver.url})
        assert registered.status_code == 201, registered.text
        held = slow_poll.post(
            "/v1/documents", {**unnumbered_es_invoice("WAKE-H1"), "review": {"required": True}}
        )
        assert held.status_code == 202 and held.json()["status"] == "in_review", held.text

        def told() -> list[str]:
            return [call.event["type"] for call in receiver.delivered()]

        assert _until(told, lambda types: len(types) == 1) == ["document.review_requested"]
        issued = slow_poll.post("/v1/documents", unnumbered_es_invoice("WAKE-H2"))
        assert issued.status_code == 201, issued.text
        assert _until(told, lambda types: len(types) == 2)[1] == "document.issued"
    finally:
        receiver.stop()
