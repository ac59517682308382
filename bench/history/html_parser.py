"""Our markup parsed by expat (`correspondence.pdf.parse_xml`, as shipped) against
WeasyPrint's own HTML5 parser (tinyhtml5, pure Python), in one run.

Two warm renderers differ only in their parser; both render the same HTML to PDF/A and
the bytes are compared: they must be the same. "parse" times the parser alone.

    .venv/bin/python bench/history/html_parser.py [--runs 9]
"""

from __future__ import annotations

import argparse

from pairs import compare_renderers, interleaved_ms, invoices_and_kinds, medians, same_or_not

from correspondence import pdf
from correspondence.config import Settings
from correspondence.engine import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    engine = Engine(Settings())
    parsers = {"tinyhtml5": pdf.parse_html5, "expat": pdf.parse_xml}
    renderers = {name: pdf.PdfRenderer(parse=parse) for name, parse in parsers.items()}

    print(f"{args.runs} interleaved runs; medians in ms; ratio = expat / tinyhtml5")
    print(f"{'document':<28}{'parse':>7}{'parse':>7}{'render':>8}{'render':>8}{'ratio':>7}  bytes")
    print(f"{'':<28}{'html5':>7}{'expat':>7}{'html5':>8}{'expat':>8}")
    for name, payload in invoices_and_kinds().items():
        html = engine.html(engine.validate(payload), link_css=False)
        parsing = {key: (lambda p=p, h=html: p(h)) for key, p in parsers.items()}
        parse = medians(interleaved_ms(parsing, args.runs))
        m, same = compare_renderers(renderers, html, args.runs)
        theirs, ours = m["tinyhtml5"], m["expat"]
        print(
            f"{name:<28}{parse['tinyhtml5']:>7.1f}{parse['expat']:>7.1f}"
            f"{theirs:>8.1f}{ours:>8.1f}{ours / theirs:>7.2f}  {same_or_not(same)}"
        )


if __name__ == "__main__":
    main()
