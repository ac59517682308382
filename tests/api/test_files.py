"""What the service writes to disk is private (0600 files, 0700 folders, whatever the
umask) and atomic (a full disk between the PDF and its metadata leaves no partial file)."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from correspondence.archive import ArchiveConflict, ArchiveUnavailable
from correspondence.archive.filesystem import FilesystemArchive
from correspondence.bootstrap import build_service
from correspondence.config import Settings
from correspondence.renderers import EnginePool
from correspondence.service import SCOPES, Client
from tests.conftest import load_sample

INTERNAL = Client(id=0, name="test", scopes=frozenset(SCOPES))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_archive_outbox_and_key_are_private_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "var"
    settings = Settings(data_dir=data, render_processes=0)
    previous = os.umask(0)  # the worst case: everything would be world-writable
    try:
        service = build_service(settings, renderers=EnginePool(settings, size=1))
        try:
            payload = {
                **load_sample("05_credit_limit_decision_partial_es-MX.json"),
                "deliver": {"email": {"to": ["tesoreria@nopalazul.example"]}},
            }
            assert service.issue(payload, client=INTERNAL).document.status == "issued"
            assert service.work_once() >= 1  # the email, to the outbox folder
        finally:
            service.close()
    finally:
        os.umask(previous)
    files = [p for p in data.rglob("*") if p.is_file()]
    folders = [data, *(p for p in data.rglob("*") if p.is_dir())]
    names = {p.name for p in files}
    assert {"correspondence.db", "secret.key"} <= names
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".eml") for n in names)
    assert any(n.endswith(".meta.json") for n in names)
    assert {str(p): oct(mode(p)) for p in files if mode(p) != 0o600} == {}
    assert {str(p): oct(mode(p)) for p in folders if mode(p) != 0o700} == {}
    assert not [p for p in files if p.name.startswith(".tmp-")]


class FullDiskForMetadata(FilesystemArchive):
    """The disk fills up after the PDF is written, before its metadata is."""

    def _write(self, path: Path, data: bytes) -> None:
        if path.name.endswith(".meta.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super()._write(path, data)


def test_a_full_disk_between_the_pdf_and_its_metadata_leaves_no_partial_file(
    tmp_path: Path,
) -> None:
    key, data = "ES/P-1/premium_invoice/2026/doc-1.pdf", b"%PDF-1.7 bytes"
    with pytest.raises(ArchiveUnavailable, match="No space left"):
        FullDiskForMetadata(tmp_path).put(
            key=key, data=data, content_type="application/pdf", metadata={"sha256": "x"}
        )
    pdf = tmp_path / key
    meta = pdf.with_name(pdf.name + ".meta.json")
    assert pdf.read_bytes() == data and not meta.exists()
    assert [p.name for p in pdf.parent.iterdir()] == [pdf.name]  # no temporary file left

    archive = FilesystemArchive(tmp_path)  # the retry, with room on the disk again
    archive.put(key=key, data=data, content_type="application/pdf", metadata={"sha256": "x"})
    assert json.loads(meta.read_text()) == {"content_type": "application/pdf", "sha256": "x"}
    assert archive.get(key=key) == data
    with pytest.raises(ArchiveConflict):  # and it stays write-once
        archive.put(key=key, data=data, content_type="application/pdf", metadata={})
    with pytest.raises(ArchiveConflict):
        archive.put(key=key, data=b"other", content_type="application/pdf", metadata={})
