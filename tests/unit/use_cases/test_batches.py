"""Batches: valid items queued in one transaction, refused ones recorded with their
problems, progress per status, resubmission idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from correspondence.batches import parse_ndjson
from correspondence.errors import Forbidden, InvalidPayload, NotFound
from correspondence.renderers import EnginePool
from correspondence.statuses import DocumentStatus
from tests.unit.use_cases.conftest import World, build_world, letter


def ndjson(*items: object) -> bytes:
    return b"\n".join(json.dumps(i).encode() for i in items) + b"\n\n"


def test_a_batch_queues_the_valid_items_and_refuses_the_others(world: World) -> None:
    client = world.client()
    broken = letter("B-bad")
    broken["document"]["locale"] = "xx-XX"
    items = parse_ndjson(ndjson(letter("B-1"), broken, [1]) + b"{not json\r\n")
    progress = world.service.batches.submit(items, client=client)
    assert progress.total == 4 and not progress.done
    assert progress.counts == {"queued": 1, "refused": 3}
    world.service.work_once()
    done = world.service.batches.progress(progress.id, client=client)
    assert done.done and done.counts == {"issued": 1, "refused": 3}
    results = list(world.service.batches.results(progress.id, client=client))
    assert [r.position for r in results] == [0, 1, 2, 3]
    assert results[0].document is not None
    assert results[0].document.status == DocumentStatus.ISSUED
    assert [p.field for p in results[1].problems] == ["document.locale"]
    assert results[2].problems[0].message == "each item must be a JSON object"
    assert results[3].problems[0].message.startswith("line 5 is not JSON")  # 4 is empty


def test_resubmitting_finds_the_documents_already_there(world: World) -> None:
    client = world.client()
    first = world.service.batches.submit([letter("R-1"), letter("R-2")], client=client)
    again = world.service.batches.submit([letter("R-1"), letter("R-2")], client=client)
    ids = [
        [r.document.id for r in world.service.batches.results(b.id, client=client) if r.document]
        for b in (first, again)
    ]
    assert ids[0] == ids[1] and len(ids[0]) == 2


def test_another_clients_reference_is_refused_in_a_batch(world: World) -> None:
    world.service.issue(letter("O-1"), client=world.client())
    other = world.client("documents:write", "documents:read")
    batch = world.service.batches.submit([letter("O-1")], client=other)
    (result,) = world.service.batches.results(batch.id, client=other)
    assert result.document is None and "another client" in result.problems[0].message


def test_a_reissue_in_a_batch_replaces_a_failed_document(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("F-1"), client=client, asynchronous=True).document
    with world.service.registry.transaction() as tx:
        from correspondence.registry import documents

        documents.get_one(tx, doc.id).status = DocumentStatus.FAILED
    batch = world.service.batches.submit([{**letter("F-1"), "reissue": True}], client=client)
    (result,) = world.service.batches.results(batch.id, client=client)
    assert result.document is not None and result.document.id == doc.id
    assert result.document.status == DocumentStatus.QUEUED


def test_bounds_and_scopes(tmp_path: Path, pool: EnginePool) -> None:
    world = build_world(tmp_path, pool, max_batch_items=2)
    client = world.client()
    with pytest.raises(InvalidPayload, match="at most 2"):
        world.service.batches.submit([letter()] * 3, client=client)
    with pytest.raises(InvalidPayload, match="at least one"):
        world.service.batches.submit([], client=client)
    with pytest.raises(Forbidden):
        world.service.batches.submit([letter()], client=world.client("documents:read"))
    deliver = {**letter(), "deliver": {"email": {"to": ["a@example.com"]}}}
    with pytest.raises(Forbidden):
        world.service.batches.submit([deliver], client=world.client("documents:write"))
    batch = world.service.batches.submit([letter()], client=client)
    stranger = world.client("documents:read")
    with pytest.raises(NotFound):
        world.service.batches.progress(batch.id, client=stranger)
    with pytest.raises(NotFound):
        list(world.service.batches.results(batch.id, client=stranger))


def test_with_a_broker_a_batchs_documents_wait_for_their_lease(
    tmp_path: Path, pool: EnginePool
) -> None:
    """Commit 6b9a1dc: the batch's documents are handed to the broker after the commit;
    until their lease ends the issuer's resend must not send them a second time."""
    world = build_world(tmp_path, pool, broker=True)
    batch = world.service.batches.submit([letter("W-1"), letter("W-2")], client=world.client())
    assert len(world.dispatched) == 2
    assert world.service.work_once() == 0
    world.clock.advance(world.service.settings.broker_visibility_timeout_seconds + 1)
    assert world.service.work_once() == 2
    assert sorted(world.dispatched[2:]) == sorted(world.dispatched[:2])
    assert world.service.batches.progress(batch.id, client=world.client()).counts == {"queued": 2}
