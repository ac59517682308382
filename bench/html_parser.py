"""Our markup parsed by expat (`correspondence.pdf.parse_xml`, as shipped) against
WeasyPrint's own HTML5 parser (tinyhtml5, pure Python), in one run.

Two warm renderers differ only in their parser; both render the same HTML to PDF/A and
the bytes are compared: they must be the same. "parse" times the parser alone.

    uv run python bench/html_parser.py [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from correspondence import pdf
from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from correspondence.kinds.premium_invoice import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    engine = Engine(Settings())
    payloads = {
        "invoice, 25 lines": sample_with_lines(25),
        "invoice, 250 lines": sample_with_lines(250),
    }
    payloads.update({kind: KINDS[kind].sample() for kind in sorted(KINDS)})
    parsers = {"tinyhtml5": pdf.parse_html5, "expat": pdf.parse_xml}
    renderers = {name: pdf.PdfRenderer(parse=parse) for name, parse in parsers.items()}

    print(f"{args.runs} interleaved runs; medians in ms; ratio = expat / tinyhtml5")
    print(f"{'document':<28}{'parse':>7}{'parse':>7}{'render':>8}{'render':>8}{'ratio':>7}  bytes")
    print(f"{'':<28}{'html5':>7}{'expat':>7}{'html5':>8}{'expat':>8}")
    for name, payload in payloads.items():
        html = engine.html(engine.validate(payload), link_css=False)
        same = len({r.render(html, stamp=STAMP).data for r in renderers.values()}) == 1
        parse = {key: median_ms(lambda p=p, h=html: p(h), args.runs) for key, p in parsers.items()}
        times: dict[str, list[float]] = {key: [] for key in renderers}
        for _ in range(args.runs):
            for key, renderer in renderers.items():
                t0 = time.perf_counter()
                renderer.render(html, stamp=STAMP)
                times[key].append(time.perf_counter() - t0)
        theirs, ours = (statistics.median(times[key]) * 1000 for key in renderers)
        print(
            f"{name:<28}{parse['tinyhtml5']:>7.1f}{parse['expat']:>7.1f}"
            f"{theirs:>8.1f}{ours:>8.1f}{ours / theirs:>7.2f}  {'same' if same else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
