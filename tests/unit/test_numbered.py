"""``kinds.numbered``: a validated document given its allocated number is what validating
the numbered payload gives, model, stored JSON, figures and PDF alike (the issuer
numbers a document this way, validating its payload once instead of twice). A Mexican
invoice is not among them: it carries its stamped CFDI's number, never allocated."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from correspondence.engine import Engine
from correspondence.errors import InvalidPayload
from correspondence.kinds import KINDS, numbered, validate
from tests.conftest import es_invoice, flat, load_sample, pdf_pages_text
from tests.unit.test_domain_rules import _credit_note
from tests.unit.use_cases.conftest import invoice

DUMP: dict[str, Any] = {"indent": 2, "exclude_unset": True, "by_alias": True}
"""How the archive and the PDF's attachment write a document's JSON."""


def _es_credit_note() -> dict[str, Any]:
    return _credit_note(invoice(), "R")


def _pack() -> dict[str, Any]:
    payload = copy.deepcopy(load_sample("01_renewal_pack_es-ES.json"))
    del payload["premium_invoice"]["invoice"]["number"]
    return payload


UNNUMBERED: dict[str, Callable[[], dict[str, Any]]] = {
    "es invoice": invoice,
    "es credit note, rectifying series": _es_credit_note,
    "renewal pack": _pack,
}


@pytest.mark.parametrize("name", sorted(UNNUMBERED))
def test_numbered_is_the_numbered_payload_validated(name: str) -> None:
    payload = UNNUMBERED[name]()
    before = validate(payload)
    kind = before.kind
    request = kind.numbering(before.doc)
    assert request is not None and request.stated is None
    number = request.format(417)

    ours = numbered(before, number)
    theirs = validate(kind.with_number(payload, number))

    assert ours.kind is theirs.kind
    assert ours.doc == theirs.doc
    assert kind.numbering(ours.doc) == kind.numbering(theirs.doc)
    assert kind.numbering(ours.doc).stated == number  # type: ignore[union-attr]
    # what the archive keeps beside the PDF, and what the PDF embeds
    assert ours.doc.model_dump_json(**DUMP) == theirs.doc.model_dump_json(**DUMP)
    assert ours.figures == theirs.figures
    assert before.doc.model_dump_json(**DUMP) != ours.doc.model_dump_json(**DUMP)


@pytest.mark.parametrize("name", ["es invoice", "renewal pack"])
def test_numbered_renders_the_same_bytes(engine: Engine, name: str) -> None:
    payload = UNNUMBERED[name]()
    before = validate(payload)
    number = before.kind.numbering(before.doc).format(9)
    ours = engine.render(numbered(before, number)).pdf
    theirs = engine.render(validate(before.kind.with_number(payload, number))).pdf
    assert ours == theirs
    assert number in flat(" ".join(pdf_pages_text(ours)))


@pytest.mark.parametrize("name", ["es invoice", "renewal pack"])
def test_numbered_checks_the_number_as_validating_does(name: str) -> None:
    """The figures are derived again: a number of another year is refused by both, at
    the same fields (the pack's under its invoice section)."""
    payload = UNNUMBERED[name]()
    before = validate(payload)
    request = before.kind.numbering(before.doc)
    wrong = f"{request.series}-{request.year + 1:04d}-000001"
    with pytest.raises(InvalidPayload) as by_validate:
        validate(before.kind.with_number(payload, wrong))
    with pytest.raises(InvalidPayload) as by_numbered:
        numbered(before, wrong)
    fields = [p.field for p in by_numbered.value.problems]
    assert fields == [p.field for p in by_validate.value.problems]
    assert request.field in fields


def test_a_stated_number_leaves_the_document_as_validated() -> None:
    """A payload that states its number (as a stamped CFDI does) is given that number."""
    payload = es_invoice()
    before = validate(payload)
    stated = before.kind.numbering(before.doc).stated
    assert stated
    ours = numbered(before, stated)
    assert ours.doc == before.doc and ours.figures == before.figures
    assert ours.doc.model_dump_json(**DUMP) == before.doc.model_dump_json(**DUMP)


def test_a_kind_numbered_in_the_payload_only_is_refused() -> None:
    """A kind that gives a number to the payload must give it to the model too, or the
    registry would store a number the PDF does not print."""
    invoice = KINDS["premium_invoice"]
    with pytest.raises(TypeError, match="number_doc"):
        dataclasses.replace(invoice, number_doc=KINDS["claim_decision"].number_doc)


def test_unnumbered_kinds_keep_their_document() -> None:
    for name in sorted(KINDS):
        validated = validate(KINDS[name].sample())
        if validated.kind.numbering(validated.doc) is None:
            assert numbered(validated, "X-2026-000001").doc is validated.doc
