"""A 5,000-line invoice: sections laid out side by side in warm worker processes and
joined with pypdf, against the same invoice laid out whole in one process. One run.

Each path runs in warm worker processes (ProcessRenderers), so the peak resident memory
of every process is read from /proc (VmHWM). "Whole" is the same renderer told never to
section (section_rows above the line count), i.e. plain WeasyPrint on one big table.

    .venv/bin/python bench/long_invoice.py [--lines 5000] [--skip-whole]
"""

from __future__ import annotations

import argparse
import time

from procs import descendants, peak_rss

from correspondence.config import Settings
from correspondence.kinds import validate
from correspondence.workers import ProcessRenderers
from tests.factories import sample_with_lines

MB = 2**20


def run(settings: Settings, size: int, lines: int) -> tuple[float, int, list[int]]:
    validated = validate(sample_with_lines(lines))
    pool = ProcessRenderers(settings, size=size)
    try:
        pool.warm()
        t0 = time.perf_counter()
        rendered = pool.render(validated)
        seconds = time.perf_counter() - t0
        workers = [peak_rss(pid) for pid in descendants()]
    finally:
        pool.close()
    return seconds, rendered.document.pages, sorted(workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--skip-whole", action="store_true", help="only the sectioned path")
    args = parser.parse_args()
    settings = Settings(render_wait_seconds=600)
    seconds, pages, peaks = run(settings, 2, args.lines)
    print(
        f"sections ({settings.section_rows} rows) in 2 workers: {seconds:6.1f} s, {pages} pages,"
        f" peak RSS per process {', '.join(f'{p / MB:.0f}' for p in peaks)} MB"
    )
    if args.skip_whole:
        return
    whole = Settings(render_wait_seconds=3600, section_rows=args.lines)
    w_seconds, w_pages, w_peaks = run(whole, 1, args.lines)
    print(
        f"whole, in 1 worker:                 {w_seconds:6.1f} s, {w_pages} pages,"
        f" peak RSS per process {', '.join(f'{p / MB:.0f}' for p in w_peaks)} MB"
    )
    print(
        f"ratio sections/whole: time {seconds / w_seconds:.2f}, peak worker memory "
        f"{max(peaks) / max(w_peaks):.2f}"
    )


if __name__ == "__main__":
    main()
