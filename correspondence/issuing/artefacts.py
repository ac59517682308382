"""Render a numbered document and write it to the archive, write-once, and record the
result on its registry row."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from correspondence.archive import Archive, ArchiveConflict, document_key
from correspondence.engine import RenderedDocument
from correspondence.errors import RenderError
from correspondence.kinds import Validated
from correspondence.registry.models import Document
from correspondence.renderers import Renderers
from correspondence.statuses import DocumentStatus


@dataclass(frozen=True)
class Artefact:
    """A rendered, archived PDF and what produced it."""

    rendered: RenderedDocument
    sha256: str
    archive_key: str
    template_version: str
    template_hash: str


def render_and_archive(
    renderers: Renderers, archive: Archive, validated: Validated, document_id: str
) -> Artefact:
    """Render ``validated`` and archive its PDF and payload under the document's key."""
    result = renderers.render(validated)
    rendered = result.document
    sha = hashlib.sha256(rendered.pdf).hexdigest()
    doc = validated.doc
    base = document_key(
        jurisdiction=doc.document.jurisdiction,
        policy_number=doc.policy.number,
        kind=validated.kind.name,
        issue_date=doc.document.issue_date,
        document_id=document_id,
    )
    metadata = {
        "sha256": sha,
        "kind": validated.kind.name,
        "locale": doc.document.locale,
        "document-id": document_id,
    }
    put_once(archive, f"{base}.pdf", rendered.pdf, "application/pdf", metadata)
    payload = doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode("utf-8")
    put_once(archive, f"{base}.json", payload, "application/json", metadata)
    return Artefact(rendered, sha, f"{base}.pdf", result.template_version, result.template_hash)


def put_once(
    archive: Archive, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]
) -> None:
    """Write ``data`` at ``key``; if the key is taken (a retry after a crash between the
    archive write and the commit), accept it only if it holds exactly these bytes."""
    try:
        archive.put(key=key, data=data, content_type=content_type, metadata=metadata)
    except ArchiveConflict:
        if archive.get(key=key) != data:
            raise RenderError(f"archive already holds different bytes at {key}") from None


def record(row: Document, artefact: Artefact, versions: Mapping[str, str], now: datetime) -> None:
    """Mark ``row`` issued with what rendering it produced."""
    row.status = DocumentStatus.ISSUED
    row.sha256 = artefact.sha256
    row.size = len(artefact.rendered.pdf)
    row.pages = artefact.rendered.pages
    row.archive_key = artefact.archive_key
    row.warnings = list(artefact.rendered.warnings)
    row.template_version = artefact.template_version
    row.template_hash = artefact.template_hash
    row.weasyprint_version = versions["weasyprint"]
    row.pypdf_version = versions["pypdf"]
    row.issued_at = now
    row.next_attempt_at = None
    row.last_error = None
