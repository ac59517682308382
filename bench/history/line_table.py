"""The invoice's line table laid out at its measured widths (`table-layout: fixed`, as
shipped) against WeasyPrint's automatic layout of the same table, in one run.

Both render the same HTML through the same warm renderer (PDF/A, no attachment); the
automatic one only loses the `fixed` class, so WeasyPrint measures every cell itself.
Per-row cost is (ms at N lines - ms at 25 lines) / (N - 25).

    .venv/bin/python bench/history/line_table.py [--runs 9] [--lines 25 --lines 250]
"""

from __future__ import annotations

import argparse
import statistics
import time

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.pdf import PDF_VARIANT
from tests.factories import sample_with_lines

FIXED = '<table class="lines fixed">'
AUTOMATIC = '<table class="lines">'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--lines", type=int, action="append")
    args = parser.parse_args()
    engine = Engine(Settings())
    print(f"{args.runs} interleaved runs; medians in ms; ratio = fixed / automatic")
    print(f"{'lines':>6}{'pages':>6}{'automatic':>11}{'fixed':>8}{'ratio':>8}")
    medians: dict[int, dict[str, float]] = {}
    for lines in args.lines or [25, 250]:
        html = engine.html(engine.validate(sample_with_lines(lines)), link_css=False)
        assert html.count(FIXED) == 1, "the table was measured"
        variants = {"automatic": html.replace(FIXED, AUTOMATIC), "fixed": html}
        pages = {
            name: engine.pdf.render(h, stamp=None, variant=PDF_VARIANT).pages  # type: ignore[arg-type]
            for name, h in variants.items()
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, h in variants.items():
                t0 = time.perf_counter()
                engine.pdf.render(h, stamp=None, variant=PDF_VARIANT)  # type: ignore[arg-type]
                times[name].append(time.perf_counter() - t0)
        m = {name: statistics.median(values) * 1000 for name, values in times.items()}
        medians[lines] = m
        print(
            f"{lines:>6}{pages['fixed']:>6}{m['automatic']:>11.1f}{m['fixed']:>8.1f}"
            f"{m['fixed'] / m['automatic']:>8.2f}"
        )
    counts = sorted(medians)
    if len(counts) > 1:
        low, high = counts[0], counts[-1]
        for name in ("automatic", "fixed"):
            per_row = (medians[high][name] - medians[low][name]) / (high - low)
            print(f"per row, {name}: {per_row:.2f} ms")


if __name__ == "__main__":
    main()
