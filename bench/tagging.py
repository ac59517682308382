"""What tagging costs: the engine's tagged PDF/A-3a (structure tree, artefacts, PDF/UA-1
identification; docs/accessibility.md) against the untagged PDF/A-3b it wrote before, in
one run, on the same HTML, alternated and rotated.

A warm renderer renders each document's HTML both ways, ``--runs`` rounds, the order
swapped each round; each render is timed by the wall clock and by the CPU time of the
rendering thread (which other processes on a busy machine disturb far less). The ratio is
tagged over untagged: 1.25 means tagging adds 25 %.

    .venv/bin/python bench/tagging.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from correspondence.config import Settings
from correspondence.engine import PAYLOAD_ATTACHMENT, Engine
from correspondence.kinds import KINDS
from correspondence.pdf import PDF_VARIANT, PdfAttachment
from tests.factories import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
WAYS: dict[str, dict[str, Any]] = {
    "untagged (PDF/A-3b)": {"variant": "pdf/a-3b", "tagged": False},
    "tagged (PDF/A-3a, PDF/UA-1)": {"variant": PDF_VARIANT, "tagged": True},
}


def documents() -> dict[str, dict[str, Any]]:
    return {
        "letter": KINDS["credit_limit_decision"].sample(),
        "invoice, 25 lines": sample_with_lines(25),
        "renewal pack": KINDS["renewal_pack"].sample(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    engine = Engine(Settings())
    print(
        f"{'document':<20} {'pages':>5} {'untagged ms':>12} {'tagged ms':>10} "
        f"{'wall ratio':>10} {'cpu ratio':>10} {'bytes ratio':>11}"
    )
    for label, payload in documents().items():
        validated = engine.validate(payload)
        html = engine.html(validated, link_css=False)
        attachment = PdfAttachment(PAYLOAD_ATTACHMENT, b"{}", "Validated request payload")
        wall: dict[str, list[float]] = {name: [] for name in WAYS}
        cpu: dict[str, list[float]] = {name: [] for name in WAYS}
        size: dict[str, int] = {}
        pages = 0
        names = list(WAYS)
        for name in names:  # warm up
            engine.pdf.render(html, attachments=[attachment], stamp=STAMP, **WAYS[name])
        for run in range(runs):
            for name in names if run % 2 == 0 else reversed(names):
                w0, c0 = time.perf_counter(), time.thread_time()
                out = engine.pdf.render(html, attachments=[attachment], stamp=STAMP, **WAYS[name])
                cpu[name].append((time.thread_time() - c0) * 1000)
                wall[name].append((time.perf_counter() - w0) * 1000)
                size[name], pages = len(out.data), out.pages
        before, after = names
        w_before, w_after = statistics.median(wall[before]), statistics.median(wall[after])
        c_ratio = statistics.median(cpu[after]) / statistics.median(cpu[before])
        print(
            f"{label:<20} {pages:>5} {w_before:>12.1f} {w_after:>10.1f} "
            f"{w_after / w_before:>10.3f} {c_ratio:>10.3f} {size[after] / size[before]:>11.3f}"
        )


if __name__ == "__main__":
    main()
