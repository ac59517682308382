"""Text in a payload: what a letter cannot print is refused with the field's name, and
whatever is accepted keeps the document well-formed XML (what the renderer parses)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.errors import InvalidPayload
from correspondence.kinds import KINDS, validate
from correspondence.models import _UNPRINTABLE
from correspondence.pdf import parse_xml

SAMPLE = KINDS["premium_invoice"].sample()


def problems(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        validate(payload)
    return {p.field: p.message for p in caught.value.problems}


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\ufffe"])
def test_an_unprintable_character_is_refused_with_its_field_and_position(char: str) -> None:
    payload = copy.deepcopy(SAMPLE)
    payload["policyholder"]["legal_name"] = f"ACME{char} S.A."
    payload["lines"][1]["description"] = f"Pri{char}ma"
    found = problems(payload)
    code = f"U+{ord(char):04X}"
    assert found["policyholder.legal_name"] == f"contains the unprintable character {code} at 4"
    assert found["lines.1.description"] == f"contains the unprintable character {code} at 3"


def test_tabs_and_line_breaks_inside_text_are_accepted() -> None:
    payload = copy.deepcopy(SAMPLE)
    payload["policyholder"]["legal_name"] = "ACME\tS.A.\r\nde C.V."
    assert validate(payload).doc.policyholder.legal_name == "ACME\tS.A.\r\nde C.V."


_ENGINE = Engine(Settings())


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_accepted_text_leaves_the_document_well_formed(text: str) -> None:
    """Markup characters, quotes, ampersands, any script: escaped by the templates."""
    payload = copy.deepcopy(SAMPLE)
    payload["policyholder"]["legal_name"] = text
    payload["lines"][0]["description"] = text
    try:
        validated = _ENGINE.validate(payload)
    except InvalidPayload as refused:
        assert _UNPRINTABLE.search(text) or not text.strip(), refused.problems
        return
    root = parse_xml(_ENGINE.html(validated, link_css=False))
    assert text.strip() in "".join(root.itertext())
