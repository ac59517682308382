"""Issue 22: the contract an integrator reads — the spec, its readers, and the semantics
it documents (timestamps, conflicts, headers, filters, errors)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import logging
import re
import time
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from correspondence.bootstrap import build_service
from correspondence.config import Settings
from correspondence.kinds import KINDS
from correspondence.queries import Queries
from correspondence.service import Service
from tests.api.conftest import Api, fast_settings
from tests.api.test_documents import issuable_samples, unnumbered_es_invoice
from tests.conftest import load_sample
from tests.servers import api_server

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def messages(response: Any) -> list[str]:
    return [e["message"] for e in response.json()["errors"]]


# --- the spec and its readers -----------------------------------------------------------------


def test_the_spec_needs_no_credentials_and_declares_bearer_and_basic(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["basic"]["scheme"] == "basic"
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            names = [p["name"].lower() for p in operation.get("parameters", [])]
            assert "authorization" not in names, (method, path)
            public = path in ("/healthz", "/readyz") or path.startswith("/v1/downloads/")
            assert (operation.get("security") is None) == public, (method, path)


def test_every_error_status_is_the_envelope(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and int(status) != 416:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Errors"}, (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    issuing = spec["paths"]["/v1/documents"]["post"]["responses"]
    assert {"200", "201", "202", "401", "403", "409", "413", "415", "422"} <= set(issuing)


def test_the_document_body_is_the_union_of_the_kinds(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    body = spec["paths"]["/v1/documents"]["post"]["requestBody"]
    assert body["required"] is True
    union = spec["components"]["schemas"]["DocumentRequest"]["oneOf"]
    assert len(union) == len(KINDS)
    validator = jsonschema_rs.validator_for(
        {**spec["components"]["schemas"]["DocumentRequest"], "components": spec["components"]}
    )
    for name in issuable_samples():
        sample = load_sample(name)
        assert validator.is_valid(sample), name
        assert validator.is_valid({**sample, "reissue": True})
        assert validator.is_valid({**sample, "deliver": {"email": {"to": ["a@example.com"]}}}), name
        assert not validator.is_valid({**sample, "unknown_option": 1})
    pdf = spec["paths"]["/v1/documents/{document_id}/pdf"]["get"]["responses"]["200"]
    assert pdf["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    for path in ("/v1/previews", "/v1/batches", "/v1/documents/{document_id}/deliveries"):
        assert spec["paths"][path]["post"]["requestBody"]["required"] is True


def test_kinds_publish_the_schemas_the_server_applies(api: Api) -> None:
    kinds = api.get("/v1/kinds").json()
    assert [k["name"] for k in kinds] == list(KINDS)
    for kind in kinds:
        validator = jsonschema_rs.validator_for(kind["schema"])
        assert validator.is_valid(kind["sample"])
        assert validator.is_valid({**kind["sample"], "reissue": True})
        others = [k for k in kinds if k["name"] != kind["name"]]
        assert not any(validator.is_valid(k["sample"]) for k in others)
    invoice = next(k for k in kinds if k["name"] == "premium_invoice")
    money = invoice["schema"]["$defs"]["Money"]["properties"]["amount"]
    assert money["type"] == "string" and "number" not in str(money)
    # … and the server refuses what the schema refuses: an amount as a JSON number.
    sample = copy.deepcopy(invoice["sample"])
    sample["lines"][0]["unit_price"]["amount"] = 62500
    assert not jsonschema_rs.validator_for(invoice["schema"]).is_valid(sample)
    refused = api.post("/v1/previews", sample)
    assert refused.status_code == 422 and "lines.0.unit_price.amount" in refused.text


def test_docs_and_redoc_load_everything_from_this_server(api: Api) -> None:
    basic = {"Authorization": "Basic " + base64.b64encode(f"me:{api.key}".encode()).decode()}
    for page in ("/docs", "/redoc"):
        html = api.http.get(page, headers=basic)
        assert html.status_code == 200, page
        sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert sources and all(s.startswith("/") for s in sources), sources
        assert "http://" not in html.text and "https://" not in html.text.replace(
            "https://github.com", ""
        )
        for source in sources:
            asset = api.http.get(source)
            assert asset.status_code == 200 and len(asset.content) > 1000, source
    assert api.http.get("/docs/assets/../../etc/passwd").status_code == 404


# --- semantics --------------------------------------------------------------------------------


def test_created_at_has_one_form_on_post_and_get(api: Api) -> None:
    created = api.post("/v1/documents", unnumbered_es_invoice("FORM-1")).json()
    fetched = api.get(created["links"]["self"]).json()
    listed = api.get("/v1/documents").json()["items"][0]
    assert RFC3339_Z.match(created["created_at"]) and RFC3339_Z.match(created["issued_at"])
    assert created["created_at"] == fetched["created_at"] == listed["created_at"]
    assert created["issued_at"] == fetched["issued_at"]
    delivery = api.post(
        f"/v1/documents/{created['id']}/deliveries", {"email": {"to": ["a@example.com"]}}
    )
    assert delivery.status_code == 201
    assert delivery.headers["Location"] == (
        f"/v1/documents/{created['id']}/deliveries/{delivery.json()['id']}"
    )
    again = api.get(delivery.headers["Location"]).json()
    assert RFC3339_Z.match(delivery.json()["created_at"])
    assert again["created_at"] == delivery.json()["created_at"]


def test_a_changed_body_for_an_existing_reference_is_409_naming_it(api: Api) -> None:
    payload = unnumbered_es_invoice("CHANGED-1")
    first = api.post("/v1/documents", payload).json()
    same = api.post("/v1/documents", payload)  # the registry gave it a number: not a change
    assert same.status_code == 200 and same.json()["id"] == first["id"]
    changed = copy.deepcopy(payload)
    changed["document"]["issue_place"] = "Sevilla"
    changed["invoice"]["due_date"] = payload["invoice"]["due_date"]
    refused = api.post("/v1/documents", changed)
    assert refused.status_code == 409
    (message,) = messages(refused)
    assert first["id"] in message and "document.issue_place" in message
    assert '"reissue": true' in message
    reissued = api.post("/v1/documents", {**changed, "reissue": True})
    assert reissued.status_code == 201 and reissued.json()["version"] == 2
    assert reissued.json()["replaces_id"] == first["id"]


def test_accepted_documents_carry_location_and_retry_after(api: Api) -> None:
    accepted = api.post("/v1/documents", unnumbered_es_invoice("ASYNC-1"), Prefer="respond-async")
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == f"/v1/documents/{accepted.json()['id']}"
    assert int(accepted.headers["Retry-After"]) >= 1
    batch = api.post("/v1/batches", [unnumbered_es_invoice("BATCH-1")])
    assert batch.status_code == 202 and int(batch.headers["Retry-After"]) >= 1


def test_pdfs_answer_head_etag_and_range(api: Api) -> None:
    doc = api.post("/v1/documents", unnumbered_es_invoice("RANGE-1")).json()
    url, auth = doc["links"]["pdf"], api.auth()
    full = api.http.get(url, headers=auth)
    data = full.content
    etag = full.headers["ETag"]
    assert (
        etag == f'"{hashlib.sha256(data).hexdigest()}"' and full.headers["Accept-Ranges"] == "bytes"
    )
    head = api.http.head(url, headers=auth)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(data)) and head.headers["ETag"] == etag
    unchanged = api.http.get(url, headers={**auth, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    changed = api.http.get(url, headers={**auth, "If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.content == data
    part = api.http.get(url, headers={**auth, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    tail = api.http.get(url, headers={**auth, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    beyond = api.http.get(url, headers={**auth, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    stale = api.http.get(url, headers={**auth, "Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == data


def test_an_invalid_key_is_told_apart_from_none(api: Api) -> None:
    none = api.http.get("/v1/documents")
    assert none.status_code == 401 and "send Authorization: Bearer" in messages(none)[0]
    for bad in ("Bearer nonsense", "Bearer cor_abc_def", "Basic !!!", "Token abc"):
        refused = api.http.get("/v1/documents", headers={"Authorization": bad})
        assert refused.status_code == 401, bad
        assert "not valid" in messages(refused)[0], bad


@pytest.mark.parametrize(
    ("name", "value"),
    [("kind", "invoice"), ("locale", "fr-FR"), ("status", "done"), ("issued_from", "2026-13-01")],
)
def test_unknown_filter_values_are_422(api: Api, name: str, value: str) -> None:
    refused = api.get("/v1/documents", **{name: value})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [name]


def test_the_next_link_keeps_the_filters(api: Api) -> None:
    for i in range(3):
        api.post("/v1/documents", unnumbered_es_invoice(f"NEXT-{i}"))
    page = api.get("/v1/documents", kind="premium_invoice", limit=2).json()
    following = api.http.get(page["links"]["next"], headers=api.auth()).json()
    assert following["offset"] == 2 and len(following["items"]) == 1
    assert "kind=premium_invoice" in page["links"]["next"]


def test_delivery_attempts_name_no_server_path(api: Api) -> None:
    doc = api.post("/v1/documents", unnumbered_es_invoice("PATHS-1")).json()
    api.post(f"/v1/documents/{doc['id']}/deliveries", {"email": {"to": ["a@example.com"]}})
    folder = str(api.service.settings.resolved_outbox_dir)
    deadline = time.monotonic() + 60
    while True:
        listed = api.get(f"/v1/documents/{doc['id']}/deliveries")
        if listed.json()[0]["attempts"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    attempts = listed.json()[0]["attempts"]
    assert attempts and attempts[0]["outcome"] == "sent"
    assert folder not in listed.text and "<path>" in attempts[0]["detail"]


class BuggyQueries(Queries):
    """A read use case with a bug in it: every ``get`` raises an unexpected error."""

    def get(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")


def buggy_service(settings: Settings) -> Service:
    """The embedded service with :class:`BuggyQueries` assembled in place of its queries."""
    built = build_service(settings)
    cases = built.use_cases
    queries = BuggyQueries(
        registry=cases.registry, archive=built.archive, renderers=cases.renderers
    )
    return Service(
        settings=settings,
        database=built.database,
        archive=built.archive,
        mailer=built.mailer,
        secret=built.secret,
        clock=built.clock,
        dispatch=built.dispatch,
        assembled=dataclasses.replace(cases, queries=queries),
    )


def test_an_unexpected_error_is_a_500_envelope_logged_once(tmp_path: Path) -> None:
    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.tracebacks: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info:
                self.tracebacks.append(f"{record.name}: {record.getMessage()}")

    collect = Collect()
    loggers = [logging.getLogger(n) for n in ("correspondence.api", "uvicorn.error", "uvicorn")]
    for logger in loggers:
        logger.addHandler(collect)
    settings = fast_settings(tmp_path)
    try:
        with api_server(settings, service=buggy_service(settings)) as running:
            api = Api(running)
            response = api.get("/v1/documents/any")
            time.sleep(0.5)  # the server's own logging, if any, happens after the answer
            api.http.close()
    finally:
        for logger in loggers:
            logger.removeHandler(collect)
    assert response.status_code == 500
    assert response.json() == {
        "errors": [{"error": "internal", "field": "", "message": "internal error"}]
    }
    assert collect.tracebacks == ["correspondence.api: unhandled error"]


@pytest.mark.parametrize("pattern", ["%", "_", "a%b", "\\", "\\%"])
def test_a_wildcard_in_the_policyholder_search_matches_only_itself(api: Api, pattern: str) -> None:
    """`%` and `_` are searched for as typed: no name in the registry holds them, so
    nothing matches (as a LIKE wildcard, `%` would match every document)."""
    api.post("/v1/documents", unnumbered_es_invoice("WILD-1"))
    assert api.get("/v1/documents").json()["items"]  # there is something to match
    found = api.get("/v1/documents", policyholder=pattern)
    assert found.status_code == 200
    assert found.json()["items"] == []
