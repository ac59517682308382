"""PDF/A written with every stream compressed once (`correspondence.pdf.compress_streams_once`,
as shipped) against pydyf's own writing, which compresses each stream a second time to
hash the file for its identifier, in one run.

Two warm renderers differ only in that finisher; both render the same HTML to PDF/A-3b
and the bytes are compared: they must be the same.

    uv run python bench/compress_once.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from correspondence import pdf
from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from correspondence.kinds.premium_invoice import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    engine = Engine(Settings())
    payloads = {
        "invoice, 25 lines": sample_with_lines(25),
        "invoice, 250 lines": sample_with_lines(250),
        "credit_limit_decision": KINDS["credit_limit_decision"].sample(),
        "renewal_pack": KINDS["renewal_pack"].sample(),
    }
    renderers = {"twice": pdf.PdfRenderer(compress_once=False), "once": engine.pdf}

    print(f"{args.runs} interleaved runs; medians in ms; ratio = once / twice")
    print(f"{'document':<24}{'twice':>8}{'once':>8}{'ratio':>8}  bytes")
    for name, payload in payloads.items():
        html = engine.html(engine.validate(payload), link_css=False)
        same = len({r.render(html, stamp=STAMP).data for r in renderers.values()}) == 1
        times: dict[str, list[float]] = {key: [] for key in renderers}
        for _ in range(args.runs):
            for key, renderer in renderers.items():
                t0 = time.perf_counter()
                renderer.render(html, stamp=STAMP)
                times[key].append(time.perf_counter() - t0)
        twice, once = (statistics.median(times[key]) * 1000 for key in renderers)
        print(
            f"{name:<24}{twice:>8.1f}{once:>8.1f}{once / twice:>8.2f}  "
            f"{'same' if same else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
