"""Batches: valid items queued in one transaction, refused ones recorded with their
problems, progress per status, resubmission idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from correspondence.batches import parse_ndjson
from correspondence.errors import Forbidden, InvalidPayload, NotFound, Unavailable
from correspondence.registry import documents
from correspondence.renderers import EnginePool
from correspondence.statuses import DocumentStatus
from correspondence.times import aware
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
    assert world.service.batches.progress(batch.id, client=other).counts == {"refused": 1}


def test_a_reissue_in_a_batch_replaces_a_failed_document(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("F-1"), client=client, asynchronous=True).document
    with world.service.registry.transaction() as tx:
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


def document_ids(world: World, batch_id: str) -> list[str | None]:
    results = world.service.batches.results(batch_id, client=world.client())
    return [r.document.id if r.document else None for r in results]


def test_a_reference_repeated_in_a_batch_becomes_one_document(world: World) -> None:
    """The second item with a reference finds the row the first became (as it would
    had each been recorded in turn), even asking for a reissue: that row is on its way."""
    client = world.client()
    items = [letter("D-1"), letter("D-2"), letter("D-1"), {**letter("D-2"), "reissue": True}]
    batch = world.service.batches.submit(items, client=client)
    assert batch.counts == {"queued": 4}
    ids = document_ids(world, batch.id)
    assert ids[0] == ids[2] and ids[1] == ids[3] and ids[0] != ids[1]
    with world.service.registry.transaction() as tx:
        assert documents.count_waiting(tx) == 2


def test_a_reissue_in_a_batch_makes_one_new_version(world: World) -> None:
    client = world.client()
    first = world.service.issue(letter("V-1"), client=client).document
    reissue = {**letter("V-1"), "reissue": True}
    batch = world.service.batches.submit([reissue, reissue, letter("V-1")], client=client)
    ids = document_ids(world, batch.id)
    assert ids[0] is not None and ids[0] != first.id and ids == [ids[0]] * 3
    second = world.service.get(ids[0], client=client)
    assert (second.version, second.replaces_id, second.status) == (2, first.id, "queued")


def test_a_batch_larger_than_one_lookup_is_found_again(world: World) -> None:
    """References are looked up in chunks: a resubmission finds every document of a batch
    that spans several, and records none again."""
    count = documents.LOOKUP_CHUNK + 30
    items = [letter(f"L-{i:04d}") for i in range(count)]
    client = world.client()
    first = world.service.batches.submit(items, client=client)
    again = world.service.batches.submit(list(reversed(items)), client=client)
    ids = document_ids(world, first.id)
    assert len(set(ids)) == count and None not in ids
    assert document_ids(world, again.id) == list(reversed(ids))
    with world.service.registry.transaction() as tx:
        assert documents.count_waiting(tx) == count


def test_a_broker_failing_mid_batch_loses_nothing(tmp_path: Path, pool: EnginePool) -> None:
    """The broker takes three documents, then fails: the rest are not tried one by one;
    they stay queued, due now with the reason, and the issuer's next pass sends them."""
    world = build_world(tmp_path, pool, broker=True)
    sent: list[str] = []

    def flaky(document_id: str) -> None:
        if len(sent) == 3:
            raise ConnectionError("the broker went away")
        sent.append(document_id)

    world.service.issuer.dispatch = flaky
    batch = world.service.batches.submit(
        [letter(f"K-{i}") for i in range(8)], client=world.client()
    )
    ids = document_ids(world, batch.id)
    assert sent == ids[:3]
    with world.service.registry.transaction() as tx:
        rows = [documents.get_one(tx, i) for i in ids if i is not None]
        unsent = [(r.last_error, aware(r.next_attempt_at)) for r in rows[3:]]
    assert unsent == [("broker: the broker went away", world.clock())] * 5
    world.service.issuer.dispatch = sent.append
    assert world.service.work_once() == 5
    assert sorted(sent) == sorted(i for i in ids if i is not None)
    assert world.service.batches.progress(batch.id, client=world.client()).counts == {"queued": 8}


def test_a_batch_sent_again_with_a_full_queue_is_answered(tmp_path: Path, pool: EnginePool) -> None:
    """The queue's room is checked against what a batch adds: sent again while its
    documents wait, it adds nothing and is answered with them, not refused."""
    world = build_world(tmp_path, pool, max_queued_documents=2)
    client = world.client()
    items = [letter("Q-1"), letter("Q-2")]
    first = world.service.batches.submit(items, client=client)
    again = world.service.batches.submit(items, client=client)
    assert document_ids(world, again.id) == document_ids(world, first.id)
    with pytest.raises(Unavailable, match="waiting to be issued"):
        world.service.batches.submit([letter("Q-3")], client=client)
