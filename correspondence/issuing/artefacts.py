"""Render a numbered document, sign it if its kind is signed, write it to the archive,
write-once, and record the result on its registry row.

A signature is appended to the rendered bytes as an incremental update (``signing.py``):
the archive holds the signed bytes, and the registry their sha256, the signer, the time
the signature states, and the sha256 of the unsigned render (what a re-render gives).
Signing is not deterministic (its time), so a retry that finds the archive key already
taken accepts what is there if it is a signature of ours over this very render."""

from __future__ import annotations

import contextvars
import hashlib
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from correspondence import metrics, tracing
from correspondence.archive import Archive, ArchiveConflict, document_key
from correspondence.engine import RenderedDocument
from correspondence.errors import RenderError
from correspondence.kinds import Validated
from correspondence.registry.models import Document
from correspondence.renderers import Renderers
from correspondence.signing import Signed, Signer
from correspondence.statuses import DocumentStatus


@dataclass(frozen=True)
class Artefact:
    """A rendered, archived PDF and what produced it."""

    rendered: RenderedDocument
    sha256: str
    archive_key: str
    template_version: str
    template_hash: str
    pdf: bytes
    """The archived bytes: ``rendered.pdf``, or those bytes signed."""
    unsigned_sha256: str
    signed: Signed | None = None


def render_and_archive(
    renderers: Renderers,
    archive: Archive,
    validated: Validated,
    document_id: str,
    signer: Signer | None = None,
) -> Artefact:
    """Render ``validated``, sign it if ``signer`` signs its kind, and archive the PDF and
    the payload under the document's key."""
    doc = validated.doc
    about = tracing.document_attributes(document_id, validated.kind.name, doc.document.locale)
    with tracing.span("document.render", about), metrics.timed(validated.kind.name):
        result = renderers.render(validated)
    rendered = result.document
    unsigned_sha = hashlib.sha256(rendered.pdf).hexdigest()
    signing = signer if signer is not None and signer.signs(validated.kind.name) else None
    signed = None
    if signing is not None:
        with tracing.span("document.sign", about), metrics.stage("sign"):
            signed = signing.sign(rendered.pdf)
    pdf = signed.pdf if signed is not None else rendered.pdf
    base = document_key(
        jurisdiction=doc.document.jurisdiction,
        policy_number=doc.policy.number,
        kind=validated.kind.name,
        issue_date=doc.document.issue_date,
        document_id=document_id,
    )
    metadata = {
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "kind": validated.kind.name,
        "locale": doc.document.locale,
        "document-id": document_id,
    }
    payload = doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode("utf-8")
    with tracing.span("document.archive", about), metrics.stage("archive"):
        # The payload is written beside the PDF, at the same time: one round trip to the
        # archive's latency, not two. Both are write-once and the same on a retry.
        beside = _beside(put_once, archive, f"{base}.json", payload, "application/json", metadata)
        try:
            if signing is not None and signed is not None:
                # A retry may find its own earlier signature of these same bytes archived.
                signed = _put_signed(
                    archive, f"{base}.pdf", signed, rendered.pdf, signing, metadata
                )
                pdf = signed.pdf
            else:
                put_once(archive, f"{base}.pdf", pdf, "application/pdf", metadata)
        finally:
            failed = beside.exception()  # waits for it, whatever became of the PDF
        if failed is not None:
            raise failed
    return Artefact(
        rendered,
        hashlib.sha256(pdf).hexdigest(),
        f"{base}.pdf",
        result.template_version,
        result.template_hash,
        pdf,
        unsigned_sha,
        signed,
    )


_WRITERS: tuple[int, ThreadPoolExecutor] | None = None


def _beside(function: Callable[..., None], *args: Any) -> Future[None]:
    """Run ``function(*args)`` on this process's archive writer thread (created in the
    process that uses it: a Celery child forks without its parent's threads), in the
    caller's context (its log fields)."""
    global _WRITERS
    if _WRITERS is None or _WRITERS[0] != os.getpid():
        _WRITERS = (os.getpid(), ThreadPoolExecutor(4, thread_name_prefix="archive"))
    return _WRITERS[1].submit(contextvars.copy_context().run, function, *args)


def _put_signed(
    archive: Archive,
    key: str,
    signed: Signed,
    unsigned: bytes,
    signer: Signer,
    metadata: Mapping[str, str],
) -> Signed:
    """Archive ``signed`` at ``key``, or, if an earlier attempt archived a signature of
    ours over the same ``unsigned`` bytes there, keep that one and say what it is."""
    try:
        archive.put(key=key, data=signed.pdf, content_type="application/pdf", metadata=metadata)
        return signed
    except ArchiveConflict:
        there = archive.get(key=key)
    earlier = signer.read(there) if there.startswith(unsigned) else None
    if earlier is None:
        raise RenderError(f"archive already holds different bytes at {key}")
    return earlier


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
    row.unsigned_sha256 = artefact.unsigned_sha256
    row.signed_by = artefact.signed.signer if artefact.signed else None
    row.signed_at = artefact.signed.signed_at if artefact.signed else None
    row.size = len(artefact.pdf)
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
