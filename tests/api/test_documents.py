"""Issuing documents over HTTP: samples, idempotency, de-duplication, numbering, reading."""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from typing import Any

import httpx
import pytest

from correspondence.kinds import KINDS
from tests.api.conftest import Api
from tests.conftest import SAMPLES, es_invoice, in_language, load_sample, pdf_pages_text


def issuable_samples() -> list[str]:
    """Every sample whose kind the service produces."""
    names = []
    for path in sorted(SAMPLES.glob("*.json")):
        if load_sample(path.name)["document"]["type"] in KINDS:
            names.append(path.name)
    kinds = {load_sample(name)["document"]["type"] for name in names}
    assert kinds == set(KINDS), f"kinds without a sample: {set(KINDS) - kinds}"
    return names


def unnumbered_es_invoice(reference: str) -> dict[str, Any]:
    payload = es_invoice()
    del payload["invoice"]["number"]
    payload["document"]["our_reference"] = reference
    return payload


def check_issue_and_fetch(api: Api) -> None:
    for name in issuable_samples():
        sample = load_sample(name)
        created = api.post("/v1/documents", sample)
        assert created.status_code == 201, created.text
        doc = created.json()
        assert doc["kind"] == sample["document"]["type"]
        assert doc["locale"] == sample["document"]["locale"]
        assert doc["status"] == "issued" and doc["pages"] >= 1
        assert created.headers["Location"] == doc["links"]["self"]
        pdf = api.get(doc["links"]["pdf"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == doc["sha256"]
        assert len(pdf.content) == doc["size"]
        meta = api.get(doc["links"]["self"]).json()
        assert meta["sha256"] == doc["sha256"] and meta["template_hash"]
        assert meta["weasyprint_version"] and meta["pypdf_version"]


def test_every_sample_is_issued_and_fetched_back_sqlite(api: Api) -> None:
    """Embedded defaults: each sample is issued and its archived PDF matches its hash."""
    check_issue_and_fetch(api)


def test_every_sample_is_issued_and_fetched_back_postgres_s3(api_pg_s3: Api) -> None:
    """PostgreSQL and SeaweedFS: the same round trip."""
    check_issue_and_fetch(api_pg_s3)


def test_invoice_number_from_the_sample_is_printed(api: Api) -> None:
    """A number upstream stated (a stamped CFDI) is recorded and printed, not re-allocated."""
    doc = api.post("/v1/documents", load_sample("02_premium_invoice_es-MX.json")).json()
    assert doc["number"] == "PRI-2026-001874"
    text = pdf_pages_text(api.get(doc["links"]["pdf"]).content)[0]
    assert "PRI-2026-001874" in text


def test_unnumbered_invoices_get_consecutive_numbers(api: Api) -> None:
    """The registry numbers invoices per series and year, from 1, and prints the number."""
    numbers = []
    for i in range(3):
        doc = api.post("/v1/documents", unnumbered_es_invoice(f"REF-{i}")).json()
        numbers.append(doc["number"])
    assert numbers == ["PR-2026-000001", "PR-2026-000002", "PR-2026-000003"]
    text = pdf_pages_text(api.get(f"/v1/documents/{doc['id']}/pdf").content)[0]
    assert "PR-2026-000003" in text


def test_twenty_concurrent_requests_get_gapless_numbers_on_postgres(api_pg_s3: Api) -> None:
    """20 requests at once against PostgreSQL: unique, consecutive numbers."""
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(base_url=api_pg_s3.running.base_url, timeout=120) as http:
            response = http.post(
                "/v1/documents", json=unnumbered_es_invoice(f"C-{i}"), headers=api_pg_s3.auth()
            )
        with lock:
            results.append(response)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 20, [
        r.text for r in results if r.status_code != 201
    ]
    sequences = sorted(int(r.json()["number"].rsplit("-", 1)[1]) for r in results)
    assert sequences == list(range(1, 21))


def test_failed_render_consumes_no_number(api: Api) -> None:
    """A refused payload reserves nothing: the next invoice takes number 1."""
    bad = unnumbered_es_invoice("BAD")
    bad["totals"]["total"]["amount"] = "1.00"
    assert api.post("/v1/documents", bad).status_code == 422
    assert (
        api.post("/v1/documents", unnumbered_es_invoice("GOOD")).json()["number"]
        == "PR-2026-000001"
    )


def test_same_idempotency_key_and_body_return_the_same_document(api: Api, tmp_path: Any) -> None:
    """No second number and no second archive object."""
    payload = unnumbered_es_invoice("IDEM-1")
    first = api.post("/v1/documents", payload, **{"Idempotency-Key": "k-1"})
    second = api.post("/v1/documents", payload, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["number"] == second.json()["number"] == "PR-2026-000001"
    archive = api.service.settings.resolved_archive_dir
    assert len(list(archive.rglob("*.pdf"))) == 1


def test_same_idempotency_key_with_another_body_is_422(api: Api) -> None:
    """A key names one request body."""
    api.post("/v1/documents", unnumbered_es_invoice("IDEM-2"), **{"Idempotency-Key": "k-2"})
    other = api.post("/v1/documents", unnumbered_es_invoice("IDEM-3"), **{"Idempotency-Key": "k-2"})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


def _send_twice_at_once(api: Api, payload: dict[str, Any], key: str) -> list[int]:
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=api.running.base_url, timeout=60) as http:
            barrier.wait()
            response = http.post(
                "/v1/documents", json=payload, headers={**api.auth(), "Idempotency-Key": key}
            )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def test_concurrent_duplicate_idempotency_key_is_409(api: Api) -> None:
    """Two requests with one key at once: one issues, the other is told it is in progress."""
    for attempt in range(5):
        payload = unnumbered_es_invoice(f"IDEM-4-{attempt}")
        statuses = _send_twice_at_once(api, payload, f"k-4-{attempt}")
        if statuses == [201, 409]:
            break
        assert statuses == [201, 201], statuses  # no overlap this time: the second replayed
    else:
        pytest.fail("the two requests never overlapped in 5 attempts")
    assert api.get("/v1/documents", status="issued").json()["total"] == attempt + 1


def test_same_business_reference_returns_the_existing_document(api: Api) -> None:
    """A second request for the same (kind, our_reference) is not issued twice."""
    payload = unnumbered_es_invoice("BIZ-1")
    first = api.post("/v1/documents", payload).json()
    again = api.post("/v1/documents", payload)
    assert again.status_code == 200 and again.json()["id"] == first["id"]


def test_reissue_is_a_new_version_linked_to_the_old_one(api: Api) -> None:
    """ "reissue": true records version 2, which replaces version 1."""
    payload = unnumbered_es_invoice("BIZ-2")
    first = api.post("/v1/documents", payload).json()
    second = api.post("/v1/documents", {**payload, "reissue": True})
    assert second.status_code == 201
    body = second.json()
    assert body["version"] == 2 and body["replaces_id"] == first["id"] and body["id"] != first["id"]


def test_async_request_returns_202_and_is_completed(api: Api) -> None:
    """Prefer: respond-async → 202 with a status URL that ends issued."""
    accepted = api.post("/v1/documents", unnumbered_es_invoice("ASYNC-1"), Prefer="respond-async")
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Preference-Applied"] == "respond-async"
    status_url = accepted.headers["Location"]
    deadline = time.monotonic() + 30
    while (doc := api.get(status_url).json())["status"] != "issued":
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)
    assert doc["number"] == "PR-2026-000001"
    assert api.get(doc["links"]["pdf"]).status_code == 200


def test_list_filters_and_paginates(api: Api) -> None:
    """Filter by policy number, kind, locale and dates; page with limit and offset."""
    for i in range(3):
        api.post("/v1/documents", unnumbered_es_invoice(f"L-{i}"))
    api.post("/v1/documents", load_sample("02_premium_invoice_es-MX.json"))
    page = api.get("/v1/documents", policy_number="ES-TC-004512", limit=2).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and "next" in page["links"]
    rest = api.get("/v1/documents", policy_number="ES-TC-004512", limit=2, offset=2).json()
    assert len(rest["items"]) == 1 and "next" not in rest["links"]
    assert api.get("/v1/documents", locale="es-MX").json()["total"] == 1
    assert api.get("/v1/documents", issued_from="2026-12-01").json()["total"] == 1
    assert api.get("/v1/documents", issued_to="2026-11-30").json()["total"] == 3
    assert api.get("/v1/documents", policyholder="nopal").json()["total"] == 1


def test_verify_says_whether_we_issued_a_pdf(api: Api) -> None:
    """Our PDF's hash is known; any other is not."""
    doc = api.post("/v1/documents", unnumbered_es_invoice("V-1")).json()
    found = api.get(f"/v1/verify/{doc['sha256']}").json()
    assert found["issued"] is True and found["document"]["id"] == doc["id"]
    assert api.get(f"/v1/verify/{'0' * 64}").json() == {"issued": False, "document": None}


def test_preview_is_a_draft_on_every_page_and_not_recorded(api: Api) -> None:
    """BORRADOR on every page; nothing enters the registry."""
    many = copy.deepcopy(load_sample("02_premium_invoice_es-MX.json"))
    pdf = api.post("/v1/previews", many)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = pdf_pages_text(pdf.content)
    assert all("BORRADOR" in page for page in pages)
    refused = api.http.post("/v1/previews?locale=en-GB", json=many, headers=api.auth())
    assert refused.status_code == 422 and "lines.0.description" in refused.text
    english = pdf_pages_text(
        api.http.post(
            "/v1/previews?locale=en-GB", json=in_language(many, "en"), headers=api.auth()
        ).content
    )
    assert all("DRAFT" in page for page in english)
    html = api.http.post("/v1/previews?format=html", json=many, headers=api.auth())
    assert html.headers["content-type"].startswith("text/html") and "BORRADOR" in html.text
    assert "<style>" in html.text
    assert api.get("/v1/documents").json()["total"] == 0


def test_kinds_list_schema_and_sample(api: Api) -> None:
    """Every kind comes with its JSON Schema and its sample."""
    kinds = {k["name"]: k for k in api.get("/v1/kinds").json()}
    assert set(kinds) == set(KINDS)
    invoice = kinds["premium_invoice"]
    assert "account_executive" in invoice["schema"]["required"]
    assert invoice["sample"] == load_sample("02_premium_invoice_es-MX.json")


def test_reissue_check_reproduces_the_archived_bytes(api: Api) -> None:
    """Re-rendering the stored payload gives the same bytes."""
    doc = api.post("/v1/documents", unnumbered_es_invoice("R-1")).json()
    report = api.service.reissue_check(doc["id"])
    assert report.identical and report.rendered_sha256 == doc["sha256"]
    assert report.stored_template_hash == report.current_template_hash


@pytest.mark.parametrize("name", issuable_samples())
def test_issued_pdf_carries_the_account_executive(api: Api, name: str) -> None:
    """The charter's single point of contact is on page 1 of every issued document."""
    sample = load_sample(name)
    doc = api.post("/v1/documents", sample).json()
    first_page = pdf_pages_text(api.get(doc["links"]["pdf"]).content)[0]
    assert sample["account_executive"]["name"] in first_page


def test_unprintable_text_is_422_naming_the_field_and_issues_nothing(api: Api) -> None:
    """A control character in the legal name is refused before a number is taken."""
    bad = unnumbered_es_invoice("CTRL")
    bad["policyholder"]["legal_name"] = "Distribuciones\x07 Iberia"
    response = api.post("/v1/documents", bad)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["policyholder.legal_name"] == "contains the unprintable character U+0007 at 14"
    assert (
        api.post("/v1/documents", unnumbered_es_invoice("GOOD")).json()["number"]
        == "PR-2026-000001"
    )
