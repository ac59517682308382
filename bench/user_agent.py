"""WeasyPrint's user-agent stylesheet against ours (`correspondence.pdf.user_agent_stylesheet`:
markers on list items only, no footnote or note pseudo-elements), in one run.

Both render the same HTML through a warm renderer to PDF/A; the two renderers differ only
in their user-agent stylesheet. The bytes are compared too: they must be the same.

    uv run python bench/user_agent.py [--runs 9]
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
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    engine = Engine(Settings())
    payloads = {
        "invoice, 25 lines": sample_with_lines(25),
        "invoice, 250 lines": sample_with_lines(250),
    }
    payloads.update({kind: KINDS[kind].sample() for kind in sorted(KINDS)})
    renderers = {"weasyprint": pdf.PdfRenderer(trimmed_user_agent=False), "ours": engine.pdf}

    def render(html: str, renderer: pdf.PdfRenderer) -> bytes:
        return renderer.render(html, stamp=STAMP).data

    print(f"{args.runs} interleaved runs; medians in ms; ratio = ours / WeasyPrint's")
    print(f"{'document':<28}{'weasyprint':>11}{'ours':>8}{'ratio':>8}  bytes")
    for name, payload in payloads.items():
        html = engine.html(engine.validate(payload), link_css=False)
        same = render(html, renderers["weasyprint"]) == render(html, renderers["ours"])
        times: dict[str, list[float]] = {key: [] for key in renderers}
        for _ in range(args.runs):
            for key, renderer in renderers.items():
                t0 = time.perf_counter()
                render(html, renderer)
                times[key].append(time.perf_counter() - t0)
        theirs, ours = (statistics.median(times[key]) * 1000 for key in renderers)
        print(
            f"{name:<28}{theirs:>11.1f}{ours:>8.1f}{ours / theirs:>8.2f}  "
            f"{'same' if same else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
