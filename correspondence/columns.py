"""Column widths for the invoice's line table, computed before WeasyPrint lays it out.

WeasyPrint's automatic table layout measures every cell twice (its narrowest and its
widest width) before it lays the cell out, and that measuring was a third of a 25-line
invoice's layout. Here the same measures are taken in Python from the packaged fonts'
advance widths, the widths are shared out as a browser's automatic layout would, and the
table is laid out with ``table-layout: fixed``: the same look, laid out once.

* :class:`FontMetrics` reads the packaged font's advance widths. Kerning only ever
  narrowed our strings (checked against WeasyPrint's own boxes in the tests), so a width
  measured here is an upper bound; :data:`SLACK` covers the rest.
* :func:`share_width` is CSS 2.1's automatic table layout (§17.5.2.2) for one row of
  columns: each column gets at least its narrowest width, and what is left goes to the
  columns that can use it, in proportion. When even the narrowest widths do not fit it
  returns ``None`` and the table keeps WeasyPrint's own automatic layout.
* :func:`invoice_line_widths` measures the line table's cells as the template prints
  them. Amounts are measured at their extremes only: Noto Sans has tabular figures, so
  the largest amount (and the most negative one) is the widest of its column. That keeps
  a 5,000-line invoice's measuring to milliseconds in every section.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont

from correspondence.formatting import Formatter

FONTS_DIR = Path(__file__).parent / "assets" / "fonts"
FONTS = {400: "NotoSans-Regular.ttf", 700: "NotoSans-Bold.ttf"}
"""The packaged faces of ``Doc Sans`` by weight, as document.css declares them."""

PT_PER_MM = 72 / 25.4
FONT_SIZE_PT = 8.5  # table.lines { font-size: 8.5pt }
CELL_PADDING_PT = 2 * 1.5 * PT_PER_MM  # th, td { padding: … 1.5mm } on either side
TABLE_WIDTH_PT = 174 * PT_PER_MM
"""The narrower of the two widths the table is shown at: the A4 page's 176 mm between
its margins, and the staff preview's 174 mm. Widths are written as percentages."""
SLACK = 1.005
"""Measured widths are stretched by this much before they are shared out."""


class FontMetrics:
    """Advance widths of one packaged font face."""

    def __init__(self, path: Path) -> None:
        with TTFont(path, lazy=True) as font:  # reads the three tables it needs, then closes
            self._em: int = font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            cmap = font.getBestCmap()
            self._advance: dict[int, float] = {c: metrics[g][0] for c, g in cmap.items()}
        digits = {self._advance[ord(d)] for d in "0123456789"}
        if len(digits) != 1:  # invoice_line_widths measures amounts at their extremes
            raise ValueError(f"{path.name} has proportional figures")

    def width(self, text: str, size_pt: float) -> float:
        """The width of ``text`` on one line, in points. A character the font lacks is
        drawn from a fallback font; it is counted as one em, wider than most glyphs."""
        em = self._em
        units = sum(self._advance.get(ord(c), em) for c in text)
        return units * size_pt / em


@cache
def font_metrics(weight: int) -> FontMetrics:
    return FontMetrics(FONTS_DIR / FONTS[weight])


@dataclass(frozen=True)
class Column:
    """What a column needs, in points, padding included: ``narrowest`` to hold its widest
    unbreakable piece of text, ``widest`` to hold every line unbroken."""

    narrowest: float
    widest: float


def measure(texts: Iterable[str], weight: int, size_pt: float = FONT_SIZE_PT) -> Column:
    """The column holding ``texts``, each of which breaks at spaces and newlines only
    (amounts and percentages are joined by no-break spaces)."""
    narrowest = widest = 0.0
    for text in texts:
        for line in text.split("\n"):
            words = line.split(" ")
            narrowest = max(narrowest, *(_width(w, weight, size_pt) for w in words))
            widest = max(widest, _width(line, weight, size_pt))
    return Column(narrowest * SLACK + CELL_PADDING_PT, widest * SLACK + CELL_PADDING_PT)


@lru_cache(maxsize=65536)  # descriptions repeat their words from line to line
def _width(text: str, weight: int, size_pt: float) -> float:
    return font_metrics(weight).width(text, size_pt)


def label_width(labels: Iterable[str], size_pt: float, padding_mm: float) -> str:
    """The CSS width of a column of one-line ``labels`` set at ``size_pt`` in the regular
    face, with ``padding_mm`` of horizontal padding: the width automatic layout would give
    it when the other column has room, so that the table can be laid out fixed."""
    widest = max((_width(label, 400, size_pt) for label in labels), default=0.0)
    return f"{widest * SLACK + padding_mm * PT_PER_MM:.2f}pt"


def combine(*columns: Column) -> Column:
    """One column holding what each of ``columns`` holds (a header and its body)."""
    return Column(max(c.narrowest for c in columns), max(c.widest for c in columns))


def share_width(columns: Sequence[Column], available: float) -> tuple[float, ...] | None:
    """Each column's width, as CSS 2.1 automatic table layout gives it, or ``None`` when
    the narrowest widths alone overflow ``available``."""
    narrowest = sum(c.narrowest for c in columns)
    widest = sum(c.widest for c in columns)
    if narrowest > available:
        return None
    if widest <= available:  # everything fits unbroken: the space left goes pro rata
        return tuple(c.widest * available / widest for c in columns)
    stretch = (available - narrowest) / (widest - narrowest)
    return tuple(c.narrowest + (c.widest - c.narrowest) * stretch for c in columns)


def percentages(widths: Sequence[float]) -> tuple[str, ...]:
    """CSS widths for ``widths``, as shares of their sum, rounded down."""
    total = sum(widths)
    return tuple(f"{int(w / total * 100_000) / 1000}%" for w in widths)


_RECENT: OrderedDict[tuple[int, int, Formatter], tuple[Any, Any, tuple[str, ...] | None]] = (
    OrderedDict()
)
_RECENT_LOCK = threading.Lock()


def invoice_line_widths(
    doc: Any,
    fig: Any,
    headers: Sequence[str],
    tax_names: Mapping[str, str],
    fmt: Formatter,
) -> tuple[str, ...] | None:
    """CSS widths of the seven columns of ``shared/invoice.html``'s line table, or
    ``None`` to leave the table to WeasyPrint's automatic layout. ``doc`` and ``fig`` are
    a premium invoice and its figures; ``headers`` the seven column headings and
    ``tax_names`` the tax names, as the template prints them in ``fmt``'s locale.

    The last two are kept, by identity: every section of a long invoice has the widths
    of the whole, and a worker measures them once, not once a section."""
    key = (id(doc), id(fig), fmt)
    with _RECENT_LOCK:
        seen = _RECENT.get(key)
    if seen is not None and seen[0] is doc and seen[1] is fig:
        return seen[2]
    widths = _measure_invoice_lines(doc, fig, headers, tax_names, fmt)
    with _RECENT_LOCK:
        _RECENT[key] = (doc, fig, widths)
        while len(_RECENT) > 2:  # as many as a worker keeps (render_worker._DOCUMENTS)
            _RECENT.popitem(last=False)
    return widths


def _measure_invoice_lines(
    doc: Any,
    fig: Any,
    headers: Sequence[str],
    tax_names: Mapping[str, str],
    fmt: Formatter,
) -> tuple[str, ...] | None:
    currency = fig.currency
    lines, figures = doc.lines, fig.lines

    def money(amounts: Iterable[Decimal]) -> list[str]:
        values = list(amounts)
        return [fmt.money(v, currency) for v in {max(values), min(values)}]

    taxes: dict[tuple[str, Decimal], list[Decimal]] = {}
    for f in figures:
        for t in f.taxes:
            taxes.setdefault((t.type, t.rate), []).append(t.amount)
    tax_texts = [
        f"{tax_names[kind]} {fmt.percent(rate)}: {text}"
        for (kind, rate), amounts in taxes.items()
        for text in money(amounts)
    ]
    periods = {line.period for line in lines if line.period is not None}
    # Distinct as written: 1 and 1.0 are equal Decimals but may print differently.
    quantities = {str(line.quantity): line.quantity for line in lines}.values()
    body = [
        measure((line.description for line in lines), 400),
        measure((f"{fmt.date_medium(p.start)} – {fmt.date_medium(p.end)}" for p in periods), 400),
        measure((fmt.number(q) for q in quantities), 400),
        measure(money(line.unit_price.amount for line in lines), 400),
        measure(money(f.net for f in figures), 400),
        measure(tax_texts, 400),
        measure(money(f.total for f in figures), 400),
    ]
    head = [measure([label], 700) for label in headers]
    widths = share_width([combine(h, b) for h, b in zip(head, body, strict=True)], TABLE_WIDTH_PT)
    return None if widths is None else percentages(widths)
