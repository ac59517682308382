"""PDF/A written with every stream compressed once (`correspondence.pdf.compress_streams_once`,
as shipped) against pydyf's own writing, which compresses each stream a second time to
hash the file for its identifier, in one run.

Two warm renderers differ only in that finisher; both render the same HTML to PDF/A-3b
and the bytes are compared: they must be the same.

    .venv/bin/python bench/history/compress_once.py [--runs 15]
"""

from __future__ import annotations

import argparse

from pairs import compare_renderers, invoices_and_kinds, same_or_not

from correspondence import pdf
from correspondence.config import Settings
from correspondence.engine import Engine

DOCUMENTS = ("invoice, 25 lines", "invoice, 250 lines", "credit_limit_decision", "renewal_pack")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    engine = Engine(Settings())
    payloads = invoices_and_kinds()
    renderers = {"twice": pdf.PdfRenderer(compress_once=False), "once": engine.pdf}

    print(f"{args.runs} interleaved runs; medians in ms; ratio = once / twice")
    print(f"{'document':<24}{'twice':>8}{'once':>8}{'ratio':>8}  bytes")
    for name in DOCUMENTS:
        html = engine.html(engine.validate(payloads[name]), link_css=False)
        m, same = compare_renderers(renderers, html, args.runs)
        twice, once = m["twice"], m["once"]
        print(f"{name:<24}{twice:>8.1f}{once:>8.1f}{once / twice:>8.2f}  {same_or_not(same)}")


if __name__ == "__main__":
    main()
