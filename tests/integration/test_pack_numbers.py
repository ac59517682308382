"""A renewal pack's page numbers without a second layout (issue 26): every page is laid out
once, with the page count and the contents' page numbers as placeholders that are written
into the laid-out text (correspondence/pdf_numbers.py); a placeholder too narrow for its
number makes the pack laid out again with the numbers read, as text, and the bytes are
the same either way."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from correspondence.config import Settings
from correspondence.engine import Engine, issue_moment
from correspondence.kinds import KINDS
from correspondence.pdf_fast import page_layouts
from correspondence.pdf_numbers import NumbersDoNotFit, PageNumbers, page_label_ranges
from tests.conftest import in_language, load_sample


def starts(data: bytes) -> dict[str, int]:
    """The 1-based first page of each component, from the bookmarks."""
    reader = PdfReader(io.BytesIO(data))
    return {
        item.title: reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list)
    }


@pytest.mark.parametrize("locale", ["es-ES", "en-GB"])
def test_every_page_of_a_pack_is_laid_out_once(
    engine: Engine, locale: str, caplog: pytest.LogCaptureFixture
) -> None:
    payload = in_language(load_sample("01_renewal_pack_es-ES.json"), locale[:2])
    with caplog.at_level(logging.INFO, logger="weasyprint.progress"):
        rendered = engine.render(engine.validate(payload), locale=locale)
    assert page_layouts(caplog.records) == list(range(1, rendered.pages + 1))


def test_numbers_too_wide_for_their_placeholders_are_laid_out_as_text(engine: Engine) -> None:
    """Placeholders of two digits for a pack of 6 pages: the render stops before writing a
    PDF, naming the numbers read from its layout; laid out with them, the pack is the same
    PDF as the one whose numbers were written into its layout."""
    validated = engine.validate(KINDS["renewal_pack"].sample())
    filled = engine.render(validated)
    html = engine.html(validated, link_css=False, numbers=PageNumbers(digits=2))
    with pytest.raises(NumbersDoNotFit) as caught:
        engine.pdf.render(html, stamp=issue_moment(validated.doc), numbered=True)
    read = caught.value.numbers
    assert read.pages == filled.pages
    assert read.targets is not None
    first_pages = starts(filled.pdf)
    names = list(first_pages)
    for key, name in zip(validated.figures.components, names, strict=True):  # type: ignore[attr-defined]
        assert read.targets[f"c-{key}"] == first_pages[name]
    as_text = engine.html(validated, link_css=False, numbers=read)
    assert f'data-pages="{filled.pages}"' in as_text and 'data-pages="0"' not in as_text


def test_a_pack_laid_out_again_is_the_same_pdf(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Through an engine whose placeholders are too wide (two digits): first laid out with
    them, then with the numbers read; the same bytes as one layout with the numbers
    filled in."""
    validated = engine.validate(KINDS["renewal_pack"].sample())
    once = engine.render(validated)
    wide = Engine(settings, placeholder_digits=2)
    with caplog.at_level(logging.INFO, logger="weasyprint.progress"):
        twice = wide.render(validated)
    pages = list(range(1, once.pages + 1))
    assert page_layouts(caplog.records) == pages + pages
    assert twice.pdf == once.pdf


@given(st.lists(st.integers(0, 9), min_size=1, max_size=6), st.integers(0, 3))
def test_page_labels_name_every_page_once(firsts: list[int], extra: int) -> None:
    """Ranges start in order, the first on the first page a part starts on; a page is
    named after the first part that starts on it, or runs on to it."""
    total = max(firsts) + 1 + extra
    parts = [(f"part {n}", page) for n, page in enumerate(sorted(firsts))]
    ranges = page_label_ranges(parts, total)
    pages = [page for page, _, _ in ranges]
    assert pages == sorted(set(pages)) and pages[0] == min(firsts)
    assert all(0 <= page < total for page in pages)
    for page, prefix, number in ranges:
        starting = [label for label, first in parts if first == page]
        if starting:
            assert (prefix, number) == (f"{starting[0]} ", 1)
        else:  # the last part that starts on the page before runs on to this one
            before = [label for label, first in parts if first == page - 1]
            assert (prefix, number) == (f"{before[-1]} ", 2)
