"""Each of the renderer's shortcuts through WeasyPrint's private parts
(`correspondence/pdf_fast.py`) on against off, in one run, rotated and interleaved.

Warm renderers render the same HTML to PDF/A-3b with the payload attached, as the
engine does: all shortcuts on (as shipped), all on but one (for each shortcut), and
none (WeasyPrint's public API only), and all on again, an A/A control whose ratio to the
first shows this benchmark's own noise. Each round runs every renderer once, starting from
the next one each round, so that drift and the order hit all alike. Each render is timed
by the wall clock and by the CPU time of the rendering thread, which other processes on a
busy machine disturb far less. A shortcut's ratio is "all on" over "all on but it": below
1 it saves time. The bytes of all are compared: they must be the same.

    .venv/bin/python bench/shortcuts.py [--runs 15]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from correspondence.config import Settings
from correspondence.engine import PAYLOAD_ATTACHMENT, Engine
from correspondence.kinds import KINDS
from correspondence.pdf import PdfAttachment, PdfRenderer
from correspondence.pdf_fast import ALL, NONE
from tests.factories import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
SHORTCUTS = ("user_agent",)
RENDERERS = {
    "all": ALL,
    **{f"all but {name}": dataclasses.replace(ALL, **{name: False}) for name in SHORTCUTS},
    "none": NONE,
    "all, again": ALL,
}


def documents() -> dict[str, dict[str, Any]]:
    return {
        "invoice, 25 lines": sample_with_lines(25),
        "letter": KINDS["credit_limit_decision"].sample(),
        "renewal pack": KINDS["renewal_pack"].sample(),
    }


def rotated_ms(
    renderers: dict[str, PdfRenderer], html: str, attachment: PdfAttachment, runs: int
) -> tuple[dict[str, float], dict[str, float], bool]:
    """Median wall and CPU ms of each renderer over ``runs`` rounds, the order rotated each
    round, and whether all wrote the same bytes."""
    names = list(renderers)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    written = set()
    for name in names:  # warm up, and the bytes
        written.add(renderers[name].render(html, attachments=[attachment], stamp=STAMP).data)
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            t0, c0 = time.perf_counter(), time.thread_time()
            renderers[name].render(html, attachments=[attachment], stamp=STAMP)
            cpu[name].append((time.thread_time() - c0) * 1000)
            wall[name].append((time.perf_counter() - t0) * 1000)
    medians = [{name: statistics.median(v) for name, v in t.items()} for t in (wall, cpu)]
    return medians[0], medians[1], len(written) == 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    engine = Engine(Settings())
    renderers = {name: PdfRenderer(shortcuts=s) for name, s in RENDERERS.items()}
    print(f"{args.runs} rotated rounds; medians in ms, wall / CPU; ratio = on / off")
    header = "".join(f"{name:>24}" for name in RENDERERS)
    print(f"{'document':<20}{header}  bytes")
    ratios: dict[str, list[str]] = {}
    for label, payload in documents().items():
        validated = engine.validate(payload)
        html = engine.html(validated, link_css=False)
        body = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True)
        attachment = PdfAttachment(PAYLOAD_ATTACHMENT, body.encode(), "Validated request payload")
        wall, cpu, same = rotated_ms(renderers, html, attachment, args.runs)
        cells = "".join(f"{f'{wall[n]:.1f} / {cpu[n]:.1f}':>24}" for n in RENDERERS)
        print(f"{label:<20}{cells}  {'same' if same else 'DIFFERENT'}", flush=True)
        pairs = {name: f"all but {name}" for name in SHORTCUTS} | {
            "all (against none)": "none",
            "A/A control": "all, again",
        }
        for name, off in pairs.items():
            ratio = f"{wall['all'] / wall[off]:.2f} / {cpu['all'] / cpu[off]:.2f}"
            ratios.setdefault(name, []).append(f"{label} {ratio}")
    print("\nratio on / off, wall / CPU (below 1 saves time)")
    for name, values in ratios.items():
        print(f"{name:<20}" + ", ".join(values))


if __name__ == "__main__":
    main()
