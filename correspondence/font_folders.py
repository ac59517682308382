"""Where WeasyPrint writes the ``@font-face`` fonts of a process, and how those folders
are removed even when the process that wrote them was killed.

WeasyPrint's ``FontConfiguration`` writes the fonts of ``@font-face`` rules into a
``mkdtemp()`` folder (6.7 MB for our Noto Sans faces) and removes it only in
``__del__``, which never runs in a process that ends by ``os._exit`` (every
multiprocessing and Celery child) or by a signal: each replaced worker left one behind, and
/tmp filled up with thousands of them. Here instead:

* every folder lives under one parent this user owns,
  ``<tempdir>/correspondence-fonts-<uid>/<pid>-<random>``;
* its owner holds an exclusive ``flock`` on the folder's ``.lock`` for as long as it lives.
  The kernel drops that lock when the process ends, however it ends (SIGKILL included), so
  "nobody holds the lock" means "the owner is gone", with no trust in process ids (which
  are reused, and differ between PID namespaces sharing one /tmp);
* :func:`sweep` removes every folder whose lock it can take. It runs whenever a process
  claims a folder (so a worker's start cleans up after the workers before it) and when a
  supervisor sees a worker exit; :func:`release` removes the process's own folders on a
  normal exit (``weakref.finalize`` for the interpreter's exit, and explicitly in a render
  worker's shutdown, which ``os._exit``\\ s past ``atexit``).

A folder is made under a dotted name, locked, then renamed into place, so :func:`sweep`
never sees an unlocked folder that is still being made; a dotted folder is only removed
once it is older than :data:`STALE_SECONDS` (its maker was killed halfway).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import suppress
from pathlib import Path

LOCK = ".lock"
STALE_SECONDS = 600.0

_HELD: dict[Path, tuple[int, int]] = {}
"""This process's folders: path -> (owner pid, descriptor of its locked ``.lock``)."""


def parent() -> Path:
    """The folder holding every process's font folder (made on first use, ours alone)."""
    root = Path(tempfile.gettempdir()) / f"correspondence-fonts-{os.getuid()}"
    with suppress(FileExistsError):
        root.mkdir(mode=0o700)
    status = root.lstat()
    if not root.is_dir() or root.is_symlink() or status.st_uid != os.getuid():
        raise RuntimeError(f"{root} is not a folder of this user's")
    return root


def claim(root: Path | None = None) -> Path:
    """A new, empty, locked folder for this process's fonts under ``root`` (default
    :func:`parent`), after sweeping up the folders of processes that are gone."""
    root = root or parent()
    sweep(root)
    making = Path(tempfile.mkdtemp(prefix=".new-", dir=root))
    descriptor = os.open(making / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    folder = root / f"{os.getpid()}-{making.name.removeprefix('.new-')}"
    making.rename(folder)
    _HELD[folder] = (os.getpid(), descriptor)
    return folder


def release(folder: Path) -> None:
    """Remove ``folder`` if this process made it (a forked child inherits the parent's
    objects, and must not remove the folder its parent still uses)."""
    owner, descriptor = _HELD.get(folder, (None, -1))
    if owner != os.getpid():
        return
    del _HELD[folder]
    shutil.rmtree(folder, ignore_errors=True)
    with suppress(OSError):
        os.close(descriptor)


def release_all() -> None:
    """Remove every folder this process made (a worker's last act)."""
    for folder in list(_HELD):
        release(folder)


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the folders under ``root`` whose owner is gone; return them."""
    root = root or parent()
    removed = []
    with os.scandir(root) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        folder = root / name
        if folder in _HELD:
            continue
        if name.startswith(".") and _older_than(folder, STALE_SECONDS):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        elif not name.startswith(".") and _abandoned(folder):
            removed.append(folder)
    return removed


def tidy() -> None:
    """:func:`sweep`, for a supervisor that must not fail because of it."""
    with suppress(OSError, RuntimeError):
        sweep()


def _abandoned(folder: Path) -> bool:
    """Remove ``folder`` if nobody holds its lock (holding it meanwhile); say if it was."""
    try:
        descriptor = os.open(folder / LOCK, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:  # no lock: not one of ours, or removed by another sweep
        if _older_than(folder, STALE_SECONDS):
            shutil.rmtree(folder, ignore_errors=True)
            return True
        return False
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: its owner lives
        os.close(descriptor)
        return False
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(descriptor)
    return True


def _older_than(folder: Path, seconds: float) -> bool:
    try:
        return time.time() - folder.lstat().st_mtime > seconds
    except FileNotFoundError:
        return False
