"""Issue 22 §5 and §6 over HTTP: ``/v1/admin`` (keys and staff accounts, for the ``admin``
scope), revocation and disabling from the next request, and the per-key rate limit
(``429`` with ``Retry-After`` and the error envelope; health checks and metrics exempt)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from correspondence.registry import accounts
from tests.api.conftest import Api, fast_settings
from tests.servers import api_server

EMAIL, PASSWORD = "laura@ejemplar-credito.example", "correct horse battery staple"

ADMIN_OPERATIONS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/admin/keys", None),
    ("POST", "/v1/admin/keys", {"name": "x", "scopes": ["previews"]}),
    ("GET", "/v1/admin/keys/{id}", None),
    ("PATCH", "/v1/admin/keys/{id}", {"rate_limit_per_minute": 10}),
    ("POST", "/v1/admin/keys/{id}/revoke", None),
    ("POST", "/v1/admin/keys/{id}/rotate", None),
    ("GET", "/v1/admin/staff", None),
    ("POST", f"/v1/admin/staff/{EMAIL}/disable", None),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = fast_settings(tmp_path_factory.mktemp("admin"), run_worker=False)
    with api_server(settings) as running:
        client = Api(running)
        yield client
        client.http.close()


@pytest.fixture()
def admin(api: Api) -> str:
    return api.key_with("admin")


def call(api: Api, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
    return api.http.request(method, path, json=body, headers=api.auth(key))


def create(api: Api, admin: str, **body: Any) -> dict[str, Any]:
    answer = call(api, "POST", "/v1/admin/keys", admin, body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"/v1/admin/keys/{created['api_key']['id']}"
    assert answer.headers["cache-control"] == "no-store"
    return created


def test_only_the_admin_scope_manages_keys_and_staff(api: Api, admin: str) -> None:
    victim = create(api, admin, name="victim", scopes=["documents:read"])["api_key"]["id"]
    others = [api.key_with(scope) for scope in ("documents:read:all", "metrics:read")]
    for method, template, body in ADMIN_OPERATIONS:
        path = template.format(id=victim)
        for key in others:
            assert call(api, method, path, key, body).status_code == 403, (method, path)
        assert api.http.request(method, path, json=body).status_code == 401, (method, path)
    listed = call(api, "GET", f"/v1/admin/keys/{victim}", admin).json()
    assert listed["revoked_at"] is None and listed["rate_limit_per_minute"] is None
    # and the admin scope alone reads no document
    assert call(api, "GET", "/v1/documents", admin).status_code == 403


def test_a_listing_holds_no_secret_and_no_hash(api: Api, admin: str) -> None:
    made = create(api, admin, name="erp", scopes=["documents:write", "documents:read"])
    key, shown = made["key"], made["api_key"]
    assert key.startswith(f"cor_{shown['id']}_")
    assert shown["scopes"] == ["documents:read", "documents:write"]
    assert shown["created_at"].endswith("Z") and shown["links"]["rotate"].endswith("/rotate")
    listing = call(api, "GET", "/v1/admin/keys", admin)
    assert listing.status_code == 200
    assert shown in listing.json()
    with api.service.registry.transaction() as tx:
        hashes = [row.secret_hash for row in accounts.api_keys(tx)]
    for secret in [key.split("_", 2)[2], api.key.split("_", 2)[2], *hashes]:
        assert secret not in listing.text
    assert call(api, "GET", f"/v1/admin/keys/{shown['id']}", admin).json() == shown


def test_revocation_takes_effect_on_the_next_request(api: Api, admin: str) -> None:
    made = create(api, admin, name="leaked", scopes=["documents:read"])
    key, key_id = made["key"], made["api_key"]["id"]
    assert api.get("/v1/documents", key=key).status_code == 200
    revoked = call(api, "POST", f"/v1/admin/keys/{key_id}/revoke", admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"].endswith("Z")
    refused = api.get("/v1/documents", key=key)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["field"] == "Authorization"
    again = call(api, "POST", f"/v1/admin/keys/{key_id}/revoke", admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    rotate = call(api, "POST", f"/v1/admin/keys/{key_id}/rotate", admin)
    assert rotate.status_code == 409 and "revoked" in rotate.json()["errors"][0]["message"]
    for method, path in [("POST", "/revoke"), ("POST", "/rotate"), ("GET", "")]:
        missing = call(api, method, f"/v1/admin/keys/{'0' * 12}{path}", admin)
        assert missing.status_code == 404 and missing.json()["errors"][0]["error"] == "not_found"


def test_rotation_shows_the_new_secret_once_and_refuses_the_old_one(api: Api, admin: str) -> None:
    made = create(api, admin, name="rotating", scopes=["documents:read"])
    old, key_id = made["key"], made["api_key"]["id"]
    rotated = call(api, "POST", f"/v1/admin/keys/{key_id}/rotate", admin)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["key"]
    assert new != old and new.startswith(f"cor_{key_id}_")
    assert rotated.json()["api_key"]["rotated_at"].endswith("Z")
    assert api.get("/v1/documents", key=old).status_code == 401
    assert api.get("/v1/documents", key=new).status_code == 200
    assert new.split("_", 2)[2] not in call(api, "GET", "/v1/admin/keys", admin).text


def test_a_key_created_over_the_api_holds_its_scopes_only(api: Api, admin: str) -> None:
    key = create(api, admin, name="reader", scopes=["documents:read"])["key"]
    assert api.get("/v1/documents", key=key).status_code == 200
    assert api.post("/v1/previews", {}, key=key).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["root"]}, "scopes.0"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "   ", "scopes": ["admin"]}, "name"),
        ({"name": "tab\there", "scopes": ["admin"]}, "name"),
        ({"name": "x", "scopes": ["admin"], "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"name": "x", "scopes": ["admin"], "secret": "mine"}, "secret"),
        ({"scopes": ["admin"]}, "name"),
    ],
)
def test_a_bad_key_request_is_refused_naming_its_field(
    api: Api, admin: str, body: dict[str, Any], field: str
) -> None:
    answer = call(api, "POST", "/v1/admin/keys", admin, body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_a_key_request_must_be_json(api: Api, admin: str) -> None:
    answer = api.http.post(
        "/v1/admin/keys",
        content=b"name=x",
        headers={**api.auth(admin), "Content-Type": "text/plain"},
    )
    assert answer.status_code == 415


def browser(api: Api) -> httpx.Client:
    return httpx.Client(base_url=api.running.base_url, follow_redirects=False, timeout=30)


def sign_in(client: httpx.Client) -> int:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/login").text)
    assert found is not None
    data = {"email": EMAIL, "password": PASSWORD, "csrf": found.group(1)}
    return client.post("/ui/login", data=data).status_code


def test_staff_are_listed_without_hashes_and_disabled_from_the_next_request(
    api: Api, admin: str
) -> None:
    api.service.create_staff(email=EMAIL, password=PASSWORD)
    listing = call(api, "GET", "/v1/admin/staff", admin)
    assert listing.status_code == 200
    (laura,) = [s for s in listing.json() if s["email"] == EMAIL]
    assert laura["disabled_at"] is None and laura["locked_until"] is None
    assert "argon2" not in listing.text and PASSWORD not in listing.text
    with browser(api) as session:
        assert sign_in(session) == 303
        assert session.get("/ui/compose").status_code == 200
        disabled = call(api, "POST", f"/v1/admin/staff/{EMAIL.upper()}/disable", admin)
        assert disabled.status_code == 200 and disabled.json()["disabled_at"].endswith("Z")
        ended = session.get("/ui/compose")  # the very next request
        assert ended.status_code == 303 and ended.headers["location"] == "/ui/login"
    with browser(api) as again:
        assert sign_in(again) != 303
    unknown = call(api, "POST", "/v1/admin/staff/nobody@example.com/disable", admin)
    assert unknown.status_code == 404


def test_the_rate_limit_answers_429_with_retry_after(api: Api, admin: str) -> None:
    made = create(
        api,
        admin,
        name="limited",
        scopes=["documents:read", "metrics:read"],
        rate_limit_per_minute=5,
    )
    key, key_id = made["key"], made["api_key"]["id"]
    assert made["api_key"]["effective_rate_limit_per_minute"] == 5
    began = time.monotonic()
    answers = [api.get("/v1/documents", key=key, limit=1) for _ in range(8)]
    elapsed = time.monotonic() - began
    statuses = [a.status_code for a in answers]
    first = statuses.index(429)
    print(
        f"5/min: statuses {statuses} in {elapsed:.2f} s; Retry-After",
        [a.headers.get("retry-after") for a in answers],
    )
    assert elapsed < 12 and statuses == [200] * 5 + [429] * 3  # a token refills every 12 s
    limited = answers[first]
    retry_after = int(limited.headers["retry-after"])
    assert math.ceil(12 - elapsed) <= retry_after <= 12
    (error,) = limited.json()["errors"]
    assert error["error"] == "too_many_attempts" and "5 requests a minute" in error["message"]
    # what is not limited: metrics, health checks, and other keys
    assert api.get("/metrics", key=key).status_code == 200
    assert api.http.get("/healthz").status_code == 200
    assert api.get("/v1/documents", key=api.key_with("documents:read")).status_code == 200
    # a higher limit from the admin API applies from the next request (one interval on)
    raised = call(api, "PATCH", f"/v1/admin/keys/{key_id}", admin, {"rate_limit_per_minute": 600})
    assert raised.status_code == 200 and raised.json()["rate_limit_per_minute"] == 600
    time.sleep(0.1)
    assert api.get("/v1/documents", key=key).status_code == 200
    default = call(api, "PATCH", f"/v1/admin/keys/{key_id}", admin, {"rate_limit_per_minute": None})
    assert default.json()["rate_limit_per_minute"] is None
    assert (
        default.json()["effective_rate_limit_per_minute"]
        == api.service.settings.rate_limit_per_minute
    )
    bad = call(api, "PATCH", f"/v1/admin/keys/{key_id}", admin, {"rate_limit_per_minute": -1})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "rate_limit_per_minute"


def test_the_429_and_the_admin_operations_are_in_the_spec(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    listing = spec["paths"]["/v1/documents"]["get"]["responses"]
    assert listing["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Errors"
    }
    assert "/metrics" in spec["paths"]
    admin = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/admin")
        for method in item
    }
    assert admin == {(m, t.replace("{id}", "{key_id}")) for m, t, _ in ADMIN_OPERATIONS} - {
        ("POST", f"/v1/admin/staff/{EMAIL}/disable")
    } | {("POST", "/v1/admin/staff/{email}/disable")}
    key_schema = spec["components"]["schemas"]["ApiKey"]["properties"]
    assert not {"secret", "secret_hash", "key"} & set(key_schema)
    rotate = spec["paths"]["/v1/admin/keys/{key_id}/rotate"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "429"} <= set(rotate)


def test_a_key_gets_a_minutes_worth_then_the_refill_rate(api: Api, admin: str) -> None:
    """60 a minute: about 60 at once (plus one per second the burst itself takes), then a
    429 telling to wait 1 s, after which exactly one more request is allowed."""
    key = create(api, admin, name="sixty", scopes=["documents:read"], rate_limit_per_minute=60)
    began = time.monotonic()
    statuses = []
    while 429 not in statuses and len(statuses) < 200:
        statuses.append(api.get("/v1/documents", key=key["key"], limit=1).status_code)
    elapsed = time.monotonic() - began
    first = statuses.index(429) + 1
    print(f"60/min: first 429 at request {first} after {elapsed:.2f} s")
    assert set(statuses[:-1]) == {200}
    assert 61 <= first <= 61 + math.ceil(elapsed)
    limited = api.get("/v1/documents", key=key["key"], limit=1)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    time.sleep(1.0)
    began = time.monotonic()
    assert api.get("/v1/documents", key=key["key"], limit=1).status_code == 200
    then = api.get("/v1/documents", key=key["key"], limit=1).status_code
    assert then == 429 or time.monotonic() - began > 1.0  # (a very slow machine: refilled)
