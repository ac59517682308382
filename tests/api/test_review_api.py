"""Review before issue over HTTP: the answer to a request that waits, the `review` object,
the status filter, the request option in the published schemas, and its 422."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_documents import unnumbered_es_invoice


def test_a_request_asking_for_review_is_accepted_and_waits(api: Api) -> None:
    body = {**unnumbered_es_invoice("REV-1"), "review": {"required": True}}
    answer = api.post("/v1/documents", body)
    assert answer.status_code == 202, answer.text
    doc = answer.json()
    assert answer.headers["Location"] == f"/v1/documents/{doc['id']}"
    assert int(answer.headers["Retry-After"]) >= 1
    assert doc["status"] == "in_review" and doc["number"] is None and doc["sha256"] is None
    review = doc["review"]
    assert review["required"] is True and review["state"] == "pending"
    assert review["because"] == "request" and review["requested_by"].startswith("api_key:")
    assert review["decided_by"] is None and review["reason"] is None
    assert api.get(f"/v1/documents/{doc['id']}").json() == doc
    assert api.get(f"/v1/documents/{doc['id']}/pdf").status_code == 409
    listed = api.get("/v1/documents", status="in_review").json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]]
    again = api.post("/v1/documents", body)  # the same request: the same document, waiting
    assert again.status_code == 202 and again.json()["id"] == doc["id"]


def test_a_document_without_review_says_so(api: Api) -> None:
    answer = api.post("/v1/documents", unnumbered_es_invoice("REV-2"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["review"] == {
        "required": False,
        "state": None,
        "because": None,
        "requested_by": None,
        "decided_by": None,
        "decided_at": None,
        "reason": None,
    }


def test_a_malformed_review_option_is_422_naming_it(api: Api) -> None:
    answer = api.post("/v1/documents", {**unnumbered_es_invoice("REV-3"), "review": "yes"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["review"]


def test_the_review_option_and_object_are_in_the_published_schemas(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    option = schemas["PremiumInvoiceRequest"]["properties"]["review"]
    assert option["properties"] == {"required": {"type": "boolean"}}
    assert "review" in schemas["Document"]["required"]
    assert set(schemas["Review"]["properties"]) == {
        "required", "state", "because", "requested_by", "decided_by", "decided_at", "reason",
    }  # fmt: skip
    status = next(p for p in spec["paths"]["/v1/documents"]["get"]["parameters"]
                  if p["name"] == "status")  # fmt: skip
    assert "'in_review'" in str(status) and "'rejected'" in str(status)
    kinds = api.get("/v1/kinds").json()
    assert all("review" in k["schema"]["properties"] for k in kinds)
