"""A long run of one render worker with no replacement: resident memory and render time
at the end against the start (issue 26: 20,000 renders, memory growth from render 1,000
to the end <= 10 %, render time at the end <= 1.05x the start, no failure).

This process is the worker: its engine is started and settled (warmed, frozen out of the
garbage collector) exactly as `render_worker.start` does in a worker process, and every
render goes through `render_worker.render_whole`, the function a worker runs for a
request (only the pipe is left out). The documents rotate through every kind's sample in
every locale it can be read in (docs/language.md), pre-validated, so the loop measures
rendering alone. Resident memory (VmRSS) is read from /proc every `--every` renders.

Render time, start against end: each document's median over the first `--window`
rotations after `--from` against its median over the last `--window` rotations; the
ratio reported is their geometric mean over the documents, so the mix of kinds does not
move it. Both wall time and this thread's CPU time: on a shared machine the load moves
wall times by far more than 5 %, so the CPU ratio is the one to read there.

With `--tracemalloc`, Python allocations are traced from render `--from` on and the
biggest growths by line are printed at the end (slow: use it with a few hundred renders).

    .venv/bin/python bench/soak.py [--renders 20000] [--from 1000] [--every 100]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import math
import os
import statistics
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from correspondence import render_worker
from correspondence.config import Settings
from correspondence.engine import locales_of
from correspondence.kinds import KINDS, Validated, validate


def rss() -> int:
    """This process's resident set size, bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def malloc_trim() -> None:
    """Hand the C heap's free memory back to the system (glibc), so that RSS counts what
    is in use rather than what malloc keeps for later."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def object_counts() -> Counter[str]:
    """Objects the garbage collector tracks, by type (the frozen ones included)."""
    gc.collect()
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def documents() -> list[tuple[str, Validated, str]]:
    """(name, validated, locale) for every kind's sample in every locale it can be read in."""
    chosen = []
    for name, kind in KINDS.items():
        validated = validate(kind.sample())
        chosen += [(f"{name}.{locale}", validated, locale) for locale in locales_of(validated)]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20_000)
    parser.add_argument("--from", dest="start", type=int, default=1_000, help="memory baseline")
    parser.add_argument("--every", type=int, default=100, help="renders between RSS samples")
    parser.add_argument("--window", type=int, default=3, help="rotations timed at each end")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--trim", action="store_true", help="also sample RSS after malloc_trim(0)")
    parser.add_argument(
        "--objects", action="store_true", help="count objects by type at --from and the end"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="stop early, reporting what was reached"
    )
    args = parser.parse_args()
    if args.start >= args.renders:
        parser.error("--from must be below --renders")

    render_worker.start(Settings(), True)  # as a worker starts: engine built, warmed, frozen
    docs = documents()
    rotation = len(docs)
    times: list[list[float]] = [[] for _ in docs]  # wall, per document, in order
    cpus: list[list[float]] = [[] for _ in docs]  # this thread's CPU time, likewise
    samples: list[tuple[int, int]] = []  # (renders done, RSS)
    failures: dict[str, int] = {}
    baseline = rss()
    snapshot = None
    counts: Counter[str] = Counter()
    began = time.perf_counter()
    renders = args.renders
    for n in range(1, args.renders + 1):
        if args.max_seconds is not None and time.perf_counter() - began > args.max_seconds:
            renders = n - 1
            print(f"  stopped at {renders} renders: --max-seconds {args.max_seconds:.0f}")
            break
        index = (n - 1) % rotation
        name, validated, locale = docs[index]
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            render_worker.render_whole(validated, locale, False)
        except Exception as error:  # counted, never hidden
            key = f"{name}: {type(error).__name__}"
            failures[key] = failures.get(key, 0) + 1
        times[index].append(time.perf_counter() - t0)
        cpus[index].append(time.thread_time() - c0)
        if n == args.start:
            baseline = rss()
            counts = object_counts() if args.objects else Counter()
            if args.tracemalloc:
                tracemalloc.start(4)
                snapshot = tracemalloc.take_snapshot()
        if n % args.every == 0 or n == args.renders:
            samples.append((n, rss()))
            if args.trim:
                malloc_trim()
                print(f"  {n:>6} renders  RSS after malloc_trim {rss() / 2**20:7.1f} MB")
            recent = [c for per_doc in cpus for c in per_doc[-(args.every // rotation) :]]
            print(
                f"  {n:>6} renders  RSS {samples[-1][1] / 2**20:7.1f} MB"
                f"  mean CPU {statistics.fmean(recent) * 1000:6.1f} ms"
                f"  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    elapsed = time.perf_counter() - began

    end = samples[-1][1]
    first = args.start // rotation + 1  # the first whole rotation after --from

    def end_over_start(series: list[list[float]]) -> float:
        ratios = []
        for per_doc in series:
            early = per_doc[first : first + args.window]
            late = per_doc[-args.window :]
            if early and late:
                ratios.append(statistics.median(late) / statistics.median(early))
        if not ratios:  # stopped before a whole window after --from
            return math.nan
        return math.exp(statistics.fmean(math.log(r) for r in ratios))

    load = os.getloadavg()
    print(
        f"{renders} renders of {rotation} documents (every kind x locale) in one worker,"
        f" no replacement, {elapsed:.0f} s; load average {load[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"RSS at render {args.start}: {baseline / 2**20:.1f} MB; at the end: {end / 2**20:.1f} MB;"
        f" growth {(end / baseline - 1) * 100:+.1f} % (target <= 10 %)"
    )
    print(
        f"render time, last {args.window} rotations / first {args.window} after render"
        f" {args.start}: wall {end_over_start(times):.3f}, CPU {end_over_start(cpus):.3f}"
        " (geometric mean over documents; target <= 1.05)"
    )
    print(f"failures: {sum(failures.values())} {failures or ''}")
    if args.objects:
        grown = (object_counts() - counts).most_common(15)
        print(f"objects gained since render {args.start}, by type: {grown}")
    if snapshot is not None:
        later = tracemalloc.take_snapshot()
        traced = sum(s.size for s in later.statistics("filename"))
        before = sum(s.size for s in snapshot.statistics("filename"))
        print(
            f"Python allocations alive: {before / 2**20:.2f} MB at render {args.start},"
            f" {traced / 2**20:.2f} MB at the end"
        )
        print("biggest Python allocation growths since render", args.start)
        for stat in later.compare_to(snapshot, "lineno")[:15]:
            print(f"  {stat}")
        for stat in later.compare_to(snapshot, "traceback")[:4]:
            print(f"  {stat}")
            for line in stat.traceback.format()[-12:]:
                print(f"    {line}")


if __name__ == "__main__":
    main()
