"""Email deliveries: recorded with the request, sent by the sender loop once the document
is issued, every attempt kept, refusals per recipient, links for large PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from correspondence.errors import Forbidden, InvalidPayload, NotFound
from correspondence.mail import PermanentFailure, TemporaryFailure
from correspondence.registry import documents
from correspondence.renderers import EnginePool
from correspondence.statuses import DeliveryStatus
from tests.unit.use_cases.conftest import World, build_world, letter

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
