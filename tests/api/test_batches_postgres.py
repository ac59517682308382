"""Batches on a real PostgreSQL, and handed to a real Redis: batches sharing references
accepted at the same time, gapless numbers under concurrent transactions, and the
broker taking one task per document (or, while it is down, none lost)."""

from __future__ import annotations

import base64
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from correspondence.broker import QUEUE, build_dispatch
from correspondence.config import Settings
from correspondence.errors import Conflict
from correspondence.kinds import NumberRequest
from correspondence.registry import documents, migrate, numbering, open_database
from correspondence.registry.store import Registry
from correspondence.renderers import EnginePool
from correspondence.statuses import DocumentStatus
from tests.servers import free_port, redis_server
from tests.unit.use_cases.conftest import World, build_world, invoice, letter


@pytest.fixture(scope="module")
def pool() -> EnginePool:
    return EnginePool(Settings(render_processes=0), size=1)


@pytest.fixture()
def world(tmp_path: Path, pool: EnginePool, pg_url: str) -> Iterator[World]:
    built = build_world(tmp_path, pool, database_url=pg_url)
    yield built
    built.service.close()
    built.service.database.dispose()


def document_ids(world: World, batch_id: str) -> list[str | None]:
    results = world.service.batches.results(batch_id, client=world.client())
    return [r.document.id if r.document else None for r in results]


def test_concurrent_batches_sharing_references_make_one_document_each(world: World) -> None:
    """Four batches of the same 60 references, each in an order of its own, at once: every
    batch is accepted, and each reference is one document that all four point at."""
    references = [f"S-{i:03d}" for i in range(60)]
    client = world.client()
    start = threading.Barrier(4)
    outcomes: list[object] = [None] * 4

    def submit(n: int) -> None:
        order = references[:]
        random.Random(n).shuffle(order)
        items = [invoice(r) if int(r[2:]) % 2 else letter(r) for r in order]
        start.wait()
        try:
            outcomes[n] = (order, world.service.batches.submit(items, client=client))
        except Exception as error:  # reported below
            outcomes[n] = error

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    owner: dict[str, str] = {}
    for outcome in outcomes:
        assert isinstance(outcome, tuple)
        order, batch = outcome
        for reference, document_id in zip(order, document_ids(world, batch.id), strict=True):
            assert document_id is not None
            assert owner.setdefault(reference, document_id) == document_id
    with world.service.registry.transaction() as tx:
        assert documents.count_waiting(tx) == 60


def test_numbers_stay_gapless_across_concurrent_transactions(pg_url: str) -> None:
    """Eight threads take numbers of one series at once, one transaction each, a quarter of
    them rolled back after taking theirs: the numbers kept are 1 to n, each once."""
    database = open_database(pg_url)
    migrate(database)
    registry = Registry(database)
    request = NumberRequest(series="PR", year=2026, stated=None)
    kept: list[int] = []
    lock = threading.Lock()

    class GiveBack(Exception):
        pass

    def take(worker: int) -> None:
        for i in range(20):
            try:
                with registry.transaction() as tx:
                    number = numbering.allocate(tx, request)
                    if (worker + i) % 4 == 0:
                        raise GiveBack
            except GiveBack:
                continue
            with lock:
                kept.append(request.sequence_of(number))

    threads = [threading.Thread(target=take, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    assert sorted(kept) == list(range(1, len(kept) + 1)) and len(kept) == 120


def queued_tasks(broker: str) -> list[str]:
    """The document ids of the issue tasks waiting in Redis, oldest first."""
    client = redis.Redis.from_url(broker)
    messages = [json.loads(m) for m in reversed(client.lrange(QUEUE, 0, -1))]
    client.close()
    return [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages]


def test_a_batch_reaches_the_broker_once_per_document_even_after_an_outage(
    tmp_path: Path, pool: EnginePool, pg_url: str
) -> None:
    """With the broker down, a batch is still accepted at once (the broker is not asked
    again for each document): its documents stay queued, due, with the reason. Once it is
    back, the issuer's passes hand each to it, once; a batch then goes straight to it."""
    world = build_world(tmp_path, pool, database_url=pg_url, broker=True)
    try:
        dead = build_dispatch(Settings(broker_url=f"redis://127.0.0.1:{free_port()}/0"))
        assert dead is not None
        world.service.issuer.dispatch = dead
        client = world.client()
        down = world.service.batches.submit([letter(f"B-{i}") for i in range(12)], client=client)
        assert down.counts == {"queued": 12}
        first = [i for i in document_ids(world, down.id) if i is not None]
        with world.service.registry.transaction() as tx:
            rows = [documents.get_one(tx, i) for i in first]
            assert all((r.last_error or "").startswith("broker: ") for r in rows)
        with redis_server() as broker:
            live = build_dispatch(Settings(broker_url=broker))
            assert live is not None
            world.service.issuer.dispatch = live
            while world.service.work_once():  # ten a pass
                pass
            assert sorted(queued_tasks(broker)) == sorted(first)
            up = world.service.batches.submit([letter(f"U-{i}") for i in range(30)], client=client)
            second = document_ids(world, up.id)
            assert queued_tasks(broker)[12:] == second
            assert world.service.work_once() == 0  # nothing due: nothing sent twice
            live.close()
        dead.close()
    finally:
        world.service.close()
        world.service.database.dispose()


def test_a_failed_document_is_read_afresh_before_a_batch_corrects_it(world: World) -> None:
    """A batch loads the newest version of every reference first; if another request takes
    a failed document (here: queues it again) after that lookup, the batch's correction
    locks the row, reads it afresh and is refused, rather than writing over a document
    that is on its way."""
    client = world.client()
    doc = world.service.issue(letter("R-1"), client=client, asynchronous=True).document
    with world.service.registry.transaction() as tx:
        documents.get_one(tx, doc.id).status = DocumentStatus.FAILED
    with world.service.registry.transaction() as batch_tx:
        (seen,) = documents.latest_of(batch_tx, [("collection_update", "R-1")]).values()
        assert seen.status == DocumentStatus.FAILED
        with world.service.registry.transaction() as other:  # a retry, meanwhile
            documents.get_one(other, doc.id).status = DocumentStatus.QUEUED
        with pytest.raises(Conflict, match="no longer failed"):
            world.service.acceptor.take_failed(batch_tx, doc.id)
