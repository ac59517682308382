"""Documents per second with 1 and with 2 warm worker processes, in one run.

For each kind of document, the same validated payloads are rendered by ProcessRenderers
of size 1, then of size 2, from as many submitting threads as there are workers, after a
warm-up. The peak resident memory of every worker is read from /proc (VmHWM) at the end.

    .venv/bin/python bench/throughput.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from procs import descendants, peak_rss

from correspondence.config import Settings
from correspondence.kinds import KINDS, Validated, validate
from correspondence.workers import ProcessRenderers

MB = 2**20
DOCUMENTS = {
    "letter (credit_limit_decision)": "credit_limit_decision",
    "invoice (premium_invoice)": "premium_invoice",
    "renewal pack": "renewal_pack",
}


def rate(pool: ProcessRenderers, validated: Validated, seconds: float) -> tuple[float, int]:
    """Documents per second rendered by ``pool`` kept busy for about ``seconds``."""
    for _ in range(pool.size):
        pool.render(validated)  # warm
    deadline = time.perf_counter() + seconds

    def loop() -> int:
        done = 0
        while time.perf_counter() < deadline:
            pool.render(validated)
            done += 1
        return done

    t0 = time.perf_counter()
    with ThreadPoolExecutor(pool.size) as threads:
        done = sum(threads.map(lambda _: loop(), range(pool.size)))
    return done / (time.perf_counter() - t0), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    settings = Settings(render_wait_seconds=600)
    print(f"{'document':<32}{'1 worker':>10}{'2 workers':>11}{'ratio':>7}{'peak RSS/worker':>17}")
    for name, kind in DOCUMENTS.items():
        validated = validate(KINDS[kind].sample())
        rates, peaks = [], []
        for size in (1, 2):
            pool = ProcessRenderers(settings, size=size)
            try:
                per_second, _ = rate(pool, validated, args.seconds)
                rates.append(per_second)
                workers = [pid for pid in descendants() if peak_rss(pid) > 40 * MB]
                peaks += [peak_rss(pid) for pid in workers]
            finally:
                pool.close()
        print(
            f"{name:<32}{rates[0]:>8.2f}/s{rates[1]:>9.2f}/s{rates[1] / rates[0]:>7.2f}"
            f"{max(peaks) / MB:>14.0f} MB"
        )


if __name__ == "__main__":
    main()
