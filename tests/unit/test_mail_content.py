"""The stored words of an email and the message built from them at send time: the link
and its expiry are the only things added then, escaped where the HTML needs it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from correspondence.config import Settings
from correspondence.deliveries.content import MailContents
from correspondence.kinds import KINDS, validate
from correspondence.mail.compose import EXPIRES, LINK, Envelope, MailContent, compose_stored

ENVELOPE = Envelope("a@b.example", ("c@d.example",), (), "<m@b.example>", datetime.now(UTC))


@pytest.fixture(scope="module")
def mail() -> MailContents:
    return MailContents(Settings().templates_dir)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_stored_content_round_trips_and_holds_no_placeholder_unfilled(
    mail: MailContents, name: str
) -> None:
    validated = validate(KINDS[name].sample())
    locale = validated.doc.document.locale
    stored = mail.content(validated, locale)
    content = MailContent.from_json(stored)
    assert content.to_json() == stored and content.locale == locale
    link = "https://docs.example/files/t.1?dl=1&x=<2>"
    message = compose_stored(content, ENVELOPE, pdf=None, link=link, expires=date(2027, 3, 31))
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    text, markup = plain.get_content(), html.get_content()
    assert link in text and "dl=1&amp;x=&lt;2&gt;" in markup and "<2>" not in markup
    assert "2027" in text and "2027" in markup
    for body in (text, markup):
        assert LINK not in body and EXPIRES not in body and "\x01" not in body
    attached = compose_stored(content, ENVELOPE, pdf=b"%PDF-1.7")
    assert [p.get_filename() for p in attached.iter_attachments()] == [content.filename]
    assert "https://" not in (attached.get_body(("plain",)) or attached).get_content()


def test_a_link_without_its_expiry_is_refused(mail: MailContents) -> None:
    content = MailContent.from_json(
        mail.content(validate(KINDS["claim_decision"].sample()), "es-MX")
    )
    with pytest.raises(ValueError, match="until when"):
        compose_stored(content, ENVELOPE, pdf=None, link="https://x.example/")
