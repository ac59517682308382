"""The first request after `/readyz` says ready, against the median of the requests after
it, on a freshly started server (issue 23: ratio <= 2).

Each round starts a real server process (`correspondence serve`, embedded defaults in a
fresh temporary directory: SQLite, archive and outbox folders), creates an API key,
polls `/readyz` every 50 ms until it answers 200, then at once issues an invoice
(`POST /v1/documents`, answered 201 once numbered, rendered and archived), then
`--requests` more, one after the other, each with a fresh business reference. The ratio
is the first request's time over the median of the others, in the same round.

    .venv/bin/python bench/first_request.py [--rounds 3] [--requests 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
from api_load import invoice

CLI = [sys.executable, "-m", "correspondence.cli"]


def one_round(port: int, requests: int) -> tuple[float, float, list[float]]:
    """Seconds from start to ready, the first request's seconds, the others'."""
    with tempfile.TemporaryDirectory(prefix="correspondence-first-") as data:
        env = {**os.environ, "CORRESPONDENCE_DATA_DIR": data}
        key = subprocess.run(
            [*CLI, "keys", "create", "--name", "first", "--scopes", "documents:write"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        started = time.perf_counter()
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120
            ) as http:
                while True:
                    try:
                        if http.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server.poll() is None, "the server stopped"
                    assert time.perf_counter() - started < 300, "not ready after 300 s"
                    time.sleep(0.05)
                ready = time.perf_counter() - started
                times = []
                for _ in range(requests + 1):
                    payload = invoice(f"FIRST-{uuid.uuid4().hex[:10]}")
                    t0 = time.perf_counter()
                    answer = http.post("/v1/documents", json=payload)
                    times.append(time.perf_counter() - t0)
                    assert answer.status_code == 201, answer.text
        finally:
            server.terminate()
            server.wait(timeout=60)
    return ready, times[0], times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    print(f"{args.rounds} server starts; after ready, 1 + {args.requests} invoices issued; ms")
    print(f"{'round':<7}{'ready':>8}{'first':>8}{'median':>8}{'max':>8}{'first/median':>14}")
    ratios = []
    for n in range(1, args.rounds + 1):
        ready, first, rest = one_round(args.port, args.requests)
        median = statistics.median(rest)
        ratios.append(first / median)
        print(
            f"{n:<7}{ready * 1000:>8.0f}{first * 1000:>8.0f}{median * 1000:>8.0f}"
            f"{max(rest) * 1000:>8.0f}{first / median:>14.2f}"
        )
    load = os.getloadavg()
    print(f"worst ratio {max(ratios):.2f} (target <= 2); load average {load[0]:.1f} on 2 cores")


if __name__ == "__main__":
    main()
