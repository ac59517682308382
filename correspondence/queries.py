"""The read side: one document, its PDF, a listing, a lookup by the PDF's sha256, and the
re-render check that proves an archived document can be reproduced."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from correspondence.archive import Archive
from correspondence.errors import Conflict, NotFound
from correspondence.kinds import validate
from correspondence.metrics import Snapshot
from correspondence.registry import documents, snapshot
from correspondence.registry.store import Registry
from correspondence.renderers import Renderers
from correspondence.results import Client, DocumentInfo, DocumentPage, DocumentQuery, ReissueReport
from correspondence.statuses import DocumentStatus


class Queries:
    """Reads documents; never writes."""

    def __init__(self, *, registry: Registry, archive: Archive, renderers: Renderers) -> None:
        self.registry = registry
        self.archive = archive
        self.renderers = renderers

    def metrics_snapshot(self, now: datetime) -> Snapshot:
        """Documents by kind and status, deliveries by status, the queue (for /metrics)."""
        with self.registry.transaction() as tx:
            return snapshot.snapshot(tx, now)

    def get(self, document_id: str, *, client: Client) -> DocumentInfo:
        """One document's metadata."""
        client.require("documents:read")
        with self.registry.transaction() as tx:
            return documents.info(documents.visible(tx, document_id, client))

    def pdf(self, document_id: str, *, client: Client) -> tuple[DocumentInfo, bytes]:
        """The archived bytes, never re-rendered."""
        info = self.get(document_id, client=client)
        if info.status != DocumentStatus.ISSUED or info.archive_key is None:
            raise Conflict(f"document {document_id} is {info.status}; it has no PDF yet")
        return info, self.archive.get(key=info.archive_key)

    def list(self, query: DocumentQuery, *, client: Client) -> DocumentPage:
        """Documents matching ``query``, newest first."""
        client.require("documents:read")
        with self.registry.transaction() as tx:
            total, rows = documents.page(tx, query, client.owner)
            items = tuple(documents.info(r) for r in rows)
        return DocumentPage(items, total, query.limit, query.offset)

    def verify(self, sha256: str, *, client: Client) -> DocumentInfo | None:
        """The issued document whose PDF has this sha256, if we issued one."""
        client.require("documents:read")
        with self.registry.transaction() as tx:
            row = documents.by_sha256(tx, sha256, client.owner)
            return documents.info(row) if row is not None else None

    def payload(self, document_id: str) -> dict[str, Any]:
        """The payload a document was issued from: a replayed request is compared with it."""
        with self.registry.transaction() as tx:
            return dict(documents.get_one(tx, document_id).payload)

    def reissue_check(self, document_id: str) -> ReissueReport:
        """Re-render a stored document from its stored payload and compare the bytes."""
        with self.registry.transaction() as tx:
            row = documents.get(tx, document_id)
            if row is None:
                raise NotFound(f"no document {document_id}")
            if row.sha256 is None:
                raise Conflict(f"document {document_id} was never rendered")
            # A signed PDF is compared as it was rendered, before its signature.
            stored_sha = row.unsigned_sha256 or row.sha256
            stored_hash, payload = row.template_hash, row.payload
        result = self.renderers.render(validate(payload))
        sha = hashlib.sha256(result.document.pdf).hexdigest()
        return ReissueReport(
            document_id, sha == stored_sha, stored_sha, sha, stored_hash, result.template_hash
        )
