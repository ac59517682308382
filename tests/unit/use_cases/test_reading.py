"""The read side and previews: visibility per client, filters, the sha256 lookup, the
re-render check, draft PDFs and HTML."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from correspondence.errors import Conflict, Forbidden, InvalidPayload, NotFound
from correspondence.registry import documents
from correspondence.results import DocumentQuery
from correspondence.statuses import DocumentStatus
from tests.conftest import pdf_pages_text
from tests.unit.use_cases.conftest import World, invoice, letter


def test_a_client_reads_its_own_documents_and_a_reader_of_all_every_one(world: World) -> None:
    mine = world.client("documents:write", "documents:read")
    other = world.client("documents:write", "documents:read")
    doc = world.service.issue(letter("V-1"), client=mine).document
    assert world.service.get(doc.id, client=mine) == doc
    with pytest.raises(Forbidden):  # writing does not grant reading
        world.service.get(doc.id, client=world.client("previews"))
    with pytest.raises(NotFound):
        world.service.get(doc.id, client=other)
    assert world.service.get(doc.id, client=world.client("documents:read:all")).id == doc.id
    with pytest.raises(NotFound):
        world.service.get("nobody", client=mine)


def test_the_pdf_is_the_archived_bytes(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("P-1"), client=client).document
    info, pdf = world.service.pdf(doc.id, client=client)
    assert info == doc and hashlib.sha256(pdf).hexdigest() == doc.sha256
    queued = world.service.issue(letter("P-2"), client=client, asynchronous=True).document
    with pytest.raises(Conflict, match="queued; it has no PDF yet"):
        world.service.pdf(queued.id, client=client)


def test_listing_filters_and_pages(world: World) -> None:
    client, other = world.client(), world.client("documents:write", "documents:read")
    letters = [world.service.issue(letter(f"L-{i}"), client=client).document for i in range(3)]
    world.clock.advance(1)
    bill = world.service.issue(invoice("L-inv"), client=client).document
    world.service.issue(letter("L-other"), client=other)
    everything = world.service.list(DocumentQuery(), client=client)
    assert (
        everything.total == 5 and everything.items[0].created_at >= everything.items[-1].created_at
    )
    own = world.service.list(DocumentQuery(), client=other)
    assert own.total == 1 and own.items[0].business_reference == "L-other"
    kind = world.service.list(DocumentQuery(kind="premium_invoice"), client=client)
    assert [d.id for d in kind.items] == [bill.id]
    name = bill.policyholder_name[:5].upper()
    assert bill.id in {d.id for d in world.service.list(
        DocumentQuery(policyholder=name), client=client).items}  # fmt: skip
    page = world.service.list(DocumentQuery(kind="collection_update", limit=2, offset=0),
                              client=client)  # fmt: skip
    assert page.total == 4 and len(page.items) == 2
    day = letters[0].issue_date
    dated = world.service.list(
        DocumentQuery(issued_from=day, issued_to=day, status=DocumentStatus.ISSUED),
        client=client,
    )
    assert {d.issue_date for d in dated.items} == {day} and dated.total >= 3
    after = world.service.list(DocumentQuery(issued_from=day + timedelta(days=1)), client=client)
    assert all(d.issue_date > day for d in after.items)


def test_verify_finds_an_issued_document_by_its_bytes(world: World) -> None:
    client = world.client()
    doc = world.service.issue(letter("H-1"), client=client).document
    assert doc.sha256 is not None
    assert world.service.verify(doc.sha256.upper(), client=client) == doc
    assert world.service.verify("0" * 64, client=client) is None
    assert world.service.verify(doc.sha256, client=world.client("documents:read")) is None


def test_the_reissue_check_renders_the_stored_payload_again(world: World) -> None:
    doc = world.service.issue(letter("C-1"), client=world.client()).document
    report = world.service.reissue_check(doc.id)
    assert report.identical and report.rendered_sha256 == doc.sha256
    assert report.current_template_hash == doc.template_hash
    queued = world.service.issue(letter("C-2"), client=world.client(), asynchronous=True)
    with pytest.raises(Conflict, match="never rendered"):
        world.service.reissue_check(queued.document.id)
    with pytest.raises(NotFound):
        world.service.reissue_check("nobody")


def test_previews_are_drafts_in_the_asked_locale(world: World) -> None:
    client = world.client("previews")
    pdf = world.service.preview(letter(), client=client, locale=None, html=False)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    assert pdf_pages_text(pdf)
    html = world.service.preview(letter(), client=client, locale="en-US", html=True)
    assert isinstance(html, str) and 'lang="en-US"' in html and "<style" in html
    linked = world.service.preview(
        letter(), client=client, locale=None, html=True, asset_base="/assets/"
    )
    assert isinstance(linked, str) and "/assets/" in linked
    with pytest.raises(InvalidPayload, match="not a locale we write in"):
        world.service.preview(letter(), client=client, locale="fr-FR", html=True)
    with pytest.raises(Forbidden):
        world.service.preview(letter(), client=world.client("documents:read"), locale=None,
                              html=True)  # fmt: skip


def test_a_document_row_reads_back_as_its_info(world: World) -> None:
    doc = world.service.issue(letter("I-1"), client=world.client()).document
    with world.service.registry.transaction() as tx:
        assert documents.info(documents.get_one(tx, doc.id)) == doc
        assert documents.count_waiting(tx) == 0
