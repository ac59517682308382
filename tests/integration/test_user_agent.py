"""Our trimmed user-agent stylesheet changes no byte of any document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from correspondence import pdf
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from correspondence.kinds.premium_invoice import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def weasyprints() -> pdf.PdfRenderer:
    """A renderer with WeasyPrint's own user-agent stylesheet."""
    return pdf.PdfRenderer(trimmed_user_agent=False)


@pytest.mark.parametrize("kind", [*sorted(KINDS), "premium_invoice, 40 lines"])
def test_the_same_pdf_as_with_weasyprints_own_stylesheet(
    engine: Engine, weasyprints: pdf.PdfRenderer, kind: str
) -> None:
    payload = sample_with_lines(40) if kind.endswith("lines") else KINDS[kind].sample()
    html = engine.html(engine.validate(payload), link_css=False)
    ours = engine.pdf.render(html, stamp=STAMP)
    theirs = weasyprints.render(html, stamp=STAMP)
    assert ours.pages == theirs.pages > 0
    assert ours.data == theirs.data


def test_the_trimmed_stylesheet_keeps_list_markers_and_drops_footnote_rules() -> None:
    text = pdf.user_agent_stylesheet()
    assert ":is(li, summary)::marker {" in text
    for gone in ("::footnote-call", "::footnote-marker", "::note-call", "::note-callback"):
        assert gone not in text
    assert "li { display: list-item }" in text


def test_a_rule_missing_upstream_stops_the_import() -> None:
    with pytest.raises(RuntimeError, match="no-such-pseudo"):
        pdf.user_agent_stylesheet({"::marker {": None, "::no-such-pseudo {": None})
