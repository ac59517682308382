"""The archive goes down mid-run and comes back: nothing is lost, nothing is duplicated."""

from __future__ import annotations

import time
from pathlib import Path

from tests.api.conftest import Api, s3_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.servers import SeaweedFS, api_server


def archived_pdfs(seaweed: SeaweedFS, bucket: str) -> list[str]:
    listing = seaweed.client().list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(".pdf")]


def test_archive_stopped_and_restarted(tmp_path: Path, pg_url: str, seaweed: SeaweedFS) -> None:
    """While it is down, a request keeps the number it reserved and is answered 202; queued
    work completes once the archive is back, with no number skipped or used twice."""
    settings = s3_settings(tmp_path, seaweed, database_url=pg_url)
    with api_server(settings) as running:
        api = Api(running)
        before = api.post("/v1/documents", unnumbered_es_invoice("A-1"))
        assert before.status_code == 201
        seaweed.stop()
        try:
            down = api.post(
                "/v1/documents", unnumbered_es_invoice("A-2"), **{"Idempotency-Key": "outage-2"}
            )
            assert down.status_code == 202, down.text
            assert down.json()["number"] == "PR-2026-000002"
            assert down.json()["status"] in ("queued", "issuing")
            assert "S3 put" in (down.json()["last_error"] or "")
            assert api.http.get("/readyz").status_code == 503
            queued = api.post("/v1/documents", unnumbered_es_invoice("A-3"), Prefer="respond-async")
            assert queued.status_code == 202
            time.sleep(1.0)  # the issuer tries and backs off while the archive is down
            waiting = api.get(queued.headers["Location"]).json()
            # its number is reserved once rendering starts, and kept through the retries
            assert waiting["status"] in ("queued", "issuing")
            assert waiting["number"] == "PR-2026-000003", waiting
        finally:
            seaweed.start()
        retried = api.post(
            "/v1/documents", unnumbered_es_invoice("A-2"), **{"Idempotency-Key": "outage-2"}
        )
        assert retried.status_code in (201, 202)
        assert retried.json()["id"] == down.json()["id"]
        deadline = time.monotonic() + 30
        for location in (queued.headers["Location"], down.headers["Location"]):
            while (doc := api.get(location).json())["status"] != "issued":
                assert time.monotonic() < deadline, doc
                time.sleep(0.2)
            assert doc["attempts"] >= 1 and doc["last_error"] is None
        listing = api.get("/v1/documents").json()
        numbers = sorted(d["number"] for d in listing["items"])
        assert numbers == ["PR-2026-000001", "PR-2026-000002", "PR-2026-000003"]
        keys = archived_pdfs(seaweed, settings.s3_bucket)
        assert sorted(keys) == sorted(d["archive_key"] for d in listing["items"])
        for item in listing["items"]:
            assert api.get(item["links"]["pdf"]).status_code == 200
        api.http.close()
