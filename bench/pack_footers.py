"""Renewal packs whose components run their footers under names of their own, on pages
named after them (as shipped), against one running name for every component's footer
(what we had), in one run.

Under one name, WeasyPrint lays out again each page on which a later component's footer
first appears; the PDF is the same. Two warm renderers differ only in the stylesheet: the
second lacks the per-component rules. Both render the same pack HTML, in each language,
to PDF/A-3b; the bytes are compared, and the page layouts counted from WeasyPrint's
progress log.

    uv run python bench/pack_footers.py [--runs 15]
"""

from __future__ import annotations

import argparse
import logging

from pairs import STAMP, compare_renderers, same_or_not

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS
from correspondence.pdf import STYLESHEET_URL, PdfRenderer, load_assets

FIRST_RULE = "/* Each component's footer runs under a name of its own"
LAST_RULE = "section.component > h1.component-title { margin-break: auto; }\n"
PAGE_LAYOUT = "Step 5 - Creating layout - Page %d"


def one_footer_name() -> PdfRenderer:
    """A renderer whose stylesheet lacks the per-component footer and page rules."""
    assets = load_assets()
    css, mime = assets[STYLESHEET_URL]
    text = css.decode("utf-8")
    start, end = text.index(FIRST_RULE), text.index(LAST_RULE) + len(LAST_RULE)
    assets[STYLESHEET_URL] = (text[:start] + text[end:]).encode("utf-8"), mime
    return PdfRenderer(assets=assets)


class _Layouts(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.msg == PAGE_LAYOUT


def page_layouts(renderer: PdfRenderer, html: str) -> tuple[int, int]:
    """How many pages one render writes, and how many page layouts it takes."""
    logger = logging.getLogger("weasyprint.progress")
    handler, level = _Layouts(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        pages = renderer.render(html, stamp=STAMP).pages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return pages, handler.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    engine = Engine(Settings())
    renderers = {"one name": one_footer_name(), "own names": engine.pdf}
    validated = engine.validate(KINDS["renewal_pack"].sample())

    print(f"{args.runs} interleaved runs; medians in ms; ratio = own names / one name")
    header = f"{'pages':>6}{'layouts':>10}{'one name':>10}{'own names':>11}{'ratio':>7}"
    print(f"{'locale':<8}{header}  bytes")
    for locale in SUPPORTED_LOCALES:
        html = engine.html(validated, locale=locale, link_css=False)
        counts = {key: page_layouts(r, html) for key, r in renderers.items()}
        pages = counts["own names"][0]
        layouts = f"{counts['one name'][1]} → {counts['own names'][1]}"
        m, same = compare_renderers(renderers, html, args.runs)
        one, own = m["one name"], m["own names"]
        print(
            f"{locale:<8}{pages:>6}{layouts:>10}{one:>10.1f}{own:>11.1f}{own / one:>7.2f}"
            f"  {same_or_not(same)}"
        )


if __name__ == "__main__":
    main()
