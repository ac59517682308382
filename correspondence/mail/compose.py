"""Build the email that carries a document: localized subject, text and HTML bodies, the
account executive as signature and Reply-To, and the PDF attached (or a signed link)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from jinja2 import Environment

from correspondence.kinds import Validated
from correspondence.templating import words


@dataclass(frozen=True)
class Envelope:
    """Who the message goes to and how it is identified."""

    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    message_id: str
    date: datetime


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def attachment_name(env: Environment, validated: Validated, locale: str) -> str:
    """``factura-PRI-2026-001874.pdf``: the kind in the reader's language and the reference."""
    names = words(env, locale).filename
    doc = validated.doc
    number = getattr(getattr(doc, "invoice", None), "number", None)
    reference = number or doc.document.our_reference
    return f"{names[validated.kind.name]}-{_SAFE.sub('-', reference).strip('-')}.pdf"


def compose(
    env: Environment,
    context: dict[str, object],
    envelope: Envelope,
    *,
    pdf: bytes | None,
    filename: str,
) -> EmailMessage:
    """The message; ``pdf`` is attached when given (else the context carries a link)."""
    # One language-neutral message; its sentences come from the catalogs, the salutation
    # from templates/{lang}/_letter.html and the summary line from
    # templates/{lang}/email/_summary.txt.
    subject = env.get_template("shared/email/subject.txt").render(context).strip()
    text = env.get_template("shared/email/body.txt").render(context)
    html = env.get_template("shared/email/body.html").render(context)
    doc = context["doc"]
    aex = doc.account_executive  # type: ignore[attr-defined]
    insurer = doc.insurer  # type: ignore[attr-defined]
    message = EmailMessage()
    message["From"] = formataddr((insurer.trade_name or insurer.legal_name, envelope.sender))
    message["To"] = ", ".join(envelope.to)
    if envelope.cc:
        message["Cc"] = ", ".join(envelope.cc)
    message["Reply-To"] = formataddr((aex.name, aex.email))
    message["Subject"] = " ".join(subject.split())
    message["Message-ID"] = envelope.message_id
    message["Date"] = format_datetime(envelope.date)
    message["Content-Language"] = str(context["locale"])
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return message
