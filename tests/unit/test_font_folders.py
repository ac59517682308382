"""The folders WeasyPrint writes @font-face fonts into (correspondence.font_folders): the
folder of a process that is gone, however it went, is swept; a living one never is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from correspondence import font_folders

HOLD = """
import sys, time
from pathlib import Path
from correspondence import font_folders
folder = font_folders.claim(Path(sys.argv[1]))
(folder / "font.ttf").write_bytes(b"0" * 1000)
print(folder, flush=True)
time.sleep(120)
"""


@contextmanager
def holder(root: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A process that claims a folder under ``root`` and keeps it until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        folder = Path(process.stdout.readline().strip())
        assert folder.parent == root and folder.name.startswith(f"{process.pid}-")
        yield process, folder
    finally:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_a_killed_owners_folder_is_swept_and_a_living_ones_kept(tmp_path: Path) -> None:
    with holder(tmp_path) as (killed, gone), holder(tmp_path) as (living, kept):
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert (gone / "font.ttf").exists()  # nothing ran at its death
        assert font_folders.sweep(tmp_path) == [gone]
        assert not gone.exists()
        assert (kept / "font.ttf").exists() and font_folders.sweep(tmp_path) == []
        living.send_signal(signal.SIGKILL)
        living.wait()
        assert kept.exists()
        # the next claim, as the next process's renderer makes, sweeps it up
        mine = font_folders.claim(tmp_path)
        assert not kept.exists() and sorted(tmp_path.iterdir()) == [mine]
        font_folders.release(mine)
    assert list(tmp_path.iterdir()) == []


def test_a_forked_child_leaves_its_parents_folder_alone(tmp_path: Path) -> None:
    folder = font_folders.claim(tmp_path)
    child = os.fork()
    if child == 0:  # the child: what a worker does at its end
        try:
            font_folders.release_all()
            font_folders.sweep(tmp_path)
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert folder.exists()
    font_folders.release(folder)
    assert not folder.exists()


def test_a_half_made_folder_is_swept_only_once_stale(tmp_path: Path) -> None:
    """A maker killed between making its folder and locking it leaves a dotted folder:
    left alone while it may still be in the making, swept once it is old."""
    half = tmp_path / ".new-abc"
    half.mkdir()
    assert font_folders.sweep(tmp_path) == [] and half.exists()
    old = time.time() - font_folders.STALE_SECONDS - 1
    os.utime(half, (old, old))
    assert font_folders.sweep(tmp_path) == [half] and not half.exists()
