"""What the benchmarks that compare two ways of rendering share: the documents they
render, paths timed in turn, and whether two renderers wrote the same bytes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from correspondence.kinds import KINDS
from correspondence.pdf import PdfRenderer
from tests.factories import sample_with_lines

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
"""The attachments' date: fixed, so that two renders can be compared byte for byte."""


def invoices_and_kinds() -> dict[str, dict[str, Any]]:
    """A 25- and a 250-line invoice, then every kind's sample."""
    payloads = {
        "invoice, 25 lines": sample_with_lines(25),
        "invoice, 250 lines": sample_with_lines(250),
    }
    payloads.update({kind: KINDS[kind].sample() for kind in sorted(KINDS)})
    return payloads


def interleaved_ms(paths: Mapping[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Each path run ``runs`` times, the paths taking turns; milliseconds, by path."""
    times: dict[str, list[float]] = {key: [] for key in paths}
    for _ in range(runs):
        for key, run in paths.items():
            t0 = time.perf_counter()
            run()
            times[key].append((time.perf_counter() - t0) * 1000)
    return times


def medians(times: Mapping[str, list[float]]) -> dict[str, float]:
    return {key: statistics.median(values) for key, values in times.items()}


def compare_renderers(
    renderers: Mapping[str, PdfRenderer], html: str, runs: int
) -> tuple[dict[str, float], bool]:
    """Median ms of each renderer rendering ``html`` to PDF/A in turn, and whether they
    all wrote the same bytes."""
    same = len({r.render(html, stamp=STAMP).data for r in renderers.values()}) == 1
    paths = {key: (lambda r=r: r.render(html, stamp=STAMP)) for key, r in renderers.items()}
    return medians(interleaved_ms(paths, runs)), same


def same_or_not(same: bool) -> str:
    return "same" if same else "DIFFERENT"
