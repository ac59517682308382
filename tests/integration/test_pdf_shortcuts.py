"""The renderer's shortcuts through WeasyPrint's private parts
(``correspondence/pdf_fast.py``) change no byte of any document: every sample, in every
locale, renders to the same PDF with the shortcuts on, with them off, and with stock
``weasyprint.HTML(string=…).render(…).write_pdf(…)`` given the same fetcher, fonts and
options, and finished by the same tagging (``pdf_fast.tagging``, which is not a shortcut:
docs/accessibility.md)."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import weasyprint
from weasyprint.text.fonts import FontConfiguration

from correspondence import pdf, pdf_fast, pdf_once
from correspondence.config import Settings
from correspondence.engine import PAYLOAD_ATTACHMENT, Engine
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import SAMPLES_DIR
from correspondence.templating import ASSET_ORIGIN
from tests.conftest import in_language, load_sample
from tests.factories import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
SAMPLES = sorted(path.name for path in SAMPLES_DIR.glob("*.json"))

Stock = Callable[..., bytes]


@pytest.fixture(scope="module")
def stock() -> Stock:
    """WeasyPrint used as its documentation says, with the renderer's fetcher, fonts and
    options: ``HTML(string=…)``, the document stylesheet as a ``CSS``, ``write_pdf``."""
    fetcher = pdf.AssetFetcher(pdf.load_assets())
    fonts = FontConfiguration()
    css = weasyprint.CSS(url=pdf.STYLESHEET_URL, url_fetcher=fetcher, font_config=fonts)

    def write(
        html: str, attachments: tuple[pdf.PdfAttachment, ...] = (), variant: str | None = None
    ) -> bytes:
        files = [
            weasyprint.Attachment(
                string=a.data,
                name=a.name,
                description=a.description,
                created=STAMP,
                modified=STAMP,
                relationship=a.relationship,
            )
            for a in attachments
        ]
        source = weasyprint.HTML(string=html, base_url=ASSET_ORIGIN, url_fetcher=fetcher)
        document = source.render(stylesheets=[css], font_config=fonts)
        if variant is not None:
            pdf.declare_pdf_ua(document.metadata)
        with pdf_fast.tagging(document, source):
            data = document.write_pdf(pdf_variant=variant, attachments=files)
        assert isinstance(data, bytes)
        return data

    return write


@pytest.fixture(scope="module")
def public() -> pdf.PdfRenderer:
    """Our renderer with every shortcut off."""
    return pdf.PdfRenderer(shortcuts=False)


def _document(
    engine: Engine, payload: dict[str, Any], locale: str
) -> tuple[str, pdf.PdfAttachment]:
    validated = engine.validate(in_language(payload, locale.split("-")[0]))
    html = engine.html(validated, locale=locale, link_css=False)
    body = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode()
    return html, pdf.PdfAttachment(PAYLOAD_ATTACHMENT, body, "Validated request payload")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("sample", [*SAMPLES, "premium_invoice, 40 lines"])
def test_every_sample_in_every_locale_is_the_same_pdf_three_ways(
    engine: Engine, public: pdf.PdfRenderer, stock: Stock, sample: str, locale: str
) -> None:
    payload = sample_with_lines(40) if sample.endswith("lines") else load_sample(sample)
    html, payload_json = _document(engine, payload, locale)
    fast = engine.pdf.render(html, attachments=[payload_json], stamp=STAMP)
    plain = public.render(html, attachments=[payload_json], stamp=STAMP)
    assert engine.pdf.shortcuts == pdf_fast.ALL and public.shortcuts == pdf_fast.NONE
    assert fast.pages == plain.pages > 0
    assert fast.anchors == plain.anchors
    assert fast.data == plain.data
    assert fast.data == stock(html, (payload_json,), pdf.PDF_VARIANT)


def test_a_page_number_overlay_is_the_same_pdf_three_ways(
    engine: Engine, public: pdf.PdfRenderer, stock: Stock
) -> None:
    """The overlay numbering a document rendered in sections: a plain PDF, no PDF/A."""
    validated = engine.validate(sample_with_lines(40))
    html = engine.env.get_template("shared/page_numbers.html").render(
        {**engine.context(validated, link_css=False), "pages": 9, "first": 3, "last": 5}
    )
    fast = engine.pdf.render(html, stamp=STAMP, variant=None, tagged=False)
    assert fast.pages == 3
    assert fast.data == public.render(html, stamp=STAMP, variant=None, tagged=False).data
    assert fast.data == stock(html)


def test_with_the_shortcuts_off_nothing_private_is_reached(engine: Engine) -> None:
    """Off, the renderer builds ``weasyprint.HTML`` itself: a profiler watching every
    Python call of the render sees none of pdf_fast's private entry points run."""
    private = {
        pdf_fast.html_document.__code__,
        pdf_fast.trimmed_user_agent,  # cached: seen as a C call of its wrapper
        *(f.__code__ for f in vars(pdf_fast._Html).values() if inspect.isfunction(f)),
    }
    html, payload_json = _document(engine, sample_with_lines(3), "en-GB")

    def profiled(
        renderer: Callable[[], pdf.PdfRenderer],
    ) -> tuple[pdf.RenderedPdf, set[object]]:
        called: set[object] = set()

        def watch(frame: types.FrameType, event: str, arg: object) -> None:
            if event == "call":
                called.add(frame.f_code)
            elif event == "c_call":
                called.add(arg)

        sys.setprofile(watch)
        try:
            return renderer().render(html, attachments=[payload_json], stamp=STAMP), called
        finally:
            sys.setprofile(None)

    fast, called_on = profiled(lambda: engine.pdf)
    assert not called_on.isdisjoint(private)  # the watch sees them when they run
    rendered, called = profiled(lambda: pdf.PdfRenderer(shortcuts=False))  # built watched
    assert called.isdisjoint(private)
    assert rendered.pages == fast.pages > 0
    assert rendered.data == fast.data


def test_the_setting_turns_the_shortcuts_off() -> None:
    assert Engine(Settings(pdf_shortcuts=False)).pdf.shortcuts == pdf_fast.NONE
    assert Engine(Settings(pdf_shortcuts=True)).pdf.shortcuts == pdf_fast.ALL
    assert Settings.model_fields["pdf_shortcuts"].default is True


def test_the_trimmed_stylesheet_keeps_list_markers_and_drops_footnote_rules() -> None:
    text = pdf_fast.user_agent_stylesheet()
    assert ":is(li, summary)::marker {" in text
    for gone in ("::footnote-call", "::footnote-marker", "::note-call", "::note-callback"):
        assert gone not in text
    assert "li { display: list-item }" in text


def test_a_rule_missing_upstream_stops_the_renderer() -> None:
    with pytest.raises(RuntimeError, match="no-such-pseudo"):
        pdf_fast.user_agent_stylesheet({"::marker {": None, "::no-such-pseudo {": None})


def test_a_pdf_a_file_compresses_each_stream_once(engine: Engine) -> None:
    """pydyf serializes every object a second time to hash a PDF/A file for its identifier;
    with ``serialize_once`` each stream is compressed once, and the file is the same."""
    html, payload_json = _document(engine, load_sample("01_renewal_pack_es-ES.json"), "es-ES")

    def compressions(shortcuts: pdf_fast.Shortcuts) -> tuple[int, bytes]:
        renderer = pdf.PdfRenderer(shortcuts=shortcuts)
        count = 0

        def watch(frame: types.FrameType, event: str, arg: object) -> None:
            nonlocal count
            if event == "c_call" and getattr(arg, "__qualname__", "") == "Compress.compress":
                count += 1

        sys.setprofile(watch)
        try:
            data = renderer.render(html, attachments=[payload_json], stamp=STAMP).data
        finally:
            sys.setprofile(None)
        return count, data

    once, with_it = compressions(pdf_fast.ALL)
    twice, without = compressions(dataclasses.replace(pdf_fast.ALL, serialize_once=False))
    # Every stream but the cross-reference stream, written after the hash, twice without.
    assert once > 1 and twice - 1 == 2 * (once - 1)
    assert with_it == without


def test_text_measured_in_one_render_is_not_measured_again(engine: Engine) -> None:
    """``measure_once``: a renderer keeps the preferred widths of the text it measured; a
    pack rendered after a letter, and then again, is the same PDF as one rendered by a
    renderer that measures everything every time, and its second render measures nothing
    new."""
    letter, letter_json = _document(
        engine, load_sample("05_credit_limit_decision_partial_es-MX.json"), "es-MX"
    )
    html, payload_json = _document(engine, load_sample("01_renewal_pack_es-ES.json"), "es-ES")
    renderer = pdf.PdfRenderer()
    every_time = pdf.PdfRenderer(shortcuts=dataclasses.replace(pdf_fast.ALL, measure_once=False))
    renderer.render(letter, attachments=[letter_json], stamp=STAMP)
    after_letter = len(renderer._measures)
    first = renderer.render(html, attachments=[payload_json], stamp=STAMP).data
    kept = len(renderer._measures)
    again = renderer.render(html, attachments=[payload_json], stamp=STAMP).data
    assert 0 < after_letter < kept == len(renderer._measures)
    assert not every_time._measures
    assert first == again == every_time.render(html, attachments=[payload_json], stamp=STAMP).data


def test_a_long_text_is_measured_every_time_not_kept() -> None:
    """For a minimum width WeasyPrint measures every tail of a text box: a long paragraph in
    a table cell is measured but not kept (hundreds of keys that never come back); its
    short neighbours are. The PDF is the one a renderer keeping nothing makes."""
    words = " ".join(f"palabra{n}" for n in range(150))  # about 1,300 characters
    html = (
        '<html lang="es"><body><table><tr><td>Corto</td>'
        f"<td>{words}</td></tr></table></body></html>"
    )
    renderer = pdf.PdfRenderer()
    every_time = pdf.PdfRenderer(shortcuts=dataclasses.replace(pdf_fast.ALL, measure_once=False))
    kept = renderer.render(html, stamp=STAMP, variant=None, tagged=False).data
    texts = [key[0] for key in renderer._measures]
    assert "Corto" in texts
    assert max(len(text) for text in texts) <= pdf_once.MEASURED_TEXT_KEPT
    assert kept == every_time.render(html, stamp=STAMP, variant=None, tagged=False).data


def test_text_is_measured_under_every_style_property_weasyprints_text_reads() -> None:
    """A measure is kept under the style properties WeasyPrint's text module reads: should
    an upgrade read another, the measures would be kept under too few."""
    text_module = Path(weasyprint.__file__).parent / "text"
    read = {
        name
        for path in text_module.glob("*.py")
        for name in re.findall(r"style\[['\"]([a-z_]+)['\"]\]", path.read_text("utf-8"))
    }
    assert read and read <= set(pdf_once.TEXT_PROPERTIES)
    assert not any(
        re.search(r"style\.get\(|style\[[a-z]", path.read_text("utf-8"))
        for path in text_module.glob("*.py")
    )
