"""Both archive adapters are write-once and keep request data out of paths."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest

from correspondence.archive import ArchiveConflict, ArchiveNotFound, document_key, safe_segment
from correspondence.archive.filesystem import FilesystemArchive
from correspondence.archive.s3 import S3Archive
from tests.servers import SeaweedFS


def _adapters(tmp_path: Path, seaweed: SeaweedFS) -> list[object]:
    s3 = S3Archive(
        bucket=f"t-{uuid.uuid4().hex[:12]}",
        endpoint_url=seaweed.endpoint,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    s3.ensure_bucket()
    return [FilesystemArchive(tmp_path / "archive"), s3]


def test_objects_are_write_once(tmp_path: Path, seaweed: SeaweedFS) -> None:
    """A second put to the same key is refused and the first bytes stay."""
    for archive in _adapters(tmp_path, seaweed):
        archive.put(
            key="ES/P-1/x.pdf",
            data=b"first",
            content_type="application/pdf",  # type: ignore[attr-defined]
            metadata={"sha256": "abc"},
        )
        with pytest.raises(ArchiveConflict):
            archive.put(
                key="ES/P-1/x.pdf",
                data=b"second",
                content_type="application/pdf",  # type: ignore[attr-defined]
                metadata={},
            )
        assert archive.get(key="ES/P-1/x.pdf") == b"first"  # type: ignore[attr-defined]
        assert archive.exists(key="ES/P-1/x.pdf")  # type: ignore[attr-defined]
        with pytest.raises(ArchiveNotFound):
            archive.get(key="ES/P-1/missing.pdf")  # type: ignore[attr-defined]


def test_keys_never_carry_raw_request_data() -> None:
    """Slashes, dots and spaces in a policy number cannot climb out of the key layout."""
    key = document_key(
        jurisdiction="ES",
        policy_number="../../etc/passwd",
        kind="premium_invoice",
        issue_date=date(2026, 10, 28),
        document_id="d1",
    )
    assert key.startswith("ES/") and key.count("/") == 4 and ".." not in key
    assert safe_segment("MX-SC-000318") == "MX-SC-000318"
    assert safe_segment("MX/SC 1") != safe_segment("MX_SC_1")


def test_filesystem_archive_refuses_keys_outside_its_root(tmp_path: Path) -> None:
    """Even a hand-made key cannot escape the archive folder."""
    archive = FilesystemArchive(tmp_path / "archive")
    with pytest.raises(ValueError, match="escapes"):
        archive.put(key="../outside.pdf", data=b"x", content_type="application/pdf", metadata={})
    assert not (tmp_path / "outside.pdf").exists()
