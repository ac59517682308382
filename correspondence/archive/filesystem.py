"""Filesystem archive: the embedded default. Write-once through ``os.link``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from correspondence.archive import ArchiveConflict, ArchiveNotFound, ArchiveUnavailable
from correspondence.files import private_folder, write_atomically


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
        """Write ``data``, then its metadata, each atomically (a temporary file linked
        into place), 0600 in 0700 folders; refuse if the key exists. A write cut short
        between the two (a full disk, a crash) leaves the data without metadata, never
        a partial file: the same put again completes it."""
        path = self._path(key)
        meta = json.dumps({"content_type": content_type, **metadata}, sort_keys=True).encode()
        try:
            private_folder(path.parent)
            try:
                self._write(path, data)  # fails if the key exists: write-once
            except FileExistsError:
                if self._meta(path).exists() or path.read_bytes() != data:
                    raise ArchiveConflict(key) from None
            try:
                self._write(self._meta(path), meta)
            except FileExistsError:
                raise ArchiveConflict(key) from None
        except OSError as error:
            raise ArchiveUnavailable(f"cannot write {key}: {error.strerror}") from error

    def _write(self, path: Path, data: bytes) -> None:
        """One write-once file (a subclass may fail it, to test what a full disk does)."""
        write_atomically(path, data, replace=False)

    @staticmethod
    def _meta(path: Path) -> Path:
        return path.with_name(path.name + ".meta.json")

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
            private_folder(self.root)
        except OSError as error:
            raise ArchiveUnavailable(str(error)) from error
        if not os.access(self.root, os.W_OK):
            raise ArchiveUnavailable(f"{self.root} is not writable")
