"""Backpressure: a burst beyond the renderers, or a full queue, gets 503 with Retry-After,
never a 500 and never unbounded waiting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from correspondence.workers import ProcessRenderers
from tests.api.conftest import Api, fast_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.conftest import load_sample
from tests.servers import api_server


def letter(reference: str) -> dict[str, Any]:
    payload = load_sample("03_credit_limit_change_reduction_es-ES.json")
    payload["document"]["our_reference"] = reference
    return payload


def test_busy_renderers_give_503_then_recover(tmp_path: Path) -> None:
    """Every renderer busy: a request waits 50 ms, gets 503 with Retry-After and leaves
    nothing behind; once a renderer is free, the same request is issued."""
    with api_server(fast_settings(tmp_path, render_wait_seconds=0.05, run_worker=False)) as running:
        api = Api(running)
        try:
            pool = running.service.renderers
            assert isinstance(pool, ProcessRenderers) and pool.size == (os.cpu_count() or 1)
            for _ in range(pool.size):  # every render slot taken, as by long renders
                assert pool.slots.acquire(timeout=5)
            try:
                busy = api.post("/v1/documents", letter("BUSY-1"))
                assert busy.status_code == 503 and busy.headers["Retry-After"]
                assert busy.json()["errors"][0]["error"] == "unavailable"
                assert api.get("/v1/documents").json()["total"] == 0
            finally:
                for _ in range(pool.size):
                    pool.slots.release()
            assert api.post("/v1/documents", letter("BUSY-1")).status_code == 201
        finally:
            api.http.close()


def test_full_queue_refuses_new_async_work(tmp_path: Path) -> None:
    """With room for two queued documents, the third asynchronous request gets 503."""
    with api_server(fast_settings(tmp_path, max_queued_documents=2, run_worker=False)) as running:
        api = Api(running)
        codes = [
            api.post(
                "/v1/documents", unnumbered_es_invoice(f"Q-{i}"), Prefer="respond-async"
            ).status_code
            for i in range(3)
        ]
        assert codes == [202, 202, 503]
        full = api.post("/v1/documents", unnumbered_es_invoice("Q-3"), Prefer="respond-async")
        assert full.headers["Retry-After"] and full.json()["errors"][0]["error"] == "unavailable"
        api.http.close()
