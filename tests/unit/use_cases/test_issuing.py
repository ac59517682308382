"""Issuing, synchronous and accepted for later, over in-memory ports and SQLite."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from correspondence import metrics
from correspondence.errors import (
    Conflict,
    DocumentFailed,
    Forbidden,
    IdempotencyMismatch,
    InvalidPayload,
    NotFound,
    Unavailable,
)
from correspondence.kinds import STATED_AHEAD_MAX
from correspondence.registry import documents
from correspondence.renderers import EnginePool
from correspondence.results import DocumentQuery
from correspondence.statuses import DocumentStatus
from correspondence.testing import MemoryArchive
from correspondence.times import aware
from tests.conftest import pdf_pages_text
from tests.unit.use_cases.conftest import World, build_world, invoice, letter


def test_a_letter_is_rendered_archived_and_recorded(world: World) -> None:
    client = world.client()
    outcome = world.service.issue(letter(), client=client)
    doc = outcome.document
    assert outcome.created and doc.status == DocumentStatus.ISSUED
    stored = world.archive.objects[doc.archive_key or ""]
    assert stored.content_type == "application/pdf"
    assert stored.metadata["document-id"] == doc.id
    assert doc.size == len(stored.data) and doc.pages == len(pdf_pages_text(stored.data))
    assert doc.issued_at is not None and aware(doc.issued_at) == world.clock.now
    assert world.archive.objects[(doc.archive_key or "").replace(".pdf", ".json")]


def test_the_same_reference_resolves_to_the_document_already_issued(world: World) -> None:
    client = world.client()
    first = world.service.issue(letter("R-1"), client=client).document
    again = world.service.issue(letter("R-1"), client=client)
    assert not again.created and again.document.id == first.id
    newer = world.service.issue({**letter("R-1"), "reissue": True}, client=client).document
    assert newer.version == 2 and newer.replaces_id == first.id


def test_another_clients_reference_is_refused(world: World) -> None:
    world.service.issue(letter("R-2"), client=world.client("documents:write"))
    with pytest.raises(Conflict, match="another client"):
        world.service.issue(letter("R-2"), client=world.client("documents:write"))


def test_scopes_are_required(world: World) -> None:
    with pytest.raises(Forbidden):
        world.service.issue(letter(), client=world.client("documents:read"))
    body = {**letter(), "deliver": {"email": {"to": ["a@example.com"]}}}
    with pytest.raises(Forbidden):
        world.service.issue(body, client=world.client("documents:write"))


def test_invalid_options_and_payloads_are_refused_before_anything_is_recorded(
    world: World,
) -> None:
    with pytest.raises(InvalidPayload):
        world.service.issue({**letter(), "reissue": "yes"}, client=world.client())
    with pytest.raises(InvalidPayload):
        world.service.issue({"document": {"type": "nothing"}}, client=world.client())
    assert world.service.list(DocumentQuery(), client=world.client()).total == 0


def test_invoices_get_consecutive_numbers_and_a_stated_one_is_bounded(world: World) -> None:
    client = world.client()
    numbers = [
        world.service.issue(invoice(f"I-{i}"), client=client).document.number for i in range(2)
    ]
    assert numbers == ["PR-2026-000001", "PR-2026-000002"]
    far = invoice("I-far")
    far["invoice"]["number"] = f"PR-2026-{STATED_AHEAD_MAX + 3:06d}"
    with pytest.raises(InvalidPayload, match="beyond the range"):
        world.service.issue(far, client=client)
    stated = invoice("I-stated")
    stated["invoice"]["number"] = "PR-2026-000010"
    assert world.service.issue(stated, client=client).document.number == "PR-2026-000010"
    again = invoice("I-again")
    again["invoice"]["number"] = "PR-2026-000010"
    with pytest.raises(Conflict, match="already issued"):
        world.service.issue(again, client=client)
    assert world.service.issue(invoice("I-next"), client=client).document.number == (
        "PR-2026-000011"
    )


def test_an_idempotency_key_replays_and_refuses_another_body(world: World) -> None:
    client = world.client()
    first = world.service.issue(letter("K-1"), client=client, idempotency_key="k")
    replay = world.service.issue(letter("K-1"), client=client, idempotency_key="k")
    assert replay.replayed and replay.document.id == first.document.id
    with pytest.raises(IdempotencyMismatch):
        world.service.issue(letter("K-2"), client=client, idempotency_key="k")


def test_a_failed_request_releases_its_idempotency_key(world: World) -> None:
    client = world.client()
    world.archive.down = True
    bad = letter("K-3")
    bad["document"]["locale"] = "xx-XX"
    with pytest.raises(InvalidPayload):
        world.service.issue(bad, client=client, idempotency_key="k3")
    world.archive.down = False
    assert world.service.issue(letter("K-3"), client=client, idempotency_key="k3").created


class _ArchiveThatAsks(MemoryArchive):
    """An archive that runs ``during`` on the first put, while its document is being issued."""

    def __init__(self) -> None:
        super().__init__()
        self.during: Callable[[], None] | None = None

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        during, self.during = self.during, None
        if during is not None:
            during()
        super().put(key=key, data=data, content_type=content_type, metadata=metadata)


def test_an_idempotency_key_is_in_progress_until_its_document_is_issued(
    tmp_path: Path, pool: EnginePool
) -> None:
    """The same request sent again while the first is still issuing is told so (409),
    not answered with a document that is not yet issued; once issued, it replays."""
    archive = _ArchiveThatAsks()
    world = build_world(tmp_path, pool, archive=archive)
    client = world.client()
    seen: list[str] = []

    def send_again() -> None:
        with pytest.raises(Conflict, match="in progress") as refused:
            world.service.issue(letter("K-4"), client=client, idempotency_key="k4")
        seen.append(str(refused.value))

    archive.during = send_again
    first = world.service.issue(letter("K-4"), client=client, idempotency_key="k4")
    assert seen and first.document.status == DocumentStatus.ISSUED
    replay = world.service.issue(letter("K-4"), client=client, idempotency_key="k4")
    assert replay.replayed and replay.document.id == first.document.id
    assert replay.document.status == DocumentStatus.ISSUED
    world.service.close()
    world.service.database.dispose()


def _archive_errors() -> float:
    name = f"{metrics.PREFIX}_dependency_errors_total"
    return REGISTRY.get_sample_value(name, {"dependency": "archive"}) or 0.0


def test_an_archive_outage_keeps_the_number_and_the_issuer_completes_it(world: World) -> None:
    client = world.client()
    world.archive.down = True
    before = _archive_errors()
    doc = world.service.issue(invoice("O-1"), client=client).document
    assert _archive_errors() == before + 1  # counted as the archive's, not another's
    assert doc.status == DocumentStatus.QUEUED and doc.number == "PR-2026-000001"
    assert "archive" in (doc.last_error or "")
    world.archive.down = False
    assert world.service.work_once() == 0  # not due before its backoff
    world.clock.advance(world.service.settings.retry_delay(1) + 1)
    assert world.service.work_once() == 1
    issued = world.service.get(doc.id, client=client)
    assert issued.status == DocumentStatus.ISSUED and issued.number == doc.number


def test_accepted_documents_are_queued_then_issued(world: World) -> None:
    client = world.client()
    doc = world.service.issue(invoice("A-1"), client=client, asynchronous=True).document
    assert doc.status == DocumentStatus.QUEUED and doc.number is None
    attempt = world.service.issue_accepted(doc.id)
    assert attempt.outcome == "issued"
    assert world.service.issue_accepted(doc.id).outcome == "done"
    assert world.service.issue_accepted("no-such-id").outcome == "done"
    assert world.service.get(doc.id, client=client).number == "PR-2026-000001"


def test_the_queue_has_a_bound(tmp_path: Path, pool: EnginePool) -> None:
    world = build_world(tmp_path, pool, max_queued_documents=1)
    client = world.client()
    world.service.issue(letter("Q-1"), client=client, asynchronous=True)
    with pytest.raises(Unavailable, match="waiting"):
        world.service.issue(letter("Q-2"), client=client, asynchronous=True)


def test_a_failed_document_is_retried_or_replaced_under_its_number(world: World) -> None:
    client = world.client()
    doc = world.service.issue(invoice("F-1"), client=client, asynchronous=True).document
    with world.service.registry.transaction() as tx:  # a payload that cannot be rendered
        row = documents.get_one(tx, doc.id)
        row.payload = {**row.payload, "document": {"type": "premium_invoice"}}
    assert world.service.issue_accepted(doc.id).outcome == "failed"
    failed = world.service.get(doc.id, client=client)
    assert failed.status == DocumentStatus.FAILED and failed.last_error
    with pytest.raises(Conflict, match="not failed"):
        world.service.retry(world.service.issue(letter("F-2"), client=client).document.id,
                            client=client)  # fmt: skip
    with pytest.raises(NotFound):
        world.service.retry(doc.id, client=world.client("documents:write"))
    queued = world.service.retry(doc.id, client=client)
    assert queued.status == DocumentStatus.QUEUED
    assert world.service.issue_accepted(doc.id).outcome == "failed"  # same payload, same end
    replaced = world.service.issue({**invoice("F-1"), "reissue": True}, client=client)
    assert replaced.document.id == doc.id and replaced.document.status == DocumentStatus.ISSUED
    assert replaced.document.number == "PR-2026-000001"


def test_a_corrected_payload_must_keep_the_failed_documents_number(world: World) -> None:
    client = world.client()
    doc = world.service.issue(invoice("F-3"), client=client, asynchronous=True).document
    world.archive.down = True
    world.service.issue_accepted(doc.id)  # numbered, then the archive failed: queued again
    world.archive.down = False
    with world.service.registry.transaction() as tx:
        row = documents.get_one(tx, doc.id)
        row.status = DocumentStatus.FAILED
    other = invoice("F-3")
    other["invoice"]["number"] = "PR-2026-000077"
    with pytest.raises(Conflict, match="holds number PR-2026-000001"):
        world.service.issue({**other, "reissue": True}, client=client)
    accepted = world.service.issue({**invoice("F-3"), "reissue": True}, client=client,
                                   asynchronous=True)  # fmt: skip
    assert accepted.document.status == DocumentStatus.QUEUED
    assert world.service.work_once() == 1
    assert world.service.get(doc.id, client=client).status == DocumentStatus.ISSUED


def test_a_render_failure_of_a_synchronous_request_is_reported(world: World) -> None:
    world.archive.occupied = b"other bytes"  # another writer stored other bytes there
    with pytest.raises(DocumentFailed, match="different bytes"):
        world.service.issue(letter("S-1"), client=world.client())


def test_with_a_broker_accepted_documents_are_sent_to_it_and_leased(
    tmp_path: Path, pool: EnginePool
) -> None:
    world = build_world(tmp_path, pool, broker=True)
    client = world.client()
    doc = world.service.issue(letter("B-1"), client=client, asynchronous=True).document
    assert world.dispatched == [doc.id]
    assert world.service.work_once() == 0  # leased: the issuer does not send it again
    world.clock.advance(world.service.settings.broker_visibility_timeout_seconds + 1)
    assert world.service.work_once() == 1 and world.dispatched == [doc.id, doc.id]


def test_a_broker_that_refuses_leaves_the_document_due_now(
    tmp_path: Path, pool: EnginePool
) -> None:
    world = build_world(tmp_path, pool, broker=True)

    def refuse(_: str) -> None:
        raise ConnectionError("broker down")

    world.service.issuer.dispatch = refuse
    doc = world.service.issue(letter("B-2"), client=world.client(), asynchronous=True).document
    got = world.service.get(doc.id, client=world.client())
    assert got.last_error == "broker: broker down"
    with world.service.registry.transaction() as tx:
        assert list(documents.due(tx, world.clock.now, 10)) == [doc.id]


def test_leases_are_renewed_while_a_render_lasts(world: World) -> None:
    issuer = world.service.issuer
    doc = world.service.issue(letter("L-1"), client=world.client(), asynchronous=True).document
    with world.service.registry.transaction() as tx:
        documents.get_one(tx, doc.id).status = DocumentStatus.ISSUING
    issuer.settings = issuer.settings.model_copy(update={"render_lease_seconds": 0.03})
    with issuer._holding(doc.id):
        world.clock.advance(100)
        time.sleep(0.2)
    with world.service.registry.transaction() as tx:
        row = documents.get_one(tx, doc.id)
        assert row.next_attempt_at is not None
        lease = timedelta(seconds=0.03)
        assert aware(row.next_attempt_at) == world.clock.now + lease
