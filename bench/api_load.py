"""The API under load: invoice requests from 1 client, then from 8 concurrent clients,
against a real server process on 127.0.0.1 with the embedded defaults (SQLite, archive
and outbox folders in a temporary directory). One run; errors are counted.

Three request kinds, each with fresh business references:
* "issue": POST /v1/documents, answered 201 with the issued document (numbered, rendered,
  archived);
* "accept": the same with ``Prefer: respond-async``, answered 202, issued in the background;
* "fetch": GET of an issued invoice's PDF.

Issue 26's target: at 75 % of the saturated throughput, p95 <= 1.5x and p99 <= 2x the
single-client p50.

Clients that never pause measure the server at saturation: with N of them, CPU-bound
requests wait about N / throughput each (Little's law). So the saturated throughput of
issuing is found first, by doubling the clients that never pause (1, 2, 4, 8, 16) until
the rate grows by less than 5 %; the highest rate seen is the saturated one. Then
issuing is measured with 16 clients paced: together they send at a fixed rate, a share
(50 %, 75 %) of the saturated throughput, each request sent at its scheduled time (or
at once, if its client is still waiting: counted as "late"), --paced-requests of them
(400 by default, so that p99 is the fifth slowest, not the slowest).

This machine's speed moves by a quarter from one minute to the next, so a pace set from
a rate measured minutes earlier can be 60 % or 95 % of the server's rate when it is used,
and a p95 divided by a p50 measured minutes apart carries that drift whole. So just
before each paced run the single client's p50 and the saturated rate (with the clients
that reached it) are measured again, and the pace and the ratios use those; the ratios
against the first single-client p50 are printed too. After the run the saturated rate is
measured once more, to show whether the machine changed under it.

    .venv/bin/python bench/api_load.py [--requests 96] [--paced-requests 400]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from correspondence.kinds import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "01_renewal_pack_es-ES.json"
ENVELOPE = ("document", "insurer", "policyholder", "account_executive", "broker", "policy")


def invoice(reference: str) -> dict[str, Any]:
    """The renewal sample's premium invoice as a document of its own, numbered by us."""
    pack = json.loads(SAMPLE.read_text("utf-8"))
    payload = copy.deepcopy({key: pack[key] for key in ENVELOPE})
    payload["document"]["type"] = "premium_invoice"
    payload["document"]["our_reference"] = reference
    payload.update(copy.deepcopy(pack["premium_invoice"]))
    del payload["invoice"]["number"]
    return payload


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(
    base: str,
    key: str,
    clients: int,
    requests: int,
    mode: str,
    pdfs: list[str],
    rate: float | None = None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    if mode == "accept":
        headers["Prefer"] = "respond-async"
    latencies: list[float] = []
    errors: dict[int, int] = {}
    late = [0]

    start = time.perf_counter()

    def one_client(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            for i in range(requests // clients):
                if rate is not None:  # request i of client n is the (i * clients + n)th
                    wait = start + (i * clients + n) / rate - time.perf_counter()
                    if wait < -0.1 / rate:
                        late[0] += 1
                    time.sleep(max(0.0, wait))
                t0 = time.perf_counter()
                if mode == "fetch":
                    response = http.get(pdfs[(n + i) % len(pdfs)])
                else:
                    response = http.post(
                        "/v1/documents", json=invoice(f"LOAD-{uuid.uuid4().hex[:10]}")
                    )
                latencies.append(time.perf_counter() - t0)
                if response.status_code >= 400:
                    errors[response.status_code] = errors.get(response.status_code, 0) + 1
                elif mode == "issue" and len(pdfs) < 50:
                    pdfs.append(response.json()["links"]["pdf"])

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one_client, range(clients)))
    elapsed = time.perf_counter() - start
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "rate": len(latencies) / elapsed,
        "errors": errors,
        "n": len(latencies),
        "late": late[0],
    }


def drain(base: str, key: str) -> None:
    """Wait until no accepted document is waiting to be issued."""
    headers = {"Authorization": f"Bearer {key}"}
    while any(
        httpx.get(f"{base}/v1/documents", params={"status": status}, headers=headers).json()[
            "total"
        ]
        for status in ("queued", "issuing")
    ):
        time.sleep(0.5)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def row(label: str, clients: str, m: dict[str, Any], note: str = "") -> None:
    print(
        f"{label:<8}{clients:>9}{m['p50']:>9.1f}{m['p95']:>9.1f}{m['p99']:>9.1f}"
        f"{m['rate']:>8.1f}  {sum(m['errors'].values())} {m['errors'] or ''}"
        f"  load {load_average()}{note}"
    )


def saturate(base: str, key: str, requests: int, pdfs: list[str]) -> tuple[float, float, int]:
    """Issue with 1, 2, 4, 8, 16 clients that never pause, until doubling them adds less
    than 5 %; returns (the single client's p50, the highest rate seen, its clients)."""
    single, best, best_clients, clients = 0.0, 0.0, 1, 1
    while clients <= 16:
        drain(base, key)
        m = load(base, key, clients, max(requests, 4 * clients), "issue", pdfs)
        row("issue", str(clients), m)
        if clients == 1:
            single = m["p50"]
        grew = m["rate"] > best * 1.05
        if m["rate"] > best:
            best, best_clients = m["rate"], clients
        if clients > 1 and not grew:
            break
        clients *= 2
    return single, best, best_clients


def paced(
    base: str, key: str, args: argparse.Namespace, pdfs: list[str], share: float, clients: int
) -> dict[str, Any]:
    """One paced run at ``share`` of the saturated rate measured just before it, with
    the single-client p50 measured just before that; the rate once more after it."""
    drain(base, key)
    single = load(base, key, 1, max(8, args.requests // 3), "issue", pdfs)
    row("issue", "1 (now)", single)
    drain(base, key)
    saturated = load(base, key, clients, max(args.requests, 4 * clients), "issue", pdfs)
    row("issue", f"{clients} (now)", saturated)
    drain(base, key)
    m = load(base, key, 16, args.paced_requests, "issue", pdfs, rate=share * saturated["rate"])
    drain(base, key)
    after = load(base, key, clients, max(args.requests, 4 * clients), "issue", pdfs)
    row("issue", f"{clients} (after)", after)
    return {**m, "single": single["p50"], "saturated": saturated["rate"], "after": after["rate"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--paced-requests", type=int, default=400)
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    parser.add_argument("--issue-only", action="store_true", help="skip accept and fetch")
    args = parser.parse_args()
    if not args.port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="correspondence-load-"))
    env = {**os.environ, "CORRESPONDENCE_DATA_DIR": str(data)}
    cli = [sys.executable, "-m", "correspondence.cli"]
    key = subprocess.run(
        [*cli, "keys", "create", "--name", "load", "--scopes", "documents:write", "documents:read"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            assert server.poll() is None, "the API stopped"
            time.sleep(0.2)
        pdfs: list[str] = []
        load(base, key, 2, 8, "issue", pdfs)  # warm up every render worker
        print(f"{args.requests} requests per unpaced run, {args.paced_requests} per paced run;")
        print("latencies in ms")
        print(f"{'request':<8}{'clients':>9}{'p50':>9}{'p95':>9}{'p99':>9}{'req/s':>8}  errors")
        single, saturated, clients = saturate(base, key, args.requests, pdfs)
        print(
            f"saturated: {saturated:.2f} issued/s with {clients} clients;"
            f" single-client p50 {single:.1f} ms"
        )
        for share in (0.5, 0.75):
            m = paced(base, key, args, pdfs, share, clients)
            now = m["single"]
            row(
                "issue",
                "16 paced",
                m,
                f"\n{'':<17}sent at {share:.0%} of {m['saturated']:.2f}/s (the rate just"
                f" before; {m['after']:.2f}/s just after), {m['late']} late;"
                f"\n{'':<17}/ single p50 just before ({now:.1f} ms): p50 {m['p50'] / now:.2f},"
                f" p95 {m['p95'] / now:.2f}, p99 {m['p99'] / now:.2f}"
                f" (targets at 75 %: p95 1.5, p99 2)"
                f"\n{'':<17}/ first single p50 ({single:.1f} ms): p95 {m['p95'] / single:.2f},"
                f" p99 {m['p99'] / single:.2f}",
            )
        if not args.issue_only:
            for mode in ("accept", "fetch"):
                for clients in (1, 8):
                    drain(base, key)  # measure each run on an idle server
                    m = load(base, key, clients, args.requests, mode, pdfs)
                    row(mode, str(clients), m)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
