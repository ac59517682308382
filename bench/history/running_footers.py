"""Running footers laid out once a page, against what we had, in one run.

WeasyPrint lays out again each page on which a footer (a running element) of a name
already used on an earlier page first appears. Two places had that:

* Renewal packs, whose components each carry a footer. As shipped, each runs under a name
  of its own, on pages named after the component; before, all ran under one name. Two
  warm renderers differ only in the stylesheet (the second lacks the per-component rules);
  the same pack HTML is rendered in each language.
* The page-number overlay of a long invoice's pages 65 to 128 of 202. As shipped, one
  footer serves every page and the page counter starts at the first page of the range;
  before, each page carried a footer with its number written out (the old template and
  stylesheet rule are kept below).

PDF/A-3b for packs, plain PDF for the overlay, as the engine writes them; the bytes are
compared, and the page layouts counted from WeasyPrint's progress log.

    .venv/bin/python bench/history/running_footers.py [--runs 15]
"""

from __future__ import annotations

import argparse
import logging

from pairs import STAMP, interleaved_ms, medians, same_or_not

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS
from correspondence.pdf import PDF_VARIANT, STYLESHEET_URL, PdfRenderer, load_assets
from correspondence.pdf_fast import PROGRESS_LOGGER, page_layouts
from tests.factories import sample_with_lines

FIRST_PACK_RULE = "/* Each component's footer runs under a name of its own"
LAST_PACK_RULE = "section.component > h1.component-title { margin-break: auto; }\n"
OVERLAY_RULE = ".page-numbers .page-footer .pageno::after {"
OLD_OVERLAY_RULE = ".page-numbers .page-footer .pageno::after { content: none; }\n"
OLD_OVERLAY = """<!DOCTYPE html>
<html lang="{{ locale }}">
<head>
<meta charset="utf-8"/>
</head>
<body class="page-numbers">
{% for n in range(first, last + 1) %}
<div class="blank-page">
  <footer class="page-footer">
    <span class="footer-right"><span class="pageno">{{ g.page }} {{ n }} {{ g.page_of }} \
{{ pages }}</span></span>
  </footer>
</div>
{% endfor %}
</body>
</html>
"""


def before() -> PdfRenderer:
    """A renderer with the stylesheet as it was: no per-component footer and page rules,
    and no page number generated in the overlay's footer."""
    assets = load_assets()
    css, mime = assets[STYLESHEET_URL]
    text = css.decode("utf-8")
    start, end = text.index(FIRST_PACK_RULE), text.index(LAST_PACK_RULE) + len(LAST_PACK_RULE)
    text = text[:start] + text[end:]
    start = text.index(OVERLAY_RULE)
    text = text[:start] + OLD_OVERLAY_RULE + text[text.index("\n", start) + 1 :]
    assets[STYLESHEET_URL] = text.encode("utf-8"), mime
    return PdfRenderer(assets=assets)


class _Layouts(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def render(renderer: PdfRenderer, html: str, variant: str | None) -> tuple[bytes, int, int]:
    """One render: its bytes, its pages, and how many page layouts it took."""
    logger = logging.getLogger(PROGRESS_LOGGER)
    handler, level = _Layouts(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        rendered = renderer.render(html, stamp=STAMP, variant=variant)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return rendered.data, rendered.pages, len(page_layouts(handler.records))


def row(label: str, renders: list[tuple[bytes, int, int]], ms: dict[str, float]) -> str:
    (old, _, old_layouts), (new, pages, new_layouts) = renders
    was, now = ms["before"], ms["now"]
    return (
        f"{label:<26}{pages:>6}{f'{old_layouts} → {new_layouts}':>12}{was:>9.1f}{now:>9.1f}"
        f"{now / was:>7.2f}  {same_or_not(old == new)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    engine = Engine(Settings())
    renderers = {"before": before(), "now": engine.pdf}

    print(f"{args.runs} interleaved runs; medians in ms; ratio = now / before")
    print(f"{'document':<26}{'pages':>6}{'layouts':>12}{'before':>9}{'now':>9}{'ratio':>7}  bytes")

    def compare(label: str, htmls: dict[str, str], variant: str | None) -> None:
        """One render of each (bytes, layouts), then both timed in turn."""
        renders = [render(renderers[key], html, variant) for key, html in htmls.items()]
        paths = {
            key: lambda key=key, html=html: renderers[key].render(
                html, stamp=STAMP, variant=variant
            )
            for key, html in htmls.items()
        }
        print(row(label, renders, medians(interleaved_ms(paths, args.runs))))

    pack = engine.validate(KINDS["renewal_pack"].sample())
    for locale in SUPPORTED_LOCALES:
        html = engine.html(pack, locale=locale, link_css=False)
        compare(f"renewal pack, {locale}", {"before": html, "now": html}, PDF_VARIANT)

    invoice = engine.validate(sample_with_lines(3))
    context = {**engine.context(invoice, link_css=False), "pages": 202, "first": 65, "last": 128}
    overlays = {
        "before": engine.env.from_string(OLD_OVERLAY).render(context),
        "now": engine.env.get_template("shared/page_numbers.html").render(context),
    }
    compare("page numbers 65-128 of 202", overlays, None)


if __name__ == "__main__":
    main()
