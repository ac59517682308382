"""A batch through the API to two real Celery workers over a real Redis, on PostgreSQL and
the filesystem archive: handed to the broker in one go, every item issued once (or
refused, per field), invoice numbers gapless, each worker's lines carrying the batch
request's id from its message."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.conftest import Api, fast_settings
from tests.api.test_batches import wait_done
from tests.api.test_celery_workers import sample_as
from tests.api.test_documents import unnumbered_es_invoice
from tests.servers import CeleryWorker, api_server, redis_server


def test_a_batch_on_two_celery_workers(tmp_path: Path, pg_url: str) -> None:
    items = []
    for i in range(24):
        if i % 3 == 2:
            items.append(sample_as("collection_update", f"CB-LET-{i:02d}"))
        else:
            items.append(unnumbered_es_invoice(f"CB-INV-{i:02d}"))
    items.append(unnumbered_es_invoice("CB-INV-00"))  # again: the same document
    broken = unnumbered_es_invoice("CB-BAD")
    broken["document"]["locale"] = "xx-XX"
    items.append(broken)
    with redis_server() as broker:
        settings = fast_settings(
            tmp_path, database_url=pg_url, broker_url=broker, log_format="json"
        )
        logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
        workers = [CeleryWorker(settings, f"cb{i + 1}", log) for i, log in enumerate(logs)]
        try:
            with api_server(settings) as running:
                api = Api(running)
                accepted = api.post("/v1/batches", items, **{"X-Request-ID": "req-batch-cb"})
                assert accepted.status_code == 202, accepted.text
                progress = wait_done(api, accepted.json()["links"]["self"], timeout=600)
                assert progress["counts"] == {"issued": 25, "refused": 1}, progress
                results = api.get(accepted.json()["links"]["documents"]).json()
                api.http.close()
        finally:
            for worker in workers:
                worker.stop()
    ids = [r["document"]["id"] if r["document"] else None for r in results]
    assert ids[24] == ids[0] and len(set(ids[:24])) == 24 and ids[25] is None
    assert "document.locale" in [e["field"] for e in results[25]["errors"]]
    numbers = sorted(r["document"]["number"] for r in results[:24] if r["document"]["number"])
    assert numbers == [f"PR-2026-{n:06d}" for n in range(1, 17)]
    pdfs = sorted(p.name for p in settings.resolved_archive_dir.rglob("*.pdf"))
    assert len(pdfs) == 24 and {Path(n).stem for n in pdfs} == set(ids[:24])
    issued_by: dict[str, str] = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("event") == "document.issued":
                assert record["request_id"] == "req-batch-cb", record
                issued_by[record["document_id"]] = log.name
    assert set(issued_by) == set(ids[:24])  # each issued once, and logged so
