"""Build the email that carries a document: localized subject, text and HTML bodies, the
account executive as signature and Reply-To, and the PDF attached (or a signed link).

The words of a message are known once the document is numbered; only the download link
and its expiry are known at send time. :func:`content_of` renders everything else once
(:class:`MailContent`, stored with the delivery) and :func:`compose_stored` builds the
message from it, so that the sender needs neither the payload nor a template engine."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from jinja2 import Environment
from markupsafe import escape

from correspondence.formatting import formatter
from correspondence.kinds import Invoiced, Validated
from correspondence.templating import words


@dataclass(frozen=True)
class Envelope:
    """Who the message goes to and how it is identified."""

    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    message_id: str
    date: datetime


LINK = "\x01link\x01"
EXPIRES = "\x01expires\x01"
"""Where the download link and its expiry go in the bodies of a linked message: control
characters, which no accepted payload holds (they are refused) and no template writes."""


@dataclass(frozen=True)
class MailContent:
    """Everything a message says except its link: rendered from the validated document in
    the reader's locale, and stored as JSON with the delivery."""

    locale: str
    tz: str
    subject: str
    from_name: str
    reply_to_name: str
    reply_to_email: str
    filename: str
    text: str
    html: str
    linked_text: str
    linked_html: str

    def to_json(self) -> dict[str, str]:
        """The stored form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MailContent:
        """Read the stored form back."""
        return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__})


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def attachment_name(env: Environment, validated: Validated, locale: str) -> str:
    """``factura-PRI-2026-001874.pdf``: the kind in the reader's language (a premium
    invoice named by the policy's jurisdiction: factura, recibo) and the reference."""
    doc = validated.doc
    names = words(env, locale, doc.document.jurisdiction).filename
    number = doc.invoice.number if isinstance(doc, Invoiced) else None
    reference = number or doc.document.our_reference
    return f"{names[validated.kind.name]}-{_SAFE.sub('-', reference).strip('-')}.pdf"


def content_of(env: Environment, context: dict[str, Any], filename: str) -> MailContent:
    """Render the subject and both bodies (attached, and linked with placeholders) from a
    document's template context (``engine.context`` plus ``kind``)."""
    # One language-neutral message; its sentences come from the catalogs, the salutation
    # from templates/{lang}/_letter.html and the summary line from
    # templates/{lang}/email/_summary.txt.
    attached = {**context, "link": None, "link_expires": None}
    linked = {**context, "link": LINK, "link_expires": EXPIRES}
    subject = env.get_template("shared/email/subject.txt").render(attached).strip()
    text, html = (
        env.get_template("shared/email/body.txt"),
        env.get_template("shared/email/body.html"),
    )
    doc = context["doc"]
    aex, insurer = doc.account_executive, doc.insurer
    return MailContent(
        locale=str(context["locale"]),
        tz=str(context["tz"]),
        subject=" ".join(subject.split()),
        from_name=insurer.trade_name or insurer.legal_name,
        reply_to_name=aex.name,
        reply_to_email=aex.email,
        filename=filename,
        text=text.render(attached),
        html=html.render(attached),
        linked_text=text.render(linked),
        linked_html=html.render(linked),
    )


def compose_stored(
    content: MailContent,
    envelope: Envelope,
    *,
    pdf: bytes | None,
    link: str | None = None,
    expires: date | None = None,
) -> EmailMessage:
    """The message: ``pdf`` attached, or else ``link`` (valid until ``expires``) in it."""
    text, html = content.text, content.html
    if link is not None:
        if expires is None:
            raise ValueError("a link says until when it works")
        until = formatter(content.locale, content.tz).date_long(expires)
        text = content.linked_text.replace(LINK, link).replace(EXPIRES, until)
        html = content.linked_html.replace(LINK, str(escape(link)))
        html = html.replace(EXPIRES, str(escape(until)))
    message = EmailMessage()
    message["From"] = formataddr((content.from_name, envelope.sender))
    message["To"] = ", ".join(envelope.to)
    if envelope.cc:
        message["Cc"] = ", ".join(envelope.cc)
    message["Reply-To"] = formataddr((content.reply_to_name, content.reply_to_email))
    message["Subject"] = content.subject
    message["Message-ID"] = envelope.message_id
    message["Date"] = format_datetime(envelope.date)
    message["Content-Language"] = content.locale
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=content.filename
        )
    return message


def compose(
    env: Environment,
    context: dict[str, Any],
    envelope: Envelope,
    *,
    pdf: bytes | None,
    filename: str,
) -> EmailMessage:
    """The message from a template context in one step; ``pdf`` is attached when given
    (else the context carries ``link`` and ``link_expires``)."""
    content = content_of(env, context, filename)
    link = context.get("link")
    return compose_stored(
        content, envelope, pdf=pdf, link=link, expires=context.get("link_expires") if link else None
    )
