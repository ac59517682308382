"""Email deliveries: recorded with the request, sent by the sender loop once the document
is issued, every attempt kept, refusals per recipient, links for large PDFs."""

from __future__ import annotations

import re
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest

from correspondence.config import Settings
from correspondence.errors import Forbidden, InvalidPayload, NotFound
from correspondence.mail import PermanentFailure, TemporaryFailure
from correspondence.mail.compose import MailContent
from correspondence.registry import deliveries, documents
from correspondence.renderers import EnginePool
from correspondence.statuses import DeliveryStatus
from tests.unit.use_cases.conftest import World, build_world, invoice, letter

TO = {"email": {"to": ["Ana@Example.com"], "cc": ["cc@example.com"]}}


def test_a_delivery_asked_with_the_document_is_sent_once_it_is_issued(world: World) -> None:
    client = world.client()
    doc = world.service.issue({**letter("D-1"), "deliver": TO}, client=client,
                              asynchronous=True).document  # fmt: skip
    assert world.service.outbox.send_due() == 0  # not issued yet: nothing to send
    assert world.service.work_once() == 2  # the document, then its email
    (message, accepted), = world.mailer.sent  # fmt: skip
    assert accepted == ("Ana@example.com", "cc@example.com")
    assert message["To"] == "Ana@example.com" and message["Cc"] == "cc@example.com"
    assert message["Subject"]
    assert message.get_content_type() == "multipart/mixed"
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.SENT and delivery.sent_at is not None
    assert [a.outcome for a in delivery.attempts] == ["sent"]
    assert delivery.message_id == message["Message-ID"]


def test_deliver_is_idempotent_per_key_and_checks_its_recipients(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("D-2"), client=client).document
    first, created = world.service.deliver(doc.id, TO, client=client, idempotency_key="d")
    again, created_again = world.service.deliver(doc.id, TO, client=client, idempotency_key="d")
    assert created and not created_again and again.id == first.id
    with pytest.raises(InvalidPayload) as refused:
        world.service.deliver(doc.id, {"email": {"to": ["not an address"], "bcc": []}},
                              client=client)  # fmt: skip
    assert {p.field for p in refused.value.problems} == {"email.to.0", "email"}
    with pytest.raises(InvalidPayload, match="at least one recipient"):
        world.service.deliver(doc.id, {"email": {"to": []}}, client=client)
    with pytest.raises(InvalidPayload, match="at most"):
        world.service.deliver(doc.id, {"email": {"to": [f"a{i}@example.com" for i in range(51)]}},
                              client=client)  # fmt: skip
    with pytest.raises(Forbidden):
        world.service.deliver(doc.id, TO, client=world.client("documents:read"))
    with pytest.raises(NotFound):
        world.service.deliver(doc.id, TO, client=world.client("deliveries:write"))


def test_refusals_are_kept_per_recipient(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("D-3"), client=client).document
    world.mailer.refuse = {"cc@example.com": "450 mailbox busy"}
    world.service.deliver(doc.id, TO, client=client)
    world.service.work_once()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts[0].outcome == "partially_sent"
    world.mailer.refuse = {"cc@example.com": "550 no such user"}
    world.clock.advance(world.service.settings.retry_delay(1) + 1)
    world.service.work_once()
    assert [a for _, a in world.mailer.sent] == [("Ana@example.com",)]  # never twice
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.FAILED
    assert "cc@example.com refused: 550 no such user" in (delivery.last_error or "")


def test_a_temporary_failure_is_retried_until_the_last_attempt(
    tmp_path: Path, pool: EnginePool
) -> None:
    world = build_world(tmp_path, pool, mail_max_attempts=2)
    client = world.client()
    doc = world.service.issue({**letter("D-4"), "deliver": TO}, client=client).document
    world.mailer.fail = TemporaryFailure("down", "421 try later")
    world.service.work_once()
    world.clock.advance(world.service.settings.retry_delay(1) + 1)
    world.service.work_once()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "gave up after 2 attempts: 421 try later"


def test_a_permanent_failure_stops_at_once(world: World) -> None:
    client = world.client()
    doc = world.service.issue({**letter("D-5"), "deliver": TO}, client=client).document
    world.mailer.fail = PermanentFailure("no", "554 rejected")
    world.service.work_once()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "554 rejected"


def test_a_message_that_cannot_be_built_fails_for_good(world: World) -> None:
    client = world.client()
    doc = world.service.issue({**letter("D-6"), "deliver": TO}, client=client).document
    with world.service.registry.transaction() as tx:
        documents.get_one(tx, doc.id).payload = {"document": {"type": "nothing"}}
        (row,) = deliveries.of_document(tx, doc.id)
        row.content = None  # recorded before its words were stored: read from the payload
    world.service.work_once()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.FAILED
    assert (delivery.last_error or "").startswith("the message cannot be built")


def test_an_archive_outage_postpones_the_email(world: World) -> None:
    client = world.client()
    doc = world.service.issue({**letter("D-7"), "deliver": TO}, client=client).document
    world.archive.down = True
    world.service.outbox.send_due()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts[0].outcome == "temporary_failure"


def test_a_large_pdf_goes_as_a_link_from_the_url_template(tmp_path: Path, pool: EnginePool) -> None:
    world = build_world(
        tmp_path,
        pool,
        mail_max_attachment_bytes=1,
        public_base_url="https://docs.example/",
        download_url_template="{base}/files/{token}?dl=1",
    )
    client = world.client()
    doc = world.service.issue({**letter("D-8"), "deliver": TO}, client=client).document
    world.service.work_once()
    ((message, _),) = world.mailer.sent
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"https://docs\.example/files/([^\s?]+)\?dl=1", text)
    assert found is not None, text
    token = found.group(1)
    info, pdf = world.service.download(token)
    assert info.id == doc.id and pdf == world.archive.get(key=info.archive_key or "")
    assert not any(part.get_filename() for part in message.iter_attachments())
    world.clock.advance(world.service.settings.download_link_ttl_seconds + 1)
    with pytest.raises(Forbidden):
        world.service.download(token)


def test_the_default_download_link_is_the_api_route(world: World) -> None:
    assert (
        world.service.settings.download_url("t.1.x") == "http://127.0.0.1:8000/v1/downloads/t.1.x"
    )


def _bodies(message: EmailMessage) -> tuple[str, str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return str(message["Subject"]), plain.get_content(), html.get_content()


def test_the_words_of_an_email_are_stored_when_its_document_is_issued(world: World) -> None:
    """Asked for with the request, before the invoice has its number: its words are
    written when it is issued, and the sender no longer reads the payload."""
    client = world.client()
    doc = world.service.issue({**invoice("D-9"), "deliver": TO}, client=client,
                              asynchronous=True).document  # fmt: skip
    with world.service.registry.transaction() as tx:
        assert [d.content for d in deliveries.of_document(tx, doc.id)] == [None]
    world.service.issuer.work_due(1)
    with world.service.registry.transaction() as tx:
        row = documents.get_one(tx, doc.id)
        (delivery,) = deliveries.of_document(tx, doc.id)
        content = MailContent.from_json(delivery.content or {})
        number, locale = row.number, row.locale
        row.payload = {"document": {"type": "nothing"}}  # never read again to send
    assert number and number in content.subject and number in content.filename
    assert content.locale == locale and content.tz.startswith(("Europe/", "America/"))
    world.service.outbox.send_due()
    ((message, _),) = world.mailer.sent
    assert _bodies(message)[0] == content.subject
    assert [part.get_filename() for part in message.iter_attachments()] == [content.filename]


def test_a_delivery_of_an_issued_document_gets_its_words_when_asked(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("D-10"), client=client).document
    info, _ = world.service.deliver(doc.id, TO, client=client)
    with world.service.registry.transaction() as tx:
        content = deliveries.get_one(tx, info.id).content
        documents.get_one(tx, doc.id).payload = {"document": {"type": "nothing"}}
    assert content is not None and content["locale"] == "en-GB"
    world.service.outbox.send_due()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.SENT


def test_a_delivery_recorded_without_its_words_is_written_once_from_the_payload(
    world: World,
) -> None:
    """Deliveries recorded before the words were stored (migration 0007) are not lost:
    the sender renders them once from the payload, stores them, and sends the same
    message as a delivery that had them."""
    client = world.client()
    doc = world.service.issue(letter("D-11"), client=client).document
    stored_first, _ = world.service.deliver(doc.id, TO, client=client)
    old, _ = world.service.deliver(doc.id, TO, client=client)
    with world.service.registry.transaction() as tx:
        kept = deliveries.get_one(tx, stored_first.id).content
        deliveries.get_one(tx, old.id).content = None
    world.service.outbox.send_due()
    (first, _), (second, _) = world.mailer.sent
    assert _bodies(first) == _bodies(second)
    with world.service.registry.transaction() as tx:
        assert deliveries.get_one(tx, old.id).content == kept
    assert {d.status for d in world.service.deliveries(doc.id, client=client)} == {
        DeliveryStatus.SENT
    }


def test_an_email_that_cannot_be_written_never_stops_the_issue(
    tmp_path: Path, pool: EnginePool
) -> None:
    """Its words fail at issue time (the email template names a field no document has):
    the document is issued all the same, and the delivery fails at send time with the
    reason."""
    templates = tmp_path / "templates"
    shutil.copytree(Settings().templates_dir, templates)
    body = templates / "shared" / "email" / "body.txt"
    body.write_text("{{ no_words_here }}\n" + body.read_text(encoding="utf-8"), encoding="utf-8")
    world = build_world(tmp_path, pool, templates_dir=templates)
    try:
        client = world.client()
        doc = world.service.issue({**letter("D-12"), "deliver": TO}, client=client).document
        assert doc.status == "issued"
        world.service.deliver(doc.id, TO, client=client)
        world.service.outbox.send_due()
        deliveries_ = world.service.deliveries(doc.id, client=client)
        assert [d.status for d in deliveries_] == [DeliveryStatus.FAILED] * 2
        assert all("no_words_here" in (d.last_error or "") for d in deliveries_)
        assert world.mailer.sent == []
    finally:
        world.service.close()
        world.service.database.dispose()
