"""A batch's items are checked side by side: by the accepting thread and by the render
processes that are free (``renderers.spread``). What a batch records must not depend on
where an item was checked, a worker that fails must lose no chunk, and a render sent
meanwhile must never wait behind the whole batch."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from correspondence.config import Settings
from correspondence.errors import InvalidPayload, Problem, RenderersUnavailable
from correspondence.issuing.checked import Checked, check_each
from correspondence.renderers import EnginePool, Lend, lending, spread
from correspondence.workers import ProcessRenderers
from tests.unit.use_cases.conftest import build_world, letter


def pid_after(chunk: list[int]) -> tuple[list[int], int]:
    """A chunk as it came, and the process that saw it (run in a render process too)."""
    time.sleep(0.02)
    return chunk, os.getpid()


def exit_in_a_worker(chunk: list[int]) -> int:
    """``[the caller's pid, i]``: ``i``, but a worker given ``i == 0`` dies in it."""
    caller, i = chunk
    if i == 0 and os.getpid() != caller:
        os._exit(1)
    time.sleep(0.02)
    return i


def test_spread_keeps_the_order_and_at_most_the_spare_chunks_out() -> None:
    """Two batches at once, four worker threads, two spare: never more than two chunks
    out in all, and each caller does a share itself."""
    caller = threading.local()
    lock = threading.Lock()
    out, most, here = 0, 0, 0

    def fn(chunk: list[int]) -> list[int]:
        nonlocal out, most, here
        mine = getattr(caller, "mine", False)
        with lock:
            here += mine
            out += not mine
            most = max(most, out)
        time.sleep(0.005)
        with lock:
            out -= not mine
        return [x * 10 for x in chunk]

    with ThreadPoolExecutor(4) as threads:
        lend: Lend[list[int], list[int]] = lending(threading.Semaphore(2), threads.submit)

        def one_batch(first: int) -> list[list[int]]:
            caller.mine = True
            return spread(fn, [[i] for i in range(first, first + 40)], lend)

        with ThreadPoolExecutor(2) as callers:
            batches = list(callers.map(one_batch, [0, 100]))
    assert batches == [[[i * 10] for i in range(f, f + 40)] for f in (0, 100)]
    assert most == 2  # the workers were used, never more than the spare two at once
    assert 0 < here < 80  # and the callers did their share


def test_chunks_no_worker_starts_are_taken_back() -> None:
    """A worker that never takes its chunk (busy with a long render, or a pool closing
    under it) does not keep the batch waiting: its chunks are done here."""
    never: list[Future[list[int]]] = []

    def lend(fn: Callable[[list[int]], list[int]], chunk: list[int]) -> Future[list[int]]:
        never.append(Future())
        return never[-1]

    done = spread(lambda c: [x + 1 for x in c], [[i] for i in range(6)], lend)
    assert done == [[i + 1] for i in range(6)]
    assert never and all(f.cancelled() for f in never)


def test_a_chunk_whose_worker_fails_or_refuses_is_checked_here() -> None:
    def submit(fn: Callable[[list[int]], list[int]], chunk: list[int]) -> Future[list[int]]:
        if chunk[0] == 8:
            raise RenderersUnavailable("the renderers are shutting down")
        future: Future[list[int]] = Future()
        if chunk[0] % 3 == 0:
            future.set_exception(RenderersUnavailable("worker died"))
        else:
            future.set_result(fn(chunk))
        return future

    spare = threading.Semaphore(2)
    done = spread(lambda c: [x + 1 for x in c], [[i] for i in range(10)], lending(spare, submit))
    assert done == [[i + 1] for i in range(10)]
    assert spare.acquire(blocking=False) and spare.acquire(blocking=False)  # all given back


def test_an_error_of_the_check_itself_is_raised_and_the_rest_cancelled() -> None:
    pending: list[Future[list[int]]] = []

    def lend(fn: Callable[[list[int]], list[int]], chunk: list[int]) -> Future[list[int]]:
        pending.append(Future())
        return pending[-1]

    def fn(chunk: list[int]) -> list[int]:
        if chunk == [9]:
            raise ValueError("a bug in the check")
        return chunk

    with pytest.raises(ValueError, match="a bug"):
        spread(fn, [[i] for i in range(10)], lend)
    assert pending and all(f.cancelled() for f in pending)
    assert spread(fn, [[1], [2]], None) == [[1], [2]]  # no workers: all here


def test_the_render_processes_take_chunks_and_give_them_back_in_order(tmp_path: Path) -> None:
    """Chunks do not count as renders: with a worker replaced every 3 renders, 30 chunks
    replace none."""
    settings = Settings(data_dir=tmp_path, render_processes=2, worker_max_tasks_per_child=3)
    pool = ProcessRenderers(settings, size=2)
    try:
        pool.warm(timeout=120)
        assert pool.alive() == 2
        pool.spread(pid_after, [[i] for i in range(8)])  # the workers import this module
        done = pool.spread(pid_after, [[i] for i in range(60)])
        assert [chunk for chunk, _ in done] == [[i] for i in range(60)]
        pids = [pid for _, pid in done]
        assert os.getpid() in pids
        by_workers = [pids.count(pid) for pid in set(pids) - {os.getpid()}]
        assert by_workers and max(by_workers) > 3  # more chunks than renders allowed
        assert pool.started == 2  # and no worker replaced for them
    finally:
        pool.close()


def test_a_worker_killed_in_a_chunk_loses_nothing(tmp_path: Path) -> None:
    pool = ProcessRenderers(Settings(data_dir=tmp_path, render_processes=2), size=2)
    try:
        pool.warm(timeout=120)
        chunks = [[os.getpid(), i] for i in range(12)]
        assert pool.spread(exit_in_a_worker, chunks) == [i for _, i in chunks]
        pool.warm(timeout=120)
        assert pool.alive() == 2 and pool.started == 3  # the one killed was replaced
    finally:
        pool.close()


def _batch() -> tuple[list[Any], set[int]]:
    """130 items (six chunks): valid letters, and between them each way to be refused;
    and the positions meant to be refused."""
    items: list[Any] = []
    refused: set[int] = set()
    for i in range(130):
        item: Any = letter(f"SPREAD-{i:03d}")
        if i % 7 == 3:
            item["document"]["locale"] = "xx-XX"  # an invalid payload
        elif i % 11 == 5:
            item = [i]  # not an object
        elif i == 40:
            item["reissue"] = "yes"  # an invalid option, before the payload is read
        elif i == 41:
            item["review"] = {"required": True}
        elif i == 42:
            item["review"] = {"required": "please"}
        elif i == 90:
            item["deliver"] = {"to": [{"email": "not an address"}]}
        if i % 7 == 3 or i % 11 == 5 or i in (40, 42, 90):
            refused.add(i)
        if i == 91:
            item = letter("SPREAD-000")  # the reference of item 0: the same document
        items.append(item)
    return items, refused


def _recorded(world: Any, items: list[Any]) -> list[tuple[Any, ...]]:
    client = world.client()
    progress = world.service.batches.submit(items, client=client)
    return [
        (
            r.position,
            None if r.document is None else (r.document.status, r.document.business_reference),
            [(p.field, p.message, p.error) for p in r.problems],
        )
        for r in world.service.batches.results(progress.id, client=client)
    ]


def test_a_batch_records_the_same_whether_checked_here_or_in_the_render_processes(
    tmp_path: Path,
) -> None:
    (tmp_path / "here").mkdir()
    (tmp_path / "spread").mkdir()
    here = build_world(tmp_path / "here", EnginePool(Settings(render_processes=0), size=1))
    processes = ProcessRenderers(Settings(data_dir=tmp_path, render_processes=2), size=2)
    spread_world = build_world(tmp_path / "spread", processes)  # type: ignore[arg-type]
    try:
        processes.warm(timeout=120)
        assert processes.alive() == 2
        items, refused = _batch()
        expected = _recorded(here, items)
        assert _recorded(spread_world, _batch()[0]) == expected
        assert {at for at, document, problems in expected if problems} == refused
        assert all(document is None for at, document, _ in expected if at in refused)
        statuses = {document[0] for _, document, _ in expected if document is not None}
        assert statuses == {"queued", "in_review"}
        assert expected[91][1] == expected[0][1]  # the same document
    finally:
        for world in (here, spread_world):
            world.service.close()
            world.service.database.dispose()
        processes.close()


def _either(make: Callable[[], Any]) -> Any:
    """What an item becomes: its row's fields, payload and options, or its problems."""
    try:
        item = make()
    except InvalidPayload as refused:
        return tuple(refused.problems)
    if isinstance(item, tuple):  # check_each's refusal
        return item
    return (item.fields, item.payload, item.reissue, item.recipients, item.review)


def test_checking_then_reading_the_options_is_what_prepare_does(tmp_path: Path) -> None:
    """Item by item, a batch's way (check, then ``ready``) and one request's way
    (``prepare``) give the same fields, payload, options, recipients and review reason,
    or the same problems in the same order; with the settings holding a kind for review
    and a valid delivery among the items."""
    world = build_world(
        tmp_path,
        EnginePool(Settings(render_processes=0), size=1),
        review_kinds=["collection_update"],
    )
    acceptor = world.service.acceptor
    items, refused = _batch()
    items[61]["deliver"] = {"email": {"to": ["a@example.com"]}}
    kinds = ("collection_update",)
    compared = 0
    for at, body in enumerate(items):
        if not isinstance(body, dict):
            continue

        def batch_way(body: dict[str, Any] = body) -> Any:
            (checked,) = check_each([body], kinds)
            return acceptor.ready(checked) if isinstance(checked, Checked) else checked

        expected = _either(lambda body=body: acceptor.prepare(body))
        assert _either(batch_way) == expected
        assert isinstance(expected[0], Problem) == (at in refused), at
        compared += 1
    assert compared > 100
    world.service.close()
    world.service.database.dispose()
