"""Files we write: private (0600 files in 0700 folders, whatever the umask) and atomic
(written under a temporary name, flushed, then renamed or linked into place), so that a
crash or a full disk leaves the old state or the new one, never a part."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) 0700 if missing; a folder we created is 0700."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue
        folder.chmod(FOLDER_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if it does not exist (before a library opens it)."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def write_atomically(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` in one step, 0600. With ``replace``, an existing file
    is replaced (rename); without, ``FileExistsError`` is raised (link: write-once)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # 0600 whatever the umask
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
