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
from correspondence.errors import RenderersUnavailable
from correspondence.renderers import EnginePool, spread
from correspondence.workers import ProcessRenderers
from tests.unit.use_cases.conftest import build_world, letter


def pid_after(chunk: list[int]) -> tuple[list[int], int]:
    """A chunk as it came, and the process that saw it (run in a render process too)."""
    time.sleep(0.02)
    return chunk, os.getpid()


def test_spread_keeps_the_order_and_at_most_room_chunks_in_the_workers() -> None:
    chunks = [[i] for i in range(40)]
    caller = threading.get_ident()
    lock = threading.Lock()
    busy, most, by_caller = 0, 0, 0

    def fn(chunk: list[int]) -> list[int]:
        nonlocal busy, most, by_caller
        here = threading.get_ident() == caller
        with lock:
            by_caller += here
            busy += not here
            most = max(most, busy)
        time.sleep(0.005)
        with lock:
            busy -= not here
        return [x * 10 for x in chunk]

    with ThreadPoolExecutor(8) as threads:  # more threads than room: room must bound it
        done = spread(fn, chunks, threads.submit, room=2)
    assert done == [[i * 10] for i in range(40)]
    assert most == 2  # the workers were used, never more than two at once
    assert 0 < by_caller < 40  # and this thread did its share


def test_a_chunk_whose_worker_fails_is_checked_here() -> None:
    def submit(fn: Callable[[list[int]], list[int]], chunk: list[int]) -> Future[list[int]]:
        future: Future[list[int]] = Future()
        if chunk[0] % 3 == 0:
            future.set_exception(RenderersUnavailable("worker died"))
        else:
            future.set_result(fn(chunk))
        return future

    assert spread(lambda c: [x + 1 for x in c], [[i] for i in range(10)], submit, room=2) == [
        [i + 1] for i in range(10)
    ]


def test_an_error_of_the_check_itself_is_raised() -> None:
    def fn(chunk: list[int]) -> list[int]:
        if chunk == [7]:
            raise ValueError("a bug in the check")
        return chunk

    with ThreadPoolExecutor(2) as threads, pytest.raises(ValueError, match="a bug"):
        spread(fn, [[i] for i in range(10)], threads.submit, room=2)
    assert spread(fn, [[1], [2]], None, room=2) == [[1], [2]]  # no workers: all here


def test_the_render_processes_take_chunks_and_give_them_back_in_order(tmp_path: Path) -> None:
    pool = ProcessRenderers(Settings(data_dir=tmp_path, render_processes=2), size=2)
    try:
        pool.warm(timeout=120)
        assert pool.alive() == 2
        done = pool.spread(pid_after, [[i] for i in range(30)])
        assert [chunk for chunk, _ in done] == [[i] for i in range(30)]
        pids = {pid for _, pid in done}
        assert os.getpid() in pids
        assert pids & set(pool.pids())  # the workers checked some of them
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
