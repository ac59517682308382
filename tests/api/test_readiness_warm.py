"""``/readyz`` says the renderers are ready only once they are warm (issue 23): every
render worker has started and rendered once, and the process that validates requests has
validated every kind once. Started workers alone are not enough. The first request after
ready against the median one is measured in bench/first_request.py."""

from __future__ import annotations

import time
from contextlib import suppress
from pathlib import Path

from correspondence import readiness
from correspondence.bootstrap import build_service
from correspondence.errors import Unavailable
from correspondence.renderers import EnginePool
from correspondence.workers import ProcessRenderers
from tests.api.conftest import fast_settings


def test_started_workers_are_not_ready_until_the_pool_is_warm(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, run_worker=False)
    pool = ProcessRenderers(settings, size=1)
    service = build_service(settings, renderers=pool)
    with suppress(Unavailable):  # "no render worker is alive yet"
        pool.check()  # starts the worker, as a request would, without warming the pool
    deadline = time.monotonic() + 120
    while pool.alive() < 1:
        assert time.monotonic() < deadline, pool.last_start_error
        time.sleep(0.05)
    try:
        states = readiness.checks(service)
        assert states["renderers"].startswith("warming"), states
        assert states["database"] == states["archive"] == readiness.OK
        pool.warm()
        assert readiness.checks(service)["renderers"] == readiness.OK
    finally:
        service.close()


def test_in_process_engines_are_not_ready_until_warm(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, run_worker=False, render_processes=0)
    pool = EnginePool(settings, size=1)
    service = build_service(settings, renderers=pool)
    try:
        assert readiness.checks(service)["renderers"].startswith("warming")
        pool.warm()
        assert readiness.checks(service)["renderers"] == readiness.OK
    finally:
        service.close()
