"""Our shortcuts through WeasyPrint (the expat parser, the trimmed user-agent stylesheet,
streams compressed once) change no byte of any document."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pydyf
import pytest

from correspondence import pdf
from correspondence.engine import Engine
from correspondence.errors import RenderError
from correspondence.kinds import KINDS
from correspondence.templating import ASSET_ORIGIN
from tests.conftest import in_language
from tests.factories import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def weasyprints() -> pdf.PdfRenderer:
    """A renderer that parses, styles and writes as WeasyPrint does on its own."""
    return pdf.PdfRenderer(trimmed_user_agent=False, parse=pdf.parse_html5, compress_once=False)


@pytest.mark.parametrize("locale", ["en-GB", "es-MX"])
@pytest.mark.parametrize("kind", [*sorted(KINDS), "premium_invoice, 40 lines"])
def test_the_same_pdf_as_weasyprint_parsing_and_styling_on_its_own(
    engine: Engine, weasyprints: pdf.PdfRenderer, kind: str, locale: str
) -> None:
    payload = sample_with_lines(40) if kind.endswith("lines") else KINDS[kind].sample()
    payload = in_language(payload, locale.split("-")[0])
    html = engine.html(engine.validate(payload), locale=locale, link_css=False)
    ours = engine.pdf.render(html, stamp=STAMP)
    theirs = weasyprints.render(html, stamp=STAMP)
    assert ours.pages == theirs.pages > 0
    assert ours.data == theirs.data


def test_the_same_pdf_as_weasyprint_for_a_page_number_overlay(
    engine: Engine, weasyprints: pdf.PdfRenderer
) -> None:
    """The overlay numbering a document rendered in sections is parsed by expat too."""
    validated = engine.validate(sample_with_lines(40))
    html = engine.env.get_template("shared/page_numbers.html").render(
        {**engine.context(validated, link_css=False), "pages": 9, "first": 3, "last": 5}
    )
    ours = engine.pdf.render(html, stamp=STAMP, variant=None)
    assert ours.pages == 3
    assert ours.data == weasyprints.render(html, stamp=STAMP, variant=None).data


def test_markup_that_is_not_well_formed_stops_the_render(engine: Engine) -> None:
    """A template that stops writing XML fails loudly, never renders something else."""
    with pytest.raises(RenderError, match="not well-formed"):
        engine.pdf.render("<html><body><p>one<br>two</p></body></html>", stamp=STAMP)


def test_the_trimmed_stylesheet_keeps_list_markers_and_drops_footnote_rules() -> None:
    text = pdf.user_agent_stylesheet()
    assert ":is(li, summary)::marker {" in text
    for gone in ("::footnote-call", "::footnote-marker", "::note-call", "::note-callback"):
        assert gone not in text
    assert "li { display: list-item }" in text


def test_a_rule_missing_upstream_stops_the_import() -> None:
    with pytest.raises(RuntimeError, match="no-such-pseudo"):
        pdf.user_agent_stylesheet({"::marker {": None, "::no-such-pseudo {": None})


def test_the_finisher_leaves_pydyf_no_stream_to_compress(engine: Engine) -> None:
    """After compress_streams_once every stream holds its deflated bytes and is marked
    not to be compressed, so writing the file and hashing it for its identifier compress
    nothing again; the bytes inflate back to what pydyf would have compressed."""
    html = engine.html(engine.validate(sample_with_lines(3)), link_css=False)
    document = pdf._Html(
        pdf.parse_xml(html),
        base_url=ASSET_ORIGIN,
        url_fetcher=engine.pdf.fetcher,
        user_agent=None,
    ).render()
    seen: list[tuple[bytes, pydyf.Stream]] = []

    def finisher(doc: object, written: pydyf.PDF) -> None:
        streams = [o for o in written.objects if isinstance(o, pydyf.Stream) and o.compress]
        plain = [pydyf.Stream(o.stream).data for o in streams]
        pdf.compress_streams_once(doc, written)
        seen.extend(zip(plain, streams, strict=True))

    document.write_pdf(pdf_variant=pdf.PDF_VARIANT, finisher=finisher)
    assert len(seen) >= 4  # page contents, fonts, the colour profile, the metadata
    for plain, stream in seen:
        assert stream.compress is False and stream.extra["Filter"] == "/FlateDecode"
        (deflated,) = stream.stream
        assert plain.endswith(zlib.decompress(deflated) + b"\nendstream")
