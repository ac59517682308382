"""Every error reaches the client in one envelope, with the right status, never a 500."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.conftest import load_sample


def errors(response: Any) -> list[dict[str, str]]:
    body = response.json()
    assert set(body) == {"errors"}
    for error in body["errors"]:
        assert set(error) == {"error", "field", "message"}
    return body["errors"]


def test_no_credentials_is_401(api: Api) -> None:
    """Every endpoint but the health checks needs a key."""
    for path in ("/v1/documents", "/v1/kinds", f"/v1/verify/{'a' * 64}", "/v1/documents/x"):
        response = api.http.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert errors(response)[0]["error"] == "unauthenticated"
    assert api.http.get("/healthz").status_code == 200
    deadline = time.monotonic() + 60  # 503 until the first render worker is ready
    while (ready := api.http.get("/readyz")).status_code == 503:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.1)
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "archive": "ok", "renderers": "ok"},
    }


def test_unknown_key_is_401(api: Api) -> None:
    """A well-formed but unknown key is refused."""
    response = api.get("/v1/documents", key="cor_000000000000_notarealsecret")
    assert response.status_code == 401


def test_missing_scope_is_403(api: Api) -> None:
    """A preview-only key cannot issue or read documents."""
    preview_only = api.key_with("previews")
    sample = load_sample("02_premium_invoice_es-MX.json")
    assert api.post("/v1/documents", sample, key=preview_only).status_code == 403
    assert api.get("/v1/documents", key=preview_only).status_code == 403
    assert api.post("/v1/previews", sample, key=preview_only).status_code == 200
    reader = api.key_with("documents:read")
    forbidden = api.post("/v1/documents", sample, key=reader)
    assert forbidden.status_code == 403 and errors(forbidden)[0]["error"] == "forbidden"


def test_validation_errors_are_422_with_field_paths(api: Api) -> None:
    """Each problem names its field."""
    sample = load_sample("02_premium_invoice_es-MX.json")
    del sample["account_executive"]["phone"]
    sample["totals"]["total"]["amount"] = "1.00"
    response = api.post("/v1/documents", sample)
    assert response.status_code == 422
    assert {e["field"] for e in errors(response)} == {"account_executive.phone"}
    sample["account_executive"]["phone"] = "+52 55 0000 0102"
    mismatch = errors(api.post("/v1/documents", sample))
    assert mismatch[0]["field"] == "totals.total.amount" and mismatch[0]["error"] == "mismatch"


@pytest.mark.parametrize(
    "body",
    [
        [1, 2, 3],
        {"document": "nope"},
        {"document": {"type": "premium_invoice"}},
        {"document": {"type": ["x"]}},
        {},
        "string",
        None,
        {"document": {"type": "premium_invoice"}, "lines": [{"quantity": {"$gt": 1}}]},
    ],
)
def test_malformed_bodies_are_422_never_500(api: Api, body: Any) -> None:
    """Whatever a client sends, the answer is a 4xx with the envelope."""
    response = api.http.post(
        "/v1/documents",
        content=json.dumps(body).encode(),
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert errors(response)


def test_not_json_is_422(api: Api) -> None:
    """A body that does not parse is refused with the envelope."""
    response = api.http.post(
        "/v1/documents",
        content=b'{"document":',
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and errors(response)[0]["error"] == "invalid_json"


def test_wrong_media_type_is_415(api: Api) -> None:
    """Only JSON is accepted."""
    response = api.http.post(
        "/v1/documents",
        content=b"<xml/>",
        headers={**api.auth(), "Content-Type": "application/xml"},
    )
    assert response.status_code == 415 and errors(response)[0]["field"] == "Content-Type"


def test_body_over_the_limit_is_413(api: Api) -> None:
    """The configured limit holds, whether or not Content-Length is declared."""
    limit = api.service.settings.max_body_bytes
    big = b'{"x": "' + b"a" * (limit + 10) + b'"}'
    response = api.http.post(
        "/v1/documents", content=big, headers={**api.auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413 and errors(response)[0]["error"] == "too_large"

    def chunks() -> Any:
        yield b'{"x": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    streamed = api.http.post(
        "/v1/documents",
        content=chunks(),
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


def test_unknown_document_and_route_are_404(api: Api) -> None:
    """Both use the envelope."""
    assert errors(api.get("/v1/documents/nope"))[0]["error"] == "not_found"
    assert api.get("/v1/documents/nope").status_code == 404
    missing = api.get("/v1/nothing-here")
    assert missing.status_code == 404 and errors(missing)[0]["error"] == "not_found"


def test_number_already_issued_is_409(api: Api) -> None:
    """Upstream may not state the same invoice number for a second document."""
    sample = load_sample("02_premium_invoice_es-MX.json")
    assert api.post("/v1/documents", sample).status_code == 201
    sample["document"]["our_reference"] = "ANOTHER-REF"
    response = api.post("/v1/documents", sample)
    assert response.status_code == 409 and "PRI-2026-001874" in errors(response)[0]["message"]


def test_bad_sha256_is_422(api: Api) -> None:
    """verify takes 64 hex characters."""
    assert api.get("/v1/verify/xyz").status_code == 422


def test_docs_need_credentials_too(api: Api) -> None:
    """The OpenAPI page asks for the API key (as a Basic password) and then opens."""
    refused = api.http.get("/docs")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    basic = "Basic " + base64.b64encode(f"me:{api.key}".encode()).decode()
    assert api.http.get("/docs", headers={"Authorization": basic}).status_code == 200
    spec = api.http.get("/openapi.json", headers={"Authorization": basic}).json()
    assert "/v1/documents" in spec["paths"]


def test_an_unknown_spanish_region_is_422_naming_the_field(api: Api) -> None:
    """Issue 20: a region the holiday calendars do not know is refused, never counted with
    national holidays only; a co-official name is accepted."""
    sample = load_sample("03_credit_limit_change_reduction_es-ES.json")
    sample["insurer"]["address"]["region"] = "Atlántida"
    response = api.post("/v1/previews", sample)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in errors(response)] == ["insurer.address.region"]
    sample["insurer"]["address"]["region"] = "Comunidad de Madrid"
    assert api.post("/v1/previews", sample).status_code == 200
