"""The whole pipeline against the render alone: documents per second, in one run.

Pipeline: PostgreSQL (Debian's binaries), SeaweedFS (`weed mini`, every port off its
default so that a test run's SeaweedFS on 8333/9333/8888… is never touched), Redis, the
API (`correspondence serve`, uvicorn) and two Celery workers (`correspondence worker
--concurrency=1`: two rendering processes), all on 127.0.0.1 and configured by
environment variables as in production. A batch of mixed documents goes through
`POST /v1/batches`; the clock stops when the batch reports every document issued, and
the archive is then checked to hold each one's PDF and payload.

Render alone: two processes, each with the worker's own renderer
(`build_renderers(Settings(render_processes=0))`, warmed and frozen as a Celery child
is), render the same documents, numbered as the pipeline numbers them, taking them one
at a time from a shared queue: no registry, no archive, no broker.

In turns (``--windows``, 8 by default): this machine's speed moves by a quarter within a
few minutes, so a render alone measured before and after a four-minute pipeline says
little about the pipeline's minutes. The render alone renders a sixteenth of the
documents; the pipeline takes the batch and runs until an eighth is issued, then its
Celery workers are paused (SIGSTOP on their main processes, which hand out the tasks;
the children finish the task they hold) while the render alone takes its next eighth;
and so on, ending with the last sixteenth alone (bench/turns.py). The pipeline's time is
its running time: from each turn's start to the moment both children fell quiet.

The mix (of 2,000): 60 % premium invoices (es-ES, numbered by the service), 10 % renewal
packs (es-ES, numbered), 30 % letters (the five letter kinds in turn), interleaved.
Per-document time in each stage is read from the service's own `/metrics` (every
process's, through PROMETHEUS_MULTIPROC_DIR), and the CPU time each component used.

    .venv/bin/python bench/pipeline.py [--documents 2000] [--windows 8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from correspondence.config import Settings
from correspondence.kinds import KINDS, validate
from tests.api.test_celery_workers import LETTERS, sample_as
from tests.api.test_documents import unnumbered_es_invoice
from tests.servers import CeleryWorker, postgresql, redis_server, settings_environment

from pipeline_parts import (  # isort: skip (bench/ is the script's own folder on sys.path)
    READY,
    api_process,
    archived,
    create_key,
    load_average,
    machine_ticks,
    make_bucket,
    pids_listening,
    postmaster,
    scrape,
    seaweedfs,
    stolen_since,
    tree_cpu,
    wait_workers_ready,
)
from turns import Alone, Turns, slices  # isort: skip


def mixed(count: int) -> list[dict[str, Any]]:
    """``count`` documents: 60 % invoices, 10 % renewal packs, 30 % letters, interleaved."""
    items: list[dict[str, Any]] = []
    letters = 0
    for i in range(count):
        slot = i % 10
        if slot < 6:
            items.append(unnumbered_es_invoice(f"PIPE-INV-{i:05d}"))
        elif slot == 6:
            pack = sample_as("renewal_pack", f"PIPE-PACK-{i:05d}")
            del pack["premium_invoice"]["invoice"]["number"]
            items.append(pack)
        else:
            items.append(sample_as(LETTERS[letters % len(LETTERS)], f"PIPE-LET-{i:05d}"))
            letters += 1
    return items


def numbered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads as the workers render them: invoices and packs numbered in order."""
    out, n = [], 0
    for payload in items:
        kind = KINDS[payload["document"]["type"]]
        if kind.numbering(validate(payload).doc) is not None:
            n += 1
            payload = kind.with_number(payload, f"PR-2026-{n:06d}")
        out.append(payload)
    return out


# --- the pipeline ---------------------------------------------------------------------------


def pipeline(
    items: list[dict[str, Any]], root: Path, alone: Alone, turns: list[range]
) -> dict[str, Any]:
    """The batch through the pipeline, paused ``len(turns) - 2`` times for a turn of the
    render alone (and one turn just before it starts and one just after it ends).

    A pause stops the Celery workers' main processes (SIGSTOP), so that no task is handed
    out, and waits until both children have finished the task they hold; the pipeline's
    time runs from the end of a turn of the render alone to the moment the last child
    fell quiet, so a child idle while the other finishes counts against the pipeline. The
    API, PostgreSQL, SeaweedFS and Redis have no work meanwhile (the CPU they use anyway
    is counted, and printed)."""
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgresql())
        broker = stack.enter_context(redis_server())
        endpoint, weed_pid = stack.enter_context(seaweedfs(root / "seaweedfs"))
        bucket = "bench-pipeline"
        make_bucket(endpoint, bucket)
        settings = Settings(
            data_dir=root / "data",
            database_url=pg_url,
            archive="s3",
            s3_endpoint_url=endpoint,
            s3_bucket=bucket,
            s3_access_key_id="bench",
            s3_secret_access_key="bench",
            broker_url=broker,
        )
        metrics_dir = root / "metrics"
        metrics_dir.mkdir()
        env = {
            **os.environ,
            **settings_environment(settings),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        base, api_pid = stack.enter_context(api_process(env, root / "api.log"))
        writer = create_key(env, "documents:write", "documents:read:all")
        scraper = create_key(env, "metrics:read")
        logs = [root / "worker-1.log", root / "worker-2.log"]
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # CeleryWorker's env
        try:
            workers = [CeleryWorker(settings, f"w{i + 1}", log) for i, log in enumerate(logs)]
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        for worker in workers:
            stack.callback(worker.stop)
        wait_workers_ready(logs)
        groups = {
            "Celery workers": [w.process.pid for w in workers],
            "API (and its idle render processes)": [api_pid],
            "PostgreSQL": [postmaster(int(pg_url.rsplit(":", 1)[1].split("/")[0]))],
            "SeaweedFS": [weed_pid],
            "Redis": [int(p) for p in pids_listening(broker)],
        }
        services = [p for name, pids in groups.items() if name != "Celery workers" for p in pids]
        turn = Turns(alone, services)
        turn.alone(turns[0])
        cpu0 = {name: tree_cpu(pids) for name, pids in groups.items()}
        before = scrape(base, scraper)
        load0 = load_average()
        http = stack.enter_context(
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {writer}"}, timeout=600)
        )
        t0 = turn.resumed = time.perf_counter()
        accepted = http.post("/v1/batches", json=items)
        assert accepted.status_code == 202, accepted.text
        posted = time.perf_counter() - t0
        accept_cpu = {name: tree_cpu(pids) - cpu0[name] for name, pids in groups.items()}
        progress_url = accepted.json()["links"]["self"]

        def issued() -> int:
            return int(http.get(progress_url).json()["counts"].get("issued", 0))

        shown = t0
        mains = [w.process.pid for w in workers]
        windows = len(turns) - 1
        pauses = [round(len(items) * i / windows) for i in range(1, windows)]  # issued by then
        while not (progress := http.get(progress_url).json())["done"]:
            assert time.perf_counter() - t0 < 7200, progress
            if time.perf_counter() - shown > 60:
                shown = time.perf_counter()
                print(f"  {shown - t0:.0f} s: {progress['counts']}", file=sys.stderr, flush=True)
            if pauses and progress["counts"].get("issued", 0) >= pauses[0]:
                turn.pause(mains, turns[len(turns) - 1 - len(pauses)], issued)
                pauses.pop(0)
                continue
            left = len(items) - progress["counts"].get("issued", 0)
            time.sleep(1.0 if left > 20 else 0.1)  # each look costs the API a query
        assert not pauses, f"the batch ended before the render alone's turns at {pauses}"
        finished = time.perf_counter()
        turn.windows.append((finished - turn.resumed, len(items) - turn.issued))
        elapsed = finished - t0 - turn.paused
        cpu = {name: tree_cpu(pids) - cpu0[name] for name, pids in groups.items()}
        load1 = load_average()
        after = scrape(base, scraper)
        assert progress["counts"] == {"issued": len(items)}, progress
        objects = archived(endpoint, bucket)
        assert objects == 2 * len(items), f"{objects} objects archived for {len(items)} documents"
        started = sum(len(READY.findall(log.read_text(errors="replace"))) for log in logs)
        turn.alone(turns[-1])
        return {
            "turns": turn,
            "seconds": elapsed,
            "posted": posted,
            "cpu": cpu,
            "accept cpu": accept_cpu,
            "stages": {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after},
            "load": (load0, load1),
            "replaced children": started - len(logs),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument(
        "--windows",
        type=int,
        default=8,
        help="turns of the pipeline, each between two turns of the render alone"
        " (1: half the render alone before the pipeline, half after)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    args = parser.parse_args()
    items = mixed(args.documents)
    counts: dict[str, int] = {}
    for item in items:
        counts[item["document"]["type"]] = counts.get(item["document"]["type"], 0) + 1
    print(f"{args.documents} documents: {json.dumps(counts)}")
    root = Path(tempfile.mkdtemp(prefix="correspondence-pipeline-"))
    turns = slices(args.documents, args.windows)
    alone: Alone | None = None
    try:
        alone = Alone(numbered(items))
        # The two take turns: this machine's speed moves by a quarter within minutes
        # (bench/README.md), so each turn of the pipeline is compared with the turns of
        # the render alone on either side of it, and never with one minutes away.
        ticks = machine_ticks()
        run = pipeline(items, root, alone, turns)
        print(
            f"pipeline and render alone in turns: load average {run['load'][0]} →"
            f" {run['load'][1]}; {stolen_since(ticks)}",
            flush=True,
        )
    finally:
        if alone is not None:
            alone.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"logs kept in {root}")
    turn: Turns = run["turns"]
    print("turn  render alone: documents  s  ms CPU a document   pipeline: documents  s")
    for i, (seconds, cpu, _) in enumerate(turn.alones):
        done = len(turns[i])
        line = f"{i + 1:>4}  {done:>24} {seconds:>6.1f} {cpu / done * 1000:>10.1f}"
        if i < len(turn.windows):
            line += f" {turn.windows[i][1]:>22} {turn.windows[i][0]:>6.1f}"
        print(line)
    alone_s = sum(t[0] for t in turn.alones)
    alone_cpu = sum(t[1] for t in turn.alones)
    rate, alone_rate = args.documents / run["seconds"], args.documents / alone_s
    print(
        f"pipeline, 2 Celery workers: {run['seconds']:.1f} s running ({run['posted']:.1f} s to"
        f" accept the batch; {turn.paused:.1f} s paused, not counted), {rate:.2f} documents/s;"
        f" Celery children replaced: {run['replaced children']}"
    )
    print(f"render alone, 2 processes: {alone_s:.1f} s, {alone_rate:.2f} documents/s")
    print(f"pipeline / render alone: {rate / alone_rate:.3f}  (target >= 0.9)")
    if len(turn.windows) > 1:
        print(
            f"  after the first turns (the pipeline's holds the batch's acceptance):"
            f" {turn.steady():.3f}; the pipeline's other processes used {turn.watched_cpu:.1f} s"
            f" of CPU while it was paused"
        )
    pipeline_cpu = sum(run["cpu"].values())
    print(
        f"documents per CPU second, pipeline (every component) / render alone:"
        f" {alone_cpu / pipeline_cpu:.3f}"
    )
    # The wall ratio splits into the CPU ratio and how much of the two cores each side's
    # processes used (an identity: it says where the difference is, not that it is right).
    # The services' CPU while the pipeline was paused is left out: the pauses are not in
    # its time.
    running_cpu = pipeline_cpu - turn.watched_cpu
    used, used_alone = running_cpu / (2 * run["seconds"]), alone_cpu / (2 * alone_s)
    print(
        f"  the same without the services' CPU while paused: {alone_cpu / running_cpu:.3f};"
        f" CPU used, of the two cores: {used:.1%} over the pipeline's running time,"
        f" {used_alone:.1%} over the render alone's: {used / used_alone:.3f}"
        f" (the wall ratio is the CPU ratio times this)"
    )
    print("per document, mean ms (from /metrics; queue includes the pauses):")
    stages = run["stages"]
    for stage in ("queue", "reserve", "render", "sign", "archive", "record"):
        count = stages.get(f"{stage}_count", 0.0)
        if count:
            mean = stages[f"{stage}_sum"] / count * 1000
            print(f"  {stage:<8}{mean:>10.1f}   ({count:.0f} observed)")
    print(f"  render alone: {alone_s / args.documents * 2 * 1000:.1f} ms per document per process")
    print("CPU seconds during the pipeline run (of which accepting the batch), ms a document:")
    for name, seconds in run["cpu"].items():
        each = seconds / args.documents * 1000
        print(f"  {name:<40}{seconds:>8.1f}  ({run['accept cpu'][name]:.1f}) {each:>8.1f}")
    each = alone_cpu / args.documents * 1000
    print(f"  {'render alone (both processes)':<40}{alone_cpu:>8.1f}        {each:>8.1f}")


if __name__ == "__main__":
    main()
