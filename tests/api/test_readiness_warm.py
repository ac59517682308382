"""``/readyz`` says the renderers are ready only once they are warm (issue 23): every
render worker has started and rendered once, and the process that validates requests has
validated every kind once. Started workers alone are not enough. The first request after
ready against the median one is measured in bench/first_request.py."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
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
        gc.unfreeze()  # warming froze this test process's objects


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
        gc.unfreeze()


_SERVED = """
import gc, json, sys, time
from fastapi.testclient import TestClient
from api.app import create_app
from tests.api.conftest import fast_settings
from pathlib import Path

app = create_app(fast_settings(Path(sys.argv[1]), run_worker=False, render_processes=0))
with TestClient(app) as client:
    deadline = time.monotonic() + 120
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    frozen = gc.get_freeze_count()
    walked = len(gc.get_objects())  # what a full collection walks: the frozen are left out
print(json.dumps({"frozen": frozen, "walked": walked, "after_stop": gc.get_freeze_count()}))
"""


def test_a_warm_api_process_leaves_what_it_built_out_of_full_collections(
    tmp_path: Path,
) -> None:
    """Once warm, the API process's long-lived objects are frozen: a full collection does
    not walk them while requests wait (in a process of its own: freezing is
    process-wide). When the service stops they go back to the collector."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVED, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    served = json.loads(done.stdout.splitlines()[-1])
    assert served["frozen"] > 100_000
    assert served["walked"] < served["frozen"] // 10  # a full pass took 130-150 ms unfrozen
    assert served["after_stop"] == 0
