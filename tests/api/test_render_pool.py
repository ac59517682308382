"""The render pool keeps its size: workers retired after their quota and workers that die
are replaced (CPython's ProcessPoolExecutor sometimes did not, gh-115634, and the service
then answered 503 for ever while /readyz said 200); /readyz fails while no worker lives."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from correspondence.bootstrap import build_service
from correspondence.config import Settings
from correspondence.workers import ProcessRenderers
from tests.api.conftest import Api, fast_settings
from tests.conftest import load_sample, pdf_reader
from tests.factories import sample_with_lines
from tests.servers import api_server


def letter(reference: str) -> dict[str, Any]:
    payload = load_sample("03_credit_limit_change_reduction_es-ES.json")
    payload["document"]["our_reference"] = reference
    return payload


def refuse_to_start(settings: Settings, freeze: bool) -> None:
    """A worker start that always fails (injected into the pool, run in the worker)."""
    raise RuntimeError("this worker cannot build its engine")


def test_recycled_workers_keep_the_pool_full(tmp_path: Path) -> None:
    """Workers replaced every 5 renders: a 1,500-line invoice preview laid out in sections,
    then 100 letters, all rendered; the pool still has its two workers, and never more."""
    settings = fast_settings(
        tmp_path, worker_max_tasks_per_child=5, render_processes=2, render_wait_seconds=600
    )
    with api_server(settings) as running:
        api = Api(running)
        pool = running.service.renderers
        assert isinstance(pool, ProcessRenderers) and pool.size == 2
        long = api.post("/v1/previews", sample_with_lines(1500))
        assert long.status_code == 200, long.text
        assert len(pdf_reader(long.content).pages) > 30
        sizes: list[int] = []

        def one(i: int) -> int:
            sizes.append(len(pool.pids()))
            return api.post("/v1/previews", letter(f"POOL-{i}")).status_code

        with ThreadPoolExecutor(4) as threads:
            codes = list(threads.map(one, range(100)))
        assert codes == [200] * 100
        assert max(sizes) <= 2
        # 100 letters and the long invoice's sections, 5 renders a worker: some 25 starts
        assert pool.started >= 20
        pool.warm(timeout=60)
        assert pool.alive() == 2
        assert api.http.get("/readyz").status_code == 200
        api.http.close()


def test_readyz_fails_while_no_worker_lives(tmp_path: Path) -> None:
    """A pool whose workers cannot start: /readyz answers 503 and a render 503, promptly,
    rather than waiting for a worker that never comes."""
    settings = fast_settings(tmp_path, render_wait_seconds=5)
    pool = ProcessRenderers(settings, size=1, start=refuse_to_start)
    with api_server(settings, service=build_service(settings, renderers=pool)) as running:
        api = Api(running)
        deadline = time.monotonic() + 60
        while not pool.last_start_error:  # until a start was tried and failed
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ready = api.http.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert pool.alive() == 0 and pool.started >= 1
        assert "cannot build its engine" in pool.last_start_error
        started = time.monotonic()
        assert api.post("/v1/previews", letter("NO-WORKER")).status_code == 503
        assert time.monotonic() - started < 10
        api.http.close()
