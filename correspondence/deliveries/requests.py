"""The delivery use cases: ask for an email delivery of a document, read its deliveries,
and fetch a PDF through a signed download link.

A delivery of an issued document gets its email's words here, from the payload validated
once; one asked for earlier gets them when its document is issued (``issuing``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from correspondence import links
from correspondence.archive import Archive
from correspondence.config import Settings
from correspondence.deliveries.content import MailContents
from correspondence.deliveries.recipients import enqueue, parse_recipients
from correspondence.errors import NotFound
from correspondence.registry import deliveries, documents
from correspondence.registry.store import Registry, leave_work
from correspondence.results import Client, DeliveryInfo, DocumentInfo
from correspondence.statuses import DocumentStatus


class DeliveryRequests:
    """Deliveries asked for by clients, and downloads."""

    def __init__(
        self,
        *,
        settings: Settings,
        registry: Registry,
        archive: Archive,
        secret: bytes,
        clock: Callable[[], datetime],
        mail: MailContents,
    ) -> None:
        self.settings = settings
        self.mail = mail
        self.registry = registry
        self.archive = archive
        self.secret = secret
        self.clock = clock

    def deliver(
        self,
        document_id: str,
        body: Mapping[str, Any],
        *,
        client: Client,
        idempotency_key: str | None = None,
    ) -> tuple[DeliveryInfo, bool]:
        """Queue an email delivery of a document; ``True`` if this request created it."""
        client.require("deliveries:write")
        limit = self.settings.max_recipients_per_delivery
        recipients = parse_recipients(body, at="", limit=limit)
        with self.registry.transaction() as tx:
            document = documents.visible(tx, document_id, client)
            if idempotency_key is not None:
                existing = deliveries.find(tx, document_id, idempotency_key)
                if existing is not None:
                    return deliveries.info(tx, existing), False
            row = enqueue(
                tx,
                document_id,
                recipients,
                mail_from=self.settings.mail_from,
                now=self.clock(),
                key=idempotency_key,
            )
            if document.status == DocumentStatus.ISSUED:  # else its issue writes the email
                row.content = self.mail.ahead(document.payload, document.locale)
                leave_work(tx)  # an email for the sender loop, now
            info = deliveries.info(tx, row)
        return info, True

    def deliveries(self, document_id: str, *, client: Client) -> tuple[DeliveryInfo, ...]:
        """Every delivery of a document, with each attempt."""
        client.require("documents:read")
        with self.registry.transaction() as tx:
            documents.visible(tx, document_id, client)
            rows = deliveries.of_document(tx, document_id)
            return tuple(deliveries.info(tx, r) for r in rows)

    def download(self, token: str) -> tuple[DocumentInfo, bytes]:
        """The archived PDF a signed, unexpired link grants (no API key needed)."""
        document_id = links.verify(self.secret, token, self.clock())
        with self.registry.transaction() as tx:
            row = documents.get(tx, document_id)
            if row is None or row.archive_key is None:
                raise NotFound("the document behind this link is gone")
            info = documents.info(row)
        assert info.archive_key is not None
        return info, self.archive.get(key=info.archive_key)
