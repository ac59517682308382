"""Bulk submission over HTTP: a JSON array or NDJSON, progress, results, and resubmission
that issues nothing twice."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from correspondence.kinds import KINDS
from tests.api.conftest import Api
from tests.api.test_documents import unnumbered_es_invoice


def mixed_batch() -> list[Any]:
    """Every kind's sample, ten numbered invoices, one broken payload and one non-object."""
    items: list[Any] = [KINDS[name].sample() for name in sorted(KINDS)]
    items += [unnumbered_es_invoice(f"BULK-{i:03d}") for i in range(10)]
    broken = copy.deepcopy(KINDS["premium_invoice"].sample())
    broken["document"]["our_reference"] = "BROKEN-1"
    del broken["account_executive"]
    items += [broken, "not a payload"]
    return items


def wait_done(api: Api, url: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not (progress := api.get(url).json())["done"]:
        assert time.monotonic() < deadline, progress
        time.sleep(0.3)
    return progress


def test_json_batch_issues_the_valid_items_and_reports_the_rest(api: Api) -> None:
    """Refused items carry their errors; the others are issued, invoices numbered gaplessly."""
    items = mixed_batch()
    accepted = api.post("/v1/batches", items)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["total"] == len(items) and accepted.headers["Location"] == body["links"]["self"]
    progress = wait_done(api, body["links"]["self"])
    assert progress["counts"] == {"issued": len(items) - 2, "refused": 2}
    assert progress["rate_per_second"] > 0
    results = api.get(body["links"]["documents"]).json()
    assert [r["position"] for r in results] == list(range(len(items)))
    refused = [r for r in results if r["errors"]]
    assert [r["position"] for r in refused] == [len(items) - 2, len(items) - 1]
    assert refused[0]["errors"][0]["field"] == "account_executive"
    numbers = sorted(
        r["document"]["number"]
        for r in results
        if r["document"] and r["document"]["business_reference"].startswith("BULK-")
    )
    assert numbers == [f"PR-2026-{n:06d}" for n in range(4872, 4882)]  # after the pack's 4871


def test_resubmitting_a_batch_issues_nothing_twice(api: Api) -> None:
    """Items are idempotent on their business reference."""
    items = [unnumbered_es_invoice(f"AGAIN-{i}") for i in range(5)]
    first = wait_done(api, api.post("/v1/batches", items).json()["links"]["self"])
    before = api.get("/v1/documents").json()["total"]
    second = api.post("/v1/batches", items).json()
    again = wait_done(api, second["links"]["self"])
    assert first["counts"] == again["counts"] == {"issued": 5}
    assert api.get("/v1/documents").json()["total"] == before == 5
    ids = [r["document"]["id"] for r in api.get(second["links"]["documents"]).json()]
    assert len(set(ids)) == 5


def test_ndjson_upload(api: Api) -> None:
    """One payload per line; a line that is not JSON is refused with its line number."""
    lines = [json.dumps(unnumbered_es_invoice(f"ND-{i}")) for i in range(3)] + ["{oops"]
    response = api.http.post(
        "/v1/batches",
        content="\n".join(lines).encode(),
        headers={**api.auth(), "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202
    progress = wait_done(api, response.json()["links"]["self"])
    assert progress["counts"] == {"issued": 3, "refused": 1}
    last = api.get(response.json()["links"]["documents"]).json()[-1]
    assert "line 4 is not JSON" in last["errors"][0]["message"]


def test_batch_needs_write_scope_and_a_list(api: Api) -> None:
    """403 without documents:write; 422 for a body that is not a list."""
    reader = api.key_with("documents:read")
    assert (
        api.post("/v1/batches", [KINDS["premium_invoice"].sample()], key=reader).status_code == 403
    )
    assert api.post("/v1/batches", {"not": "a list"}).status_code == 422
    assert api.post("/v1/batches", []).status_code == 422
    assert api.get("/v1/batches/nope").status_code == 404
