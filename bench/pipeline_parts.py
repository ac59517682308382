"""The pipeline benchmark's parts: the servers it starts on 127.0.0.1 (SeaweedFS with
every port moved off its default, the API as `correspondence serve`), the CPU time of
process trees read from /proc, and the issuing stages read from the service's /metrics.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import free_port, wait_for_port

WEED_PORTS = (  # every listening port of `weed mini`, each given a free one of its own
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "s3.metricsPort",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "volume.port.public",
    "filer.port",
    "filer.port.grpc",
    "filer.port.public",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
    "metricsPort",
    "debug.port",
)
STOP_SECONDS = 30
READY = re.compile(r"worker child (\d+) ready")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_ticks() -> tuple[int, int]:
    """(ticks stolen by the hypervisor, all ticks) of every CPU since boot: on a virtual
    machine a neighbour's load takes CPU from ours, which no process here shows."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[7], sum(fields[:8])  # user nice system idle iowait irq softirq steal


def stolen_since(start: tuple[int, int]) -> str:
    """The share of the machine's time stolen since ``start`` (:func:`machine_ticks`)."""
    steal, total = machine_ticks()
    return f"{(steal - start[0]) / max(1, total - start[1]):.1%} stolen"


# --- CPU time of process trees --------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` (and its reaped children)."""
    return _stat(pid)[1]


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds used so far by ``roots`` and every live process below them."""
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = _stat(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), [r for r in roots if r in table]
    while frontier:
        pid = frontier.pop()
        found.add(pid)
        frontier += [p for p, (parent, _) in table.items() if parent == pid and p not in found]
    return sum(table[p][1] for p in found)


# --- pausing a process tree -------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s children (Linux's ``/proc/<pid>/task/<pid>/children``)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def quiet_since(pids: list[int], still: float = 1.0, step: float = 0.02) -> float:
    """Wait until none of ``pids`` has used CPU for ``still`` seconds; return when the last
    one last did (``perf_counter``). A second: a process waiting on a server uses no CPU
    for milliseconds, not a second."""
    seen = {pid: process_cpu(pid) for pid in pids}
    changed = time.perf_counter()
    while time.perf_counter() - changed < still:
        time.sleep(step)
        now = {pid: process_cpu(pid) for pid in pids}
        if now != seen:
            seen, changed = now, time.perf_counter()
    return changed


def postmaster(port: int) -> int:
    """The pid of the PostgreSQL server listening on ``port`` (started by pg_ctl, so not
    our child)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"/postgres") and f"-p {port}".encode() in b" ".join(argv):
                return int(entry.name)
    raise RuntimeError(f"no PostgreSQL server on port {port}")


# --- the servers ----------------------------------------------------------------------------


@contextmanager
def seaweedfs(data_dir: Path) -> Iterator[tuple[str, int]]:
    """`weed mini` on a fresh folder, every port a free one; yields (S3 endpoint, pid)."""
    ports = {option: free_port() for option in WEED_PORTS}
    weed = Path(sys.executable).with_name("weed")
    data_dir.mkdir(parents=True)
    process = subprocess.Popen(
        [
            str(weed),
            "mini",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-metricsIp=127.0.0.1",
            "-webdav=false",
            "-master.telemetry=false",
            f"-filer.localSocket={data_dir}/filer.sock",
            f"-s3.localSocket={data_dir}/s3.sock",
            *(f"-{option}={port}" for option, port in ports.items()),
        ],
        stdout=(data_dir / "weed.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        wait_for_port(ports["s3.port"], timeout=90)
        yield endpoint, process.pid
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_SECONDS)


def s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 3}, connect_timeout=2),
    )


def make_bucket(endpoint: str, bucket: str) -> None:
    client, deadline = s3_client(endpoint), time.monotonic() + 90
    while True:
        try:
            client.create_bucket(Bucket=bucket)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def archived(endpoint: str, bucket: str) -> int:
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(page.get("KeyCount", 0) for page in pages)


@contextmanager
def api_process(
    env: dict[str, str], log: Path, cwd: Path | None = None
) -> Iterator[tuple[str, int]]:
    """`correspondence serve` on a free port (the code in ``cwd``, if given); yields (base
    URL, pid) once /readyz is 200."""
    port = free_port()
    cli = [sys.executable, "-m", "correspondence.cli"]
    process = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; see {log}")
            time.sleep(0.5)
        yield base, process.pid
    finally:
        stop_group(process)


def create_key(env: dict[str, str], *scopes: str) -> str:
    cli = [sys.executable, "-m", "correspondence.cli"]
    return subprocess.run(
        [*cli, "keys", "create", "--name", "bench-" + scopes[0], "--scopes", *scopes],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def wait_workers_ready(logs: list[Path], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not all(READY.search(log.read_text(errors="replace")) for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError("the Celery workers did not start")
        time.sleep(0.3)


# --- metrics --------------------------------------------------------------------------------


def scrape(base: str, key: str) -> dict[str, float]:
    """Sums and counts of the issuing histograms, every kind together: name → value."""
    text = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=60).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_sum", "_count")) and (
                sample.name.startswith("correspondence_render_seconds")
                or sample.name.startswith("correspondence_issue_stage_seconds")
            ):
                label = sample.labels.get("stage", "render")
                name = f"{label}{sample.name[sample.name.rindex('_') :]}"
                found[name] = found.get(name, 0.0) + sample.value
    return found


def pids_listening(url: str) -> list[str]:
    port = url.rsplit(":", 1)[1].split("/")[0]
    found = subprocess.run(
        ["pgrep", "-f", f"redis-server 127.0.0.1:{port}"], capture_output=True, text=True
    )
    return found.stdout.split()
