"""Workers that freeze their warm objects out of the garbage collector
(`correspondence.render_worker.settle`, as shipped) against workers that do not, in one run.

Two single-worker pools, started the same way but for the freeze, render the same
documents in turn, so both see the same machine. Python's full collections walk every
tracked object; a warm worker holds some 110,000 (WeasyPrint, the parsed stylesheet,
templates, Babel's data), so each full collection during a render costs it tens of ms.

    .venv/bin/python bench/history/gc_freeze.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics

from pairs import interleaved_ms

from correspondence.config import Settings
from correspondence.kinds import KINDS, validate
from correspondence.workers import ProcessRenderers
from tests.factories import sample_with_lines


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    documents = {
        "invoice, 25 lines": validate(sample_with_lines(25)),
        "letter": validate(KINDS["credit_limit_decision"].sample()),
        "renewal pack": validate(KINDS["renewal_pack"].sample()),
    }
    pools = {
        "plain": ProcessRenderers(Settings(), size=1, freeze=False),
        "frozen": ProcessRenderers(Settings(), size=1),
    }
    try:
        frozen = {name: pool.frozen_objects()[0] for name, pool in pools.items()}
        print(f"objects frozen per worker: {frozen}")
        print(f"{args.runs} alternating renders per pool; ms; ratio = frozen / plain")
        print(f"{'document':<20}{'':>8}{'mean':>8}{'median':>8}{'p95':>8}")
        for name, validated in documents.items():
            for pool in pools.values():
                pool.render(validated)
            paths = {key: (lambda p=pool, v=validated: p.render(v)) for key, pool in pools.items()}
            times = interleaved_ms(paths, args.runs)
            stats = {
                key: (statistics.mean(v), statistics.median(v), p95(v)) for key, v in times.items()
            }
            for key in pools:
                mean, median, tail = stats[key]
                label = name if key == "plain" else ""
                print(f"{label:<20}{key:>8}{mean:>8.1f}{median:>8.1f}{tail:>8.1f}")
            ratios = [f / p for f, p in zip(stats["frozen"], stats["plain"], strict=True)]
            print(f"{'':<20}{'ratio':>8}" + "".join(f"{r:>8.2f}" for r in ratios))
    finally:
        for pool in pools.values():
            pool.close()


if __name__ == "__main__":
    main()
