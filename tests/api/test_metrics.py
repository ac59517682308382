"""``/metrics`` after issuing a document: the counters and the registry's figures."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Api
from tests.conftest import load_sample


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_scrape_after_issuing_counts_the_document_and_its_render(api: Api) -> None:
    scraper = api.key_with("metrics:read")
    before = _samples(api.get("/metrics", key=scraper).text)
    created = api.post("/v1/documents", load_sample("02_premium_invoice_es-MX.json"))
    assert created.status_code == 201, created.text
    answer = api.get("/metrics", key=scraper)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    after = _samples(answer.text)

    issued = ("correspondence_documents_total", {"kind": "premium_invoice", "status": "issued"})
    assert _value(after, issued[0], **issued[1]) == _value(before, issued[0], **issued[1]) + 1
    renders = "correspondence_render_seconds_count"
    assert _value(after, renders, kind="premium_invoice") == (
        _value(before, renders, kind="premium_invoice") + 1
    )
    assert _value(after, "correspondence_render_seconds_sum", kind="premium_invoice") > 0
    assert (
        _value(after, "correspondence_registry_documents", kind="premium_invoice", status="issued")
        == 1
    )
    assert _value(after, "correspondence_queue_depth") == 0
    assert _value(after, "correspondence_queue_oldest_seconds") == 0
    for name in ("retries_total", "dependency_errors_total", "worker_restarts_total"):
        assert f"# HELP correspondence_{name} " in answer.text


def test_metrics_need_a_key_and_its_own_scope(api: Api) -> None:
    assert api.http.get("/metrics").status_code == 401
    assert api.get("/metrics", key=api.key_with("documents:read")).status_code == 403


STAGES = ("queue", "reserve", "archive", "record")


def _stage_counts(found: dict) -> dict[str, float]:
    return {s: _value(found, "correspondence_issue_stage_seconds_count", stage=s) for s in STAGES}


def test_an_accepted_document_is_timed_in_each_stage_of_issuing(api: Api) -> None:
    """Queued, then issued by the issuer: its wait in the queue, both registry
    transactions, the render and the archive are each observed once."""
    scraper = api.key_with("metrics:read")
    before = _samples(api.get("/metrics", key=scraper).text)
    payload = load_sample("02_premium_invoice_es-MX.json")
    accepted = api.post("/v1/documents", payload, Prefer="respond-async")
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 60
    while (doc := api.get(accepted.headers["Location"]).json())["status"] != "issued":
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)
    after = _samples(api.get("/metrics", key=scraper).text)

    counted = _stage_counts(after)
    assert counted == {s: n + 1 for s, n in _stage_counts(before).items()}
    renders = "correspondence_render_seconds_count"
    assert _value(after, renders, kind="premium_invoice") == (
        _value(before, renders, kind="premium_invoice") + 1
    )
    spent = "correspondence_issue_stage_seconds_sum"
    for stage in ("reserve", "archive", "record"):  # each a real round trip
        assert _value(after, spent, stage=stage) > _value(before, spent, stage=stage)


def test_a_document_issued_in_its_request_never_waited_in_the_queue(api: Api) -> None:
    scraper = api.key_with("metrics:read")
    before = _stage_counts(_samples(api.get("/metrics", key=scraper).text))
    created = api.post("/v1/documents", load_sample("05_credit_limit_decision_partial_es-MX.json"))
    assert created.status_code == 201, created.text
    after = _stage_counts(_samples(api.get("/metrics", key=scraper).text))
    assert after == {**before, "archive": before["archive"] + 1, "record": before["record"] + 1}
