"""The archive port: write-once storage of issued PDFs and their payloads.

Two adapters: :mod:`correspondence.archive.filesystem` (the embedded default) and
:mod:`correspondence.archive.s3` (boto3, any S3-compatible store). Both refuse to overwrite
an object. Keys are built here from validated, sanitised segments only: request data
never becomes a path as it is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from typing import Protocol

from correspondence.errors import CorrespondenceError, Unavailable


class ArchiveError(CorrespondenceError):
    """Base of archive failures."""


class ArchiveUnavailable(ArchiveError, Unavailable):
    """The archive cannot be reached now; the operation may succeed later."""

    dependency = "archive"


class ArchiveConflict(ArchiveError):
    """An object already exists under that key (objects are write-once)."""


class ArchiveNotFound(ArchiveError):
    """No object under that key."""


class Archive(Protocol):
    """Write-once object storage."""

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """Store ``data`` under ``key`` unless something is already there."""

    def get(self, *, key: str) -> bytes:
        """The bytes stored under ``key``."""

    def exists(self, *, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    def check(self) -> None:
        """Raise :class:`ArchiveUnavailable` unless the archive is reachable and writable."""


_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_segment(value: str) -> str:
    """A key segment made only of letters, digits, ``_`` and ``-``.

    Any other character is replaced, and a short hash of the original keeps distinct
    values distinct (``MX/SC 1`` and ``MX-SC-1`` do not collide).
    """
    cleaned = _SAFE.sub("_", value)[:80]
    if cleaned == value and cleaned:
        return cleaned
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:10]
    return f"{cleaned or 'x'}~{digest}"


def document_key(
    *, jurisdiction: str, policy_number: str, kind: str, issue_date: date, document_id: str
) -> str:
    """``{jurisdiction}/{policy_number}/{kind}/{yyyy}/{document_id}`` (add ``.pdf``/``.json``)."""
    parts = (jurisdiction, policy_number, kind, f"{issue_date.year:04d}", document_id)
    return "/".join(safe_segment(part) for part in parts)
