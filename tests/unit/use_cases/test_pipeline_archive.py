"""Archiving a document's PDF and payload at the same time: one round trip's latency per
document, and an archive that fails for either still loses nothing."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from correspondence.archive import ArchiveUnavailable
from correspondence.renderers import EnginePool
from correspondence.statuses import DocumentStatus
from correspondence.testing import MemoryArchive
from tests.unit.use_cases.conftest import build_world, letter


class _MeetingArchive(MemoryArchive):
    """Each put waits until another put is under way too (or gives up after a while)."""

    def __init__(self) -> None:
        super().__init__()
        self.meet = threading.Barrier(2, timeout=20)
        self.met = 0

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        self.meet.wait()
        self.met += 1
        super().put(key=key, data=data, content_type=content_type, metadata=metadata)


def test_the_pdf_and_the_payload_are_written_at_the_same_time(
    tmp_path: Path, pool: EnginePool
) -> None:
    archive = _MeetingArchive()
    world = build_world(tmp_path, pool, archive=archive)
    doc = world.service.issue(letter("P-1"), client=world.client()).document
    assert doc.status == DocumentStatus.ISSUED and archive.met == 2
    key = doc.archive_key or ""
    assert set(archive.objects) == {key, key.replace(".pdf", ".json")}
    world.service.close()
    world.service.database.dispose()


class _NoPayloads(MemoryArchive):
    """Takes PDFs; refuses payloads as an unreachable archive does while ``refusing``."""

    def __init__(self) -> None:
        super().__init__()
        self.refusing = True

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        if self.refusing and key.endswith(".json"):
            raise ArchiveUnavailable("archive: payloads refused")
        super().put(key=key, data=data, content_type=content_type, metadata=metadata)


def test_a_payload_the_archive_refused_is_written_on_the_next_attempt(
    tmp_path: Path, pool: EnginePool
) -> None:
    """The PDF was written, the payload not: the document keeps its number and waits; the
    next attempt finds its PDF there (the same bytes) and writes the payload."""
    archive = _NoPayloads()
    world = build_world(tmp_path, pool, archive=archive)
    client = world.client()
    accepted = world.service.issue(letter("P-2"), client=client, asynchronous=True).document
    assert world.service.issue_accepted(accepted.id).outcome == "retry"
    waiting = world.service.get(accepted.id, client=client)
    assert waiting.status == DocumentStatus.QUEUED and "payloads refused" in (
        waiting.last_error or ""
    )
    (pdf_key,) = archive.objects
    first_pdf = archive.objects[pdf_key].data
    archive.refusing = False
    assert world.service.issue_accepted(accepted.id).outcome == "issued"
    issued = world.service.get(accepted.id, client=client)
    assert issued.archive_key == pdf_key and archive.objects[pdf_key].data == first_pdf
    assert pdf_key.replace(".pdf", ".json") in archive.objects
    world.service.close()
    world.service.database.dispose()
