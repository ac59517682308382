"""WeasyPrint's user-agent stylesheet against ours (`correspondence.pdf.user_agent_stylesheet`:
markers on list items only, no footnote or note pseudo-elements), in one run.

Both render the same HTML through a warm renderer to PDF/A; the two renderers differ only
in their user-agent stylesheet. The bytes are compared too: they must be the same.

    .venv/bin/python bench/history/user_agent.py [--runs 9]
"""

from __future__ import annotations

import argparse

from pairs import compare_renderers, invoices_and_kinds, same_or_not

from correspondence import pdf
from correspondence.config import Settings
from correspondence.engine import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    engine = Engine(Settings())
    renderers = {"weasyprint": pdf.PdfRenderer(trimmed_user_agent=False), "ours": engine.pdf}

    print(f"{args.runs} interleaved runs; medians in ms; ratio = ours / WeasyPrint's")
    print(f"{'document':<28}{'weasyprint':>11}{'ours':>8}{'ratio':>8}  bytes")
    for name, payload in invoices_and_kinds().items():
        html = engine.html(engine.validate(payload), link_css=False)
        m, same = compare_renderers(renderers, html, args.runs)
        theirs, ours = m["weasyprint"], m["ours"]
        print(f"{name:<28}{theirs:>11.1f}{ours:>8.1f}{ours / theirs:>8.2f}  {same_or_not(same)}")


if __name__ == "__main__":
    main()
