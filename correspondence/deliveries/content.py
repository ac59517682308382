"""What an email says, rendered once from the validated document and stored with each
delivery: when a delivery is asked for of an issued document, or when the document it
was asked for with is issued. The sender then adds only the link and its expiry."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment

from correspondence.engine import document_context
from correspondence.kinds import Validated, validate
from correspondence.mail.compose import MailContent, attachment_name, content_of
from correspondence.registry import deliveries
from correspondence.registry.store import Tx, leave_work
from correspondence.templating import build_environment


class MailContents:
    """Renders the stored content of emails (its own Jinja environment: no render engine
    is leased, and no PDF renderer is built, to write an email)."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir

    @cached_property
    def env(self) -> Environment:
        """Built on first use: most processes never write an email."""
        return build_environment(self.templates_dir)

    def content(self, validated: Validated, locale: str) -> dict[str, Any]:
        """The stored form of the email of ``validated`` read in ``locale``."""
        context = {**document_context(validated, locale), "kind": validated.kind.name}
        filename = attachment_name(self.env, validated, locale)
        return content_of(self.env, context, filename).to_json()

    def from_payload(self, payload: object, locale: str) -> dict[str, Any]:
        """The same from a stored payload, validated once (deliveries recorded before
        their content was stored)."""
        return self.content(validate(payload), locale)

    def ahead(self, payload: object, locale: str) -> dict[str, Any] | None:
        """:meth:`from_payload`, or ``None`` if the email cannot be written: the sender
        then tries once more and records why it cannot, as a failed delivery, rather
        than refuse the request or the issue that got here first."""
        try:
            return self.from_payload(payload, locale)
        except Exception:  # recorded by the sender, with its reason
            return None

    def fill(self, tx: Tx, document_id: str, validated: Validated, locale: str) -> None:
        """Store the content on the document's deliveries that have none yet (those asked
        for with the request, before the document had its number), which then wakes the
        sender. An email that cannot be written never stops the document being recorded
        as issued."""
        waiting = deliveries.without_content(tx, document_id)
        if not waiting:
            return
        try:
            content = self.content(validated, locale)
        except Exception:  # the sender records why, on each delivery
            return
        for row in waiting:
            row.content = content
        leave_work(tx)  # for the sender loop


def stored(row_content: dict[str, Any]) -> MailContent:
    """A delivery's stored content, read back."""
    return MailContent.from_json(row_content)
