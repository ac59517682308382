"""Filesystem archive: the embedded default. Write-once through ``os.link``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from correspondence.archive import ArchiveConflict, ArchiveNotFound, ArchiveUnavailable


class FilesystemArchive:
    """Stores each object as a file under ``root``, with its metadata beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"archive key escapes the archive: {key!r}")
        return path

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """Write ``data`` atomically; refuse if the key exists."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(tmp, path)  # fails if the key exists: write-once
            finally:
                os.unlink(tmp)
        except FileExistsError:
            raise ArchiveConflict(key) from None
        except OSError as error:
            raise ArchiveUnavailable(f"cannot write {key}: {error.strerror}") from error
        meta = {"content_type": content_type, **metadata}
        path.with_name(path.name + ".meta.json").write_text(json.dumps(meta, sort_keys=True))

    def get(self, *, key: str) -> bytes:
        """The stored bytes."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ArchiveNotFound(key) from None
        except OSError as error:
            raise ArchiveUnavailable(f"cannot read {key}: {error.strerror}") from error

    def exists(self, *, key: str) -> bool:
        """Whether the key is stored."""
        return self._path(key).is_file()

    def check(self) -> None:
        """The root exists (or can be created) and is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ArchiveUnavailable(str(error)) from error
        if not os.access(self.root, os.W_OK):
            raise ArchiveUnavailable(f"{self.root} is not writable")
