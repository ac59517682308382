"""No render process leaves its @font-face fonts behind (6.7 MB each: a service replacing
its workers filled /tmp with them): a worker's folder goes when it is retired, when it is
killed with SIGKILL, and when any process ends normally; a killed process's folder is
swept by the next process that starts a renderer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from correspondence import font_folders, render_worker
from correspondence.workers import ProcessRenderers
from tests.api.conftest import fast_settings

RENDERER = """
import sys, time
from correspondence.pdf import PdfRenderer
renderer = PdfRenderer()
print(renderer.font_config._folder, flush=True)
if sys.argv[1] == "wait":
    time.sleep(120)
"""


def font_folder() -> str:
    """The font folder of the worker this runs in."""
    return str(render_worker._engine().pdf.font_config._folder)


def renderer_process(then: str) -> tuple[subprocess.Popen[str], Path]:
    """A process that builds a renderer (its fonts written), then waits or exits."""
    process = subprocess.Popen(
        [sys.executable, "-c", RENDERER, then], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    folder = Path(process.stdout.readline().strip())
    process.stdout.close()
    return process, folder


def holds_fonts(folder: Path, pid: int) -> bool:
    """``folder`` is ``pid``'s, under our one parent, with the fonts WeasyPrint wrote."""
    sizes = [p.stat().st_size for p in folder.iterdir() if p.name != font_folders.LOCK]
    return (
        folder.parent == font_folders.parent()
        and folder.name.startswith(f"{pid}-")
        and len(sizes) >= 2
        and sum(sizes) > 1_000_000
    )


def test_a_killed_process_folder_is_swept_by_the_next_and_a_normal_exit_leaves_none() -> None:
    killed, left = renderer_process("wait")
    assert holds_fonts(left, killed.pid)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert left.exists()  # nothing of the killed process ran
    after, own = renderer_process("exit")
    assert after.wait(timeout=120) == 0
    assert not left.exists()  # swept when the next renderer started
    assert not own.exists()  # removed at its own normal exit


def test_pool_workers_killed_recycled_or_stopped_leave_no_folder(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, render_wait_seconds=180, worker_max_tasks_per_child=3)
    pool = ProcessRenderers(settings, size=1)
    seen: list[Path] = []
    try:
        first = Path(pool.submit(font_folder).result(timeout=180))
        pid = pool.pids()[0]
        assert holds_fonts(first, pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 180
        while first.exists():  # the supervisor sees it die, replaces it and sweeps
            assert time.monotonic() < deadline, "the killed worker's folder was left"
            time.sleep(0.1)
        for _ in range(5):  # three tasks a worker: one replaced at its quota
            seen.append(Path(pool.submit(font_folder).result(timeout=180)))
        assert len(set(seen)) == 2
        retired, current = sorted(set(seen), key=seen.index)
        assert not retired.exists() and current.exists()
    finally:
        pool.close()
    assert not current.exists()
