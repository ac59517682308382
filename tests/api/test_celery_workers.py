"""Scale-out on Celery: a real Redis, two real worker processes, workers killed mid-batch.

Worker 1 is killed with SIGKILL, children and all, while it holds a task: its message
is redelivered once the broker's visibility timeout has passed. A child of worker 2 is
killed mid-task: Celery requeues its message (reject-on-worker-lost), unless it was a
redelivery already, in which case the API's issuer sends the document again once its
lease has passed. Either way every document is issued exactly once, with gapless
invoice numbers."""

from __future__ import annotations

import copy
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from correspondence.kinds import KINDS
from tests.api.conftest import Api, s3_settings
from tests.api.test_archive_outage import archived_pdfs
from tests.api.test_batches import wait_done
from tests.api.test_documents import unnumbered_es_invoice
from tests.servers import CeleryWorker, SeaweedFS, api_server, redis_server

LETTERS = (
    "claim_decision",
    "claim_filing_guide",
    "collection_update",
    "credit_limit_change_notice",
    "credit_limit_decision",
)
RECEIVED = re.compile(r"Task correspondence\.issue\[([0-9a-f-]+)\] received")
SUCCEEDED = re.compile(r"Task correspondence\.issue\[([0-9a-f-]+)\] succeeded")


def sample_as(kind: str, reference: str) -> dict[str, Any]:
    payload = copy.deepcopy(KINDS[kind].sample())
    payload["document"]["our_reference"] = reference
    return payload


def two_hundred_mixed() -> list[dict[str, Any]]:
    """120 invoices and 20 renewal packs, all to be numbered, and 60 letters."""
    items = [unnumbered_es_invoice(f"CEL-INV-{i:03d}") for i in range(120)]
    for i in range(20):
        pack = sample_as("renewal_pack", f"CEL-PACK-{i:02d}")
        del pack["premium_invoice"]["invoice"]["number"]
        items.append(pack)
    items += [sample_as(LETTERS[i % len(LETTERS)], f"CEL-LET-{i:02d}") for i in range(60)]
    return items[::7] + [item for i, item in enumerate(items) if i % 7]  # interleave kinds


def in_flight(log: Path) -> set[str]:
    """Task ids a worker has received and not finished, from its log."""
    text = log.read_text(errors="replace")
    return set(RECEIVED.findall(text)) - set(SUCCEEDED.findall(text))


def wait_in_flight(log: Path, timeout: float = 60) -> set[str]:
    deadline = time.monotonic() + timeout
    while not (tasks := in_flight(log)):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.02)
    return tasks


def wait_rendering(log: Path, timeout: float = 60) -> set[str]:
    """Tasks still in flight 30 ms after they were first seen: a render, not a message for
    a document already issued (those finish in a few ms, and a child killed then would be
    idle, with no task to lose)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = wait_in_flight(log, timeout=max(0.1, deadline - time.monotonic()))
        time.sleep(0.03)
        if still := seen & in_flight(log):
            return still
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]


def wait_ready(log: Path, child: int, timeout: float = 120) -> None:
    """Until ``child`` has built its service and warmed its engine: before that, the task
    it was handed is in flight in the log but the child is still starting (on a busy
    machine, for seconds), and killing it then loses no task."""
    deadline = time.monotonic() + timeout
    while f"worker child {child} ready" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.05)


def child_of(pid: int) -> int:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=True)
    return int(found.stdout.split()[0])


def test_two_workers_one_killed_mid_batch(tmp_path: Path, pg_url: str, seaweed: SeaweedFS) -> None:
    with redis_server() as broker:
        settings = s3_settings(
            tmp_path,
            seaweed,
            database_url=pg_url,
            broker_url=broker,
            broker_visibility_timeout_seconds=6,
        )
        with api_server(settings) as running:
            api = Api(running)
            logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
            workers = [CeleryWorker(settings, f"w{i + 1}", log) for i, log in enumerate(logs)]
            try:
                items = two_hundred_mixed()
                accepted = api.post("/v1/batches", items)
                assert accepted.status_code == 202, accepted.text
                progress_url = accepted.json()["links"]["self"]
                for _ in range(10):  # both workers are busy issuing
                    wait_in_flight(logs[0])
                    wait_in_flight(logs[1])
                    time.sleep(0.3)

                assert wait_in_flight(logs[0])  # worker 1 holds a task …
                workers[0].kill()  # SIGKILL, worker and child: nothing acked, nothing rejected
                child = child_of(workers[1].process.pid)
                wait_ready(logs[1], child)
                assert wait_rendering(logs[1])  # … and so does worker 2's child
                os.kill(child, signal.SIGKILL)
                assert workers[1].process.poll() is None  # the worker survives its child

                progress = wait_done(api, progress_url, timeout=300)
                assert progress["counts"] == {"issued": 200}, progress
                assert "WorkerLostError" in logs[1].read_text(errors="replace")
            finally:
                for worker in workers:
                    worker.stop()

            results = api.get(accepted.json()["links"]["documents"]).json()
            ids = [r["document"]["id"] for r in results]
            assert len(set(ids)) == 200
            documents = [
                doc
                for offset in (0, 100, 200)
                for doc in api.get("/v1/documents", limit=100, offset=offset).json()["items"]
            ]
            assert len(documents) == 200  # nothing issued twice
            assert {d["version"] for d in documents} == {1}
            numbers = sorted(d["number"] for d in documents if d["number"])
            assert numbers == [f"PR-2026-{n:06d}" for n in range(1, 141)]  # gapless
            keys = archived_pdfs(seaweed, settings.s3_bucket)
            assert sorted(keys) == sorted(d["archive_key"] for d in documents)
            api.http.close()
