"""The line table's measured column widths against WeasyPrint's own layout of the table.

The widths are computed in Python (correspondence/columns.py) so that WeasyPrint can lay
the table out fixed. These tests lay real invoices out with WeasyPrint and look at the
boxes: no text may leave its cell, in any locale, at any size of amount, and a table
whose narrowest widths cannot fit keeps automatic layout.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration

from correspondence.columns import (
    CELL_PADDING_PT,
    FONT_SIZE_PT,
    Column,
    font_metrics,
    invoice_line_widths,
    measure,
    share_width,
)
from correspondence.engine import Engine
from correspondence.formatting import SUPPORTED_LOCALES, Formatter
from correspondence.pdf import STYLESHEET_URL, AssetFetcher, load_assets
from correspondence.templating import ASSET_ORIGIN, catalog, words
from tests.conftest import es_invoice, in_language
from tests.factories import sample_with_lines

PX_PER_PT = 4 / 3


@pytest.fixture(scope="module")
def layout() -> Any:
    fetcher = AssetFetcher(load_assets())
    fonts = FontConfiguration()
    sheet = CSS(url=STYLESHEET_URL, url_fetcher=fetcher, font_config=fonts)

    def lay_out(html: str) -> Any:
        return HTML(string=html, base_url=ASSET_ORIGIN, url_fetcher=fetcher).render(
            stylesheets=[sheet], font_config=fonts
        )

    return lay_out


def descendants(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", ()):
        yield from descendants(child)


def line_tables(document: Any) -> Iterator[Any]:
    for page in document.pages:
        for box in descendants(page._page_box):
            if isinstance(box, boxes.TableBox) and "lines" in box.element.get("class", ""):
                yield box


def overflowing_text(table: Any) -> list[str]:
    """Every piece of text in ``table`` that leaves the content box of its cell."""
    found = []
    for cell in descendants(table):
        if not isinstance(cell, boxes.TableCellBox):
            continue
        left = cell.content_box_x()
        right = left + cell.width
        for text in descendants(cell):
            if isinstance(text, boxes.TextBox):
                start, end = text.position_x, text.position_x + text.width
                if start < left - 0.01 or end > right + 0.01:
                    where = f"{start:.1f}-{end:.1f} in {left:.1f}-{right:.1f}"
                    found.append(f"{text.text!r} at {where}")
    return found


def invoices() -> dict[str, dict[str, Any]]:
    mx = sample_with_lines(25)
    large = copy.deepcopy(mx)
    for line in large["lines"][:3]:
        line["unit_price"]["amount"] = "9876543.21"
        line["quantity"] = "12.5"
    large["cfdi"]["qr_payload"] = large["cfdi"]["qr_payload"].split("&tt=")[0]
    return {"mx-25-lines": mx, "es": es_invoice(), "mx-large-amounts": large}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("name", ["mx-25-lines", "es", "mx-large-amounts"])
def test_measured_columns_hold_every_cell(
    engine: Engine, layout: Any, name: str, locale: str
) -> None:
    """Laid out fixed at the measured widths, no text leaves its cell."""
    validated = engine.validate(in_language(invoices()[name], locale[:2]))
    html = engine.html(validated, locale=locale, link_css=False)
    assert '<table class="lines fixed">' in html
    tables = list(line_tables(layout(html)))
    assert tables, "the invoice has a line table"
    for table in tables:
        assert table.style["table_layout"] == "fixed"
        assert overflowing_text(table) == []


def test_measured_widths_are_an_upper_bound_of_weasyprints(engine: Engine, layout: Any) -> None:
    """The advance-width sum is never narrower than the text WeasyPrint shapes."""
    samples = [
        "$62,500.00\u00a0MXN",
        "1.234.567,89\u00a0€",
        "Recargo del Consorcio 0,15\u00a0%: 2,25\u00a0€",
        "AVAWAToTe Tyrol fjord",
        "1 ene 2027 – 31 mar 2027",
    ]
    spans = "".join(
        f'<p><span style="font-size: 8pt; font-weight: {w}">{s}</span></p>'
        for w in (400, 700)
        for s in samples
    )
    document = layout(f"<html><body>{spans}</body></html>")
    seen = 0
    for box in descendants(document.pages[0]._page_box):
        if isinstance(box, boxes.TextBox):
            weight = box.style["font_weight"]
            ours = font_metrics(weight).width(box.text, 8) * PX_PER_PT
            assert ours >= box.width - 0.01, (box.text, ours, box.width)
            assert ours <= box.width * 1.06, (box.text, ours, box.width)
            seen += 1
    assert seen == 2 * len(samples)


def labels(engine: Engine, locale: str) -> tuple[list[str], dict[str, str]]:
    """The line table's headings and the tax names as shared/invoice.html prints them."""
    gettext = catalog(engine.settings.templates_dir, locale).gettext
    ids = ["Description", "Period", "Qty", "Unit price", "Net", "Tax", "Total"]
    return [gettext(i) for i in ids], dict(words(engine.env, locale).tax_name)


def test_a_table_whose_narrowest_widths_overflow_keeps_automatic_layout(
    engine: Engine, layout: Any
) -> None:
    payload = sample_with_lines(3)
    payload["lines"][0]["description"] = "Z" * 160  # one unbreakable word wider than the page
    validated = engine.validate(payload)
    fig = validated.figures
    headers, tax_names = labels(engine, "es-MX")
    assert (
        invoice_line_widths(validated.doc, fig, headers, tax_names, Formatter("es-MX", "UTC"))
        is None
    )
    html = engine.html(validated, link_css=False)
    assert '<table class="lines">' in html
    (table,) = line_tables(layout(html))
    assert table.style["table_layout"] == "auto"


def test_share_width_follows_automatic_table_layout() -> None:
    fixed, flexible = Column(40, 40), Column(20, 200)
    # Everything fits unbroken: each column gets its widest width and a share of the rest.
    assert share_width([fixed, Column(20, 60)], 200) == (80, 120)
    # It does not: each gets its narrowest width, and the flexible one what is left.
    assert share_width([fixed, flexible], 100) == (40, 60)
    widths = share_width([fixed, flexible, Column(10, 100)], 150)
    assert widths is not None
    assert sum(widths) == pytest.approx(150)
    assert widths[0] == 40
    assert widths[1] - 20 == pytest.approx((widths[2] - 10) * 180 / 90)
    assert share_width([fixed, flexible], 59) is None


def test_measure_breaks_at_spaces_and_lines_only() -> None:
    regular = font_metrics(400)
    column = measure(["IVA 16%: $1,000.00\u00a0MXN\nIPS 6%: $5.00\u00a0MXN"], 400)
    widest_word = regular.width("$1,000.00\u00a0MXN", FONT_SIZE_PT)
    widest_line = regular.width("IVA 16%: $1,000.00\u00a0MXN", FONT_SIZE_PT)
    assert column.narrowest == pytest.approx(widest_word * 1.005 + CELL_PADDING_PT)
    assert column.widest == pytest.approx(widest_line * 1.005 + CELL_PADDING_PT)


def test_every_section_of_a_long_invoice_has_the_widths_of_the_whole(engine: Engine) -> None:
    """The widths come from all lines, and are measured once however many sections ask."""
    from correspondence.engine import sections

    def colgroups(payload: dict[str, Any]) -> list[str]:
        validated = engine.validate(payload)
        found = []
        for part in sections(validated, 20):
            html = engine.html(validated, part=part, link_css=False)
            found.append(html[html.index("<colgroup>") : html.index("</colgroup>")])
        return found

    plain = colgroups(sample_with_lines(60))
    assert len(plain) == 3
    assert len(set(plain)) == 1
    # A long word in the last section widens the first column of the first section too.
    payload = sample_with_lines(60)
    payload["lines"][59]["description"] = "Cuota-extraordinaria-de-monitoreo-internacional, 2027"
    widened = colgroups(payload)
    assert len(set(widened)) == 1
    assert widened[0] != plain[0]


def test_an_invoice_is_measured_once_and_kept_by_identity(engine: Engine) -> None:
    validated = engine.validate(sample_with_lines(30))
    headers, tax_names = labels(engine, "es-MX")
    fmt = Formatter("es-MX", "America/Mexico_City")
    first = invoice_line_widths(validated.doc, validated.figures, headers, tax_names, fmt)
    again = invoice_line_widths(validated.doc, validated.figures, headers, tax_names, fmt)
    assert first is not None
    assert again is first  # kept, not measured again
    twin = engine.validate(sample_with_lines(30))  # equal, but another object
    other = invoice_line_widths(twin.doc, twin.figures, headers, tax_names, fmt)
    assert other == first
    assert other is not first


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_cfdi_labels_fit_their_measured_column_on_one_line(
    engine: Engine, layout: Any, locale: str
) -> None:
    """The CFDI table's label column is measured (columns.label_width) and laid out fixed:
    every label stays on one line inside its cell, and the column is no more than two
    points wider than the widest label as WeasyPrint sets it."""
    payload = copy.deepcopy(invoices()["mx-25-lines"])
    payload = in_language(payload, locale[:2])
    document = layout(engine.html(engine.validate(payload), locale=locale, link_css=False))
    (table,) = [
        box
        for page in document.pages
        for box in descendants(page._page_box)
        if isinstance(box, boxes.TableBox)
        and box.style["table_layout"] == "fixed"
        and "lines" not in box.element.get("class", "")
    ]
    labels = [
        cell
        for cell in descendants(table)
        if isinstance(cell, boxes.TableCellBox) and cell.element.tag == "th"
    ]
    assert len(labels) >= 12
    assert overflowing_text(table) == []
    widest = 0.0
    for cell in labels:
        lines = [b for b in descendants(cell) if isinstance(b, boxes.LineBox)]
        texts = [b for b in descendants(cell) if isinstance(b, boxes.TextBox)]
        assert len(lines) == 1, [t.text for t in texts]
        widest = max(widest, max(t.position_x + t.width for t in texts) - cell.content_box_x())
    column = labels[0].width  # every label cell's content width
    assert widest <= column <= widest + 2 * PX_PER_PT
