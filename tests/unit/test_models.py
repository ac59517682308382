"""Text in a payload: what a letter cannot print is refused with the field's name, and
whatever is accepted keeps the document well-formed XML (what the renderer parses)."""

from __future__ import annotations

import copy
from typing import Any
from xml.etree import ElementTree

import pytest
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st

from correspondence import glyphs
from correspondence.bounds import _LINE_BREAKS
from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.errors import InvalidPayload
from correspondence.free_text import _FIGURES, _UNPRINTABLE, drawable
from correspondence.glyphs import FAMILIES, FONTS_DIR
from correspondence.kinds import KINDS, validate

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
    payload["lines"][0]["description"] = "Prima\tdepósito\r\nvigencia 2027"
    assert validate(payload).doc.lines[0].description == "Prima\tdepósito\r\nvigencia 2027"


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\u2028", "\u2029"])
def test_names_are_single_line(brk: str) -> None:
    """A name may become an email header (Reply-To, From): a line break is refused."""
    payload = copy.deepcopy(SAMPLE)
    payload["policyholder"]["legal_name"] = f"ACME{brk}S.A."
    payload["account_executive"]["name"] = f"Ana{brk}López"
    found = problems(payload)
    assert found["policyholder.legal_name"] == "must be on one line: it contains a line break"
    assert found["account_executive.name"] == "must be on one line: it contains a line break"


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("𐀀𐀁𐀂𐀃𐀄𐀅 ACME", "U+10000, U+10001, U+10002, U+10003, U+10004 and 1 more"),  # Linear B
        ("ACME 🚀 S.A.", "U+1F680"),
        ("株式会社 ꀀ", "U+A000"),  # Yi: the CJK names draw, the Yi syllable does not
    ],
)
def test_a_character_the_fonts_cannot_draw_is_refused_naming_the_field(
    text: str, codes: str
) -> None:
    """Linear B, emoji, Yi: no packaged face draws them, so the document could not show them."""
    payload = copy.deepcopy(SAMPLE)
    payload["policyholder"]["legal_name"] = text
    found = problems(payload)
    assert found["policyholder.legal_name"].startswith(
        f"contains characters the documents' fonts cannot draw: {codes}"
    )


def test_the_fonts_draw_spanish_and_english_text() -> None:
    assert set("ÁÉÍÓÚÜÑáéíóúüñ¿¡ªº€£$%&@«»“”‘’–—…·") <= drawable()


def test_the_fonts_draw_greek_cyrillic_and_cjk_names() -> None:
    assert set("Ωμέγα Αθήνα Жуков Москва 北京贸易有限公司 株式会社アクメ 삼성물산") <= drawable()


@pytest.mark.parametrize("face", [face for faces in FAMILIES.values() for face in faces])
def test_harfbuzz_reads_the_same_character_map_as_fonttools(face: str) -> None:
    """glyphs reads each cmap with HarfBuzz, for speed; fontTools' best cmap, read
    independently, must hold exactly the same characters."""
    with TTFont(FONTS_DIR / face, lazy=True) as font:
        expected = set(font.getBestCmap())
    assert len(expected) > 2000
    assert glyphs._cmap(face) == expected


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
        assert (
            _UNPRINTABLE.search(text)
            or not text.strip()
            or _LINE_BREAKS.search(text)  # the legal name is one line
            or set(text) - drawable()  # the packaged fonts lack a glyph
            or any(p.search(text) for _, p in _FIGURES)  # free text states no amount or date
        ), refused.problems
        return
    root = ElementTree.fromstring(_ENGINE.html(validated, link_css=False))
    assert text.strip() in "".join(root.itertext())


@pytest.mark.parametrize("written", ["-0", "0", "20270131", "1700000000"])
def test_a_date_not_written_yyyy_mm_dd_is_refused_naming_the_field(written: str) -> None:
    """pydantic alone reads "-0" as a Unix time, 1 January 1970, and the legal table
    has no rule for that date (hypothesis found it: a 500). Dates are ISO 8601 days."""
    payload = copy.deepcopy(SAMPLE)
    payload["document"]["issue_date"] = written
    assert "YYYY-MM-DD" in problems(payload)["document.issue_date"]


def test_every_kind_travels_to_a_render_worker() -> None:
    """A kind goes to the render worker processes by pickle: every function it holds is a
    module-level function (a lambda once made every claim decision fail to render)."""
    import pickle

    from correspondence.kinds import KINDS

    for name, kind in KINDS.items():
        assert pickle.loads(pickle.dumps(kind)).name == name
