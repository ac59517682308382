"""No stuck states: every status of a document and of a delivery either is final (issued,
sent, failed with a reason) or has a way out that the issuer or the sender takes by itself,
or that a retry opens. The sweep drives the service's own passes, no background loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from correspondence.registry.models import Delivery, Document
from correspondence.statuses import DeliveryStatus, DocumentStatus
from tests.api.conftest import Api, fast_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.servers import api_server

PAST = timedelta(minutes=30)


@pytest.fixture
def quiet_api(tmp_path: Path) -> Iterator[Api]:
    """An API whose issuer loop is off: the test runs each pass itself."""
    with api_server(fast_settings(tmp_path, run_worker=False)) as running:
        client = Api(running)
        yield client
        client.http.close()


def _accept(api: Api, reference: str) -> str:
    answer = api.post("/v1/documents", unnumbered_es_invoice(reference), Prefer="respond-async")
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _edit(api: Api, model: type, row_id: str, **values: Any) -> None:
    with api.service.registry.transaction() as tx:
        row = tx.get_one(model, row_id)
        for name, value in values.items():
            setattr(row, name, value)


def _row(api: Api, model: type, row_id: str) -> Any:
    with api.service.registry.transaction() as tx:
        row = tx.get_one(model, row_id)
        tx.expunge(row)
        return row


def _deliver(api: Api, document_id: str) -> str:
    answer = api.post(
        f"/v1/documents/{document_id}/deliveries", {"email": {"to": ["ops@example.com"]}}
    )
    assert answer.status_code in (201, 202), answer.text
    return str(answer.json()["id"])


def _passes(api: Api, count: int = 3) -> None:
    for _ in range(count):
        api.service.work_once()


def _now() -> datetime:
    return datetime.now(UTC)


# -- documents ---------------------------------------------------------------------------


def doc_new(api: Api) -> None:
    """``new`` lives only inside the transaction that records a document: nothing
    accepted is ever committed as ``new``."""
    ids = [_accept(api, f"NEW-{i}") for i in range(3)]
    assert all(_row(api, Document, i).status == DocumentStatus.QUEUED for i in ids)
    _passes(api)
    assert all(_row(api, Document, i).status == DocumentStatus.ISSUED for i in ids)


def doc_queued(api: Api) -> None:
    document_id = _accept(api, "QUEUED")
    _passes(api)
    assert _row(api, Document, document_id).status == DocumentStatus.ISSUED


def doc_issuing(api: Api) -> None:
    """An ``issuing`` document whose issuer died is taken again once its lease runs out."""
    document_id = _accept(api, "ISSUING")
    _edit(api, Document, document_id, status=DocumentStatus.ISSUING, next_attempt_at=_now() - PAST)
    _passes(api)
    assert _row(api, Document, document_id).status == DocumentStatus.ISSUED


def doc_issued(api: Api) -> None:
    document_id = _accept(api, "ISSUED")
    _passes(api)
    before = _row(api, Document, document_id)
    assert before.status == DocumentStatus.ISSUED and before.archive_key
    _passes(api)
    assert _row(api, Document, document_id).sha256 == before.sha256, "final: never redone"


def doc_failed(api: Api) -> None:
    """``failed`` keeps its reason, and a retry issues it."""
    document_id = _accept(api, "FAILED")
    _edit(api, Document, document_id, status=DocumentStatus.FAILED, last_error="archive said no")
    failed = api.get(f"/v1/documents/{document_id}").json()
    assert failed["status"] == "failed" and failed["last_error"] == "archive said no"
    assert api.post(f"/v1/documents/{document_id}/retry", None).status_code == 200
    _passes(api)
    assert _row(api, Document, document_id).status == DocumentStatus.ISSUED


def _in_review(api: Api, reference: str) -> str:
    body = {**unnumbered_es_invoice(reference), "review": {"required": True}}
    answer = api.post("/v1/documents", body)
    assert answer.status_code == 202 and answer.json()["status"] == "in_review", answer.text
    return str(answer.json()["id"])


def doc_in_review(api: Api) -> None:
    """``in_review`` waits for a person, not for the issuer: passes leave it unnumbered;
    a member of staff's approval is its way out, and then the issuer issues it."""
    document_id = _in_review(api, "IN-REVIEW")
    _passes(api)
    waiting = api.get(f"/v1/documents/{document_id}").json()
    assert waiting["status"] == "in_review" and waiting["number"] is None
    reviewer = api.service.create_staff(email="reviewer@example.com", password="x" * 16)
    api.service.approve(document_id, staff=reviewer)
    _passes(api)
    assert _row(api, Document, document_id).status == DocumentStatus.ISSUED


def doc_rejected(api: Api) -> None:
    """``rejected`` is final and says why; no pass issues it."""
    document_id = _in_review(api, "REJECTED")
    reviewer = api.service.create_staff(email="reviewer@example.com", password="x" * 16)
    api.service.reject(document_id, staff=reviewer, reason="wrong buyer")
    _passes(api)
    rejected = api.get(f"/v1/documents/{document_id}").json()
    assert rejected["status"] == "rejected" and rejected["review"]["reason"] == "wrong buyer"
    assert rejected["number"] is None


# -- deliveries --------------------------------------------------------------------------


def delivery_queued(api: Api) -> None:
    document_id = _accept(api, "D-QUEUED")
    delivery_id = _deliver(api, document_id)
    _passes(api)
    assert _row(api, Delivery, delivery_id).status == DeliveryStatus.SENT


def delivery_sending(api: Api) -> None:
    """A ``sending`` delivery whose sender died is taken again after its lease; a poison
    one (its message can never be built) ends ``failed`` with the reason, not ``sending``."""
    document_id = _accept(api, "D-SENDING")
    _passes(api)
    dead = _deliver(api, document_id)
    _edit(api, Delivery, dead, status=DeliveryStatus.SENDING, next_attempt_at=_now() - PAST)
    _passes(api)
    assert _row(api, Delivery, dead).status == DeliveryStatus.SENT

    poison_doc = _accept(api, "D-POISON")
    _passes(api)
    poison = _deliver(api, poison_doc)
    _edit(api, Document, poison_doc, payload={"document": {"type": "premium_invoice"}})
    # its email is stored when it is requested; one from before that (no content) is
    # written from the payload when sent, and this payload can no longer write it
    _edit(api, Delivery, poison, content=None)
    _passes(api)
    row = _row(api, Delivery, poison)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert "cannot be built" in row.last_error


def delivery_sent(api: Api) -> None:
    document_id = _accept(api, "D-SENT")
    delivery_id = _deliver(api, document_id)
    _passes(api)
    sent = _row(api, Delivery, delivery_id)
    assert sent.status == DeliveryStatus.SENT
    _passes(api)
    assert _row(api, Delivery, delivery_id).attempts == sent.attempts, "final: never resent"


def delivery_failed(api: Api) -> None:
    """A delivery of a failed document fails with the document's reason, and is sent once
    the document is retried and issued."""
    document_id = _accept(api, "D-FAILED")
    delivery_id = _deliver(api, document_id)
    _edit(api, Document, document_id, status=DocumentStatus.FAILED, last_error="render broke")
    _passes(api)
    failed = _row(api, Delivery, delivery_id)
    assert failed.status == DeliveryStatus.FAILED
    assert "render broke" in failed.last_error
    assert api.post(f"/v1/documents/{document_id}/retry", None).status_code == 200
    _passes(api)
    assert _row(api, Document, document_id).status == DocumentStatus.ISSUED
    assert _row(api, Delivery, delivery_id).status == DeliveryStatus.SENT


WAYS_OUT: dict[tuple[type, str], Callable[[Api], None]] = {
    (DocumentStatus, DocumentStatus.NEW): doc_new,
    (DocumentStatus, DocumentStatus.QUEUED): doc_queued,
    (DocumentStatus, DocumentStatus.ISSUING): doc_issuing,
    (DocumentStatus, DocumentStatus.ISSUED): doc_issued,
    (DocumentStatus, DocumentStatus.FAILED): doc_failed,
    (DocumentStatus, DocumentStatus.IN_REVIEW): doc_in_review,
    (DocumentStatus, DocumentStatus.REJECTED): doc_rejected,
    (DeliveryStatus, DeliveryStatus.QUEUED): delivery_queued,
    (DeliveryStatus, DeliveryStatus.SENDING): delivery_sending,
    (DeliveryStatus, DeliveryStatus.SENT): delivery_sent,
    (DeliveryStatus, DeliveryStatus.FAILED): delivery_failed,
}


def test_the_sweep_covers_every_status() -> None:
    expected = {(type(s), s.value) for s in [*DocumentStatus, *DeliveryStatus]}
    assert set(WAYS_OUT) == expected


@pytest.mark.parametrize(
    "status",
    [*DocumentStatus, *DeliveryStatus],
    ids=lambda s: f"{type(s).__name__}.{s.value}",
)
def test_every_status_has_a_way_out(quiet_api: Api, status: Any) -> None:
    WAYS_OUT[(type(status), status.value)](quiet_api)
