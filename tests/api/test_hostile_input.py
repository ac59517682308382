"""Every input that once produced a 500 (issue 17, §1 and the crash cases of §3), posted to
the running API: each is refused with a 4xx naming what is wrong, and nothing is issued.

One server for the module (its cases issue nothing, except where a test says so)."""

from __future__ import annotations

import copy
import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from correspondence import links
from correspondence.bounded_json import MAX_DEPTH
from correspondence.kinds import KINDS
from correspondence.registry.models import NumberSeries
from tests.api.conftest import Api, fast_settings
from tests.conftest import es_invoice, in_language
from tests.servers import api_server

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with api_server(fast_settings(tmp_path_factory.mktemp("hostile"))) as running:
        client = Api(running)
        yield client
        client.http.close()


def sample(kind: str) -> dict[str, Any]:
    return copy.deepcopy(KINDS[kind].sample())


def put(path: str, value: Any) -> Mutation:
    """Set the value at a dotted path (list indexes as numbers)."""

    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def drop(path: str) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def no_server_error(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    return response


def fields(response: httpx.Response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def post_raw(api: Api, path: str, content: bytes, media: str = "application/json") -> Any:
    return no_server_error(
        api.http.post(path, content=content, headers={**api.auth(), "Content-Type": media})
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- deep or huge JSON ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 10_000])
@pytest.mark.parametrize("path", ["/v1/documents", "/v1/previews", "/v1/batches"])
def test_deep_json_body_is_422(api: Api, path: str, depth: int) -> None:
    response = post_raw(api, path, nested(depth).encode())
    assert response.status_code == 422 and response.json()["errors"][0]["error"] == "too_deep"


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_deep_json_inside_reissue_and_deliver_is_422(api: Api, depth: int) -> None:
    for block in ("reissue", "deliver"):
        body = json.dumps(sample("credit_limit_decision"))[:-1] + f', "{block}": {nested(depth)}}}'
        response = post_raw(api, "/v1/documents", body.encode())
        assert response.status_code == 422, response.text


def test_deep_json_in_a_delivery_body_is_422(api: Api) -> None:
    response = post_raw(api, "/v1/documents/x/deliveries", b'{"email": ' + nested(5_000).encode())
    assert response.status_code == 422


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_deep_ndjson_line_is_a_refused_item(api: Api, depth: int) -> None:
    body = (nested(depth) + "\n").encode()
    response = post_raw(api, "/v1/batches", body, "application/x-ndjson")
    assert response.status_code == 202
    items = no_server_error(api.get(response.json()["links"]["documents"])).json()
    assert items[0]["document"] is None
    assert items[0]["errors"][0]["error"] == "too_deep"
    assert f"line 1 nests deeper than {MAX_DEPTH} levels" in items[0]["errors"][0]["message"]


def test_an_integer_of_5000_digits_is_422(api: Api) -> None:
    body = json.dumps(sample("premium_invoice"))[:-1] + ', "x": ' + "7" * 5_000 + "}"
    response = post_raw(api, "/v1/documents", body.encode())
    assert response.status_code == 422
    assert response.json()["errors"][0]["error"] == "number_too_long"


def test_invalid_utf8_in_an_ndjson_batch_refuses_that_line_only(api: Api) -> None:
    good = sample("credit_limit_decision")
    good["document"]["our_reference"] = "UTF8-GOOD"
    body = b'{"document": "\xff\xfe"}\n' + json.dumps(good).encode() + b"\n"
    response = post_raw(api, "/v1/batches", body, "application/x-ndjson")
    assert response.status_code == 202
    items = no_server_error(api.get(response.json()["links"]["documents"])).json()
    assert items[0]["errors"][0]["error"] == "encoding"
    assert items[0]["errors"][0]["message"].startswith("line 1 is not UTF-8")
    assert items[1]["document"] is not None


def test_invalid_utf8_in_a_body_is_422(api: Api) -> None:
    response = post_raw(api, "/v1/documents", b'{"document": "\xc3\x28"}')
    assert response.status_code == 422 and response.json()["errors"][0]["error"] == "encoding"


def test_a_lone_surrogate_in_a_key_of_the_deliver_block_is_422(api: Api) -> None:
    body = json.dumps(sample("premium_invoice"))[:-1] + ', "deliver": {"email": {"\\udc00": 1}}}'
    response = post_raw(api, "/v1/documents", body.encode())
    assert response.status_code == 422
    assert fields(response) == {"deliver.email": fields(response)["deliver.email"]}
    assert "surrogate" in fields(response)["deliver.email"]


def test_a_lone_surrogate_in_a_delivery_body_is_422(api: Api) -> None:
    response = post_raw(api, "/v1/documents/x/deliveries", b'{"email": {"to": ["\\ud800"]}}')
    assert response.status_code == 422 and "email.to.0" in fields(response)


# --- numbers and dates out of range ---------------------------------------------------------

PAYLOAD_CASES: list[tuple[str, str, Mutation, str]] = [
    *[
        (
            "premium_invoice",
            f"amount {a}",
            put("lines.0.unit_price.amount", a),
            "lines.0.unit_price.amount",
        )
        for a in ("1E+400", "1e30", "123456789012345678901234567890.00", "1000000000000.00")
    ],
    ("premium_invoice", "quantity", put("lines.0.quantity", "1E+999999999"), "lines.0.quantity"),
    (
        "premium_invoice",
        "total beyond the words routine",
        put("lines.0.quantity", "999999999"),
        "lines",
    ),
    (
        "premium_invoice",
        "issue date",
        put("document.issue_date", "9999-12-31"),
        "document.issue_date",
    ),
    (
        "premium_invoice",
        "grace beyond 9999",
        put("invoice.period.start", "9999-12-31"),
        "invoice.period.start",
    ),
    (
        "renewal_pack",
        "text for a decimal",
        put("renewal.changes.0.previous", "abc"),
        "renewal.changes.0.previous",
    ),
    (
        "premium_invoice",
        "4 kB QR payload",
        put("cfdi.qr_payload", "https://verificacfdi.example/?" + "id=0&" * 800),
        "cfdi.qr_payload",
    ),
    (
        "premium_invoice",
        "Linear B legal name",  # CJK names are drawn (the packaged Noto Sans CJK subset)
        put("policyholder.legal_name", "𐀀𐀁𐀂 Comercial"),
        "policyholder.legal_name",
    ),
    (
        "credit_limit_decision",
        "emoji legal name",
        put("policyholder.legal_name", "ACME 🚀"),
        "policyholder.legal_name",
    ),
    (
        "claim_decision",
        "emoji insurer",
        put("insurer.legal_name", "Aseguradora 🛡"),
        "insurer.legal_name",
    ),
    # the crash cases of §3: passed validation, then failed in a template
    (
        "renewal_pack",
        "null SAC in a pack",
        put("insurer.complaints.sac", None),
        "insurer.complaints.sac",
    ),
    (
        "claim_filing_guide",
        "null UNE in a guide",
        put("insurer.complaints.une", None),
        "insurer.complaints.une",
    ),
    (
        "renewal_pack",
        "fee without amount or percent",
        drop("schedule.fees.0.amount"),
        "schedule.fees.0",
    ),
    (
        "renewal_pack",
        "maximum liability without amount",
        drop("schedule.cover.max_liability.amount"),
        "schedule.cover.max_liability",
    ),
    (
        "premium_invoice",
        "line break in a name",
        put("account_executive.name", "Ana\r\nBcc: all@example.com"),
        "account_executive.name",
    ),
    # registry columns (PostgreSQL refuses longer strings)
    (
        "premium_invoice",
        "reference over 120",
        put("document.our_reference", "R" * 121),
        "document.our_reference",
    ),
    ("premium_invoice", "policy number over 80", put("policy.number", "P" * 81), "policy.number"),
    (
        "premium_invoice",
        "tax id over 40",
        put("policyholder.tax_id", "T" * 41),
        "policyholder.tax_id",
    ),
    (
        "premium_invoice",
        "name over 300",
        put("policyholder.legal_name", "N" * 301),
        "policyholder.legal_name",
    ),
]


@pytest.mark.parametrize(
    ("kind", "mutate", "field"),
    [pytest.param(k, m, f, id=name) for k, name, m, f in PAYLOAD_CASES],
)
def test_a_payload_out_of_bounds_is_422_naming_the_field(
    api: Api, kind: str, mutate: Mutation, field: str
) -> None:
    payload = sample(kind)
    mutate(payload)
    for path in ("/v1/documents", "/v1/previews"):
        response = no_server_error(api.post(path, payload))
        assert response.status_code == 422, response.text[:300]
        assert field in fields(response), fields(response)
    batch = no_server_error(api.post("/v1/batches", [payload]))
    assert batch.status_code == 202 and batch.json()["counts"] == {"refused": 1}


def test_nothing_was_issued_by_the_refused_payloads(api: Api) -> None:
    listing = api.get("/v1/documents").json()
    assert {d["business_reference"] for d in listing["items"]} <= {"UTF8-GOOD"}


# --- numbers that would poison a series -------------------------------------------------------


def test_a_stated_number_far_ahead_of_its_series_is_422_and_the_series_still_numbers(
    tmp_path: Path,
) -> None:
    with api_server(fast_settings(tmp_path)) as running:
        api = Api(running)
        invoice = sample("premium_invoice")
        stated = copy.deepcopy(invoice)
        stated["invoice"]["number"] = "PRI-2026-999999"
        stated["cfdi"]["folio"] = "2026-999999"
        stated["document"]["our_reference"] = "POISON"
        response = no_server_error(api.post("/v1/documents", stated))
        assert response.status_code == 422, response.text
        message = fields(response)["invoice.number"]
        assert "PRI-2026-999999 is beyond the range series PRI can take" in message
        assert "up to PRI-2026-010000" in message
        first = api.post("/v1/documents", invoice).json()
        assert first["number"] == "PRI-2026-001874"  # within the range: recorded as stated
        # A series that gave its last number says so, on the field that names the series.
        with running.service.database.begin() as conn:
            conn.execute(insert(NumberSeries).values(series="PR", year=2026, last=999_999))
        unnumbered = es_invoice()
        del unnumbered["invoice"]["number"]
        exhausted = no_server_error(api.post("/v1/documents", unnumbered))
        assert exhausted.status_code == 422, exhausted.text
        assert fields(exhausted) == {
            "invoice.series": "series PR has no number left for 2026: PR-2026-999999 was the last"
        }
        api.http.close()


# --- malformed requests -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/documents", "/v1/batches", "/ui/compose", "/ui/login"])
def test_a_huge_declared_content_length_with_a_tiny_body_is_413(api: Api, path: str) -> None:
    port = int(api.running.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {api.key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{}".encode()
        )
        status = raw.recv(100).split(b"\r\n")[0]
    assert status == b"HTTP/1.1 413 Request Entity Too Large"


@pytest.mark.parametrize(
    "expiry", ["1" + "0" * 4_400, "1²", "²", "253402300800", "99999999999999999999", "-5", ""]
)
def test_a_download_token_with_a_malformed_expiry_is_422(api: Api, expiry: str) -> None:
    secret = api.service.secret
    document_id = "00000000-0000-0000-0000-000000000000"
    mac = "0" * 64
    if (
        expiry.isascii() and expiry.isdigit() and len(expiry) < 100
    ):  # signed: only the expiry is wrong
        mac = links._mac(secret, document_id, int(expiry))
    response = no_server_error(
        httpx.get(f"{api.running.base_url}/v1/downloads/{document_id}.{expiry}.{mac}")
    )
    assert response.status_code == 422 and fields(response).keys() == {"token"}


def test_a_signed_token_far_in_the_future_is_checked_without_overflow(api: Api) -> None:
    document_id = "00000000-0000-0000-0000-000000000000"
    epoch = 99_999_999_999  # year 5138: valid, and the document does not exist
    token = f"{document_id}.{epoch}.{links._mac(api.service.secret, document_id, epoch)}"
    response = no_server_error(httpx.get(f"{api.running.base_url}/v1/downloads/{token}"))
    assert response.status_code == 404


# --- the staff UI -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staff(api: Api) -> Iterator[tuple[httpx.Client, str]]:
    """A signed-in staff session and its CSRF token."""
    api.service.create_staff(email="hostile@example.com", password="correct horse battery")
    ui = httpx.Client(base_url=api.running.base_url, timeout=60)
    csrf = re.search(r'name="csrf" value="([^"]+)"', ui.get("/ui/login").text)
    assert csrf is not None
    ui.post(
        "/ui/login",
        data={"email": "hostile@example.com", "password": "correct horse battery", "csrf": csrf[1]},
    )
    page = ui.get("/ui/compose")
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    yield ui, token[1]
    ui.close()


@pytest.mark.parametrize("locale", ["zz", "en-XX", "es-XX", "", "x" * 5_000])
def test_the_staff_ui_refuses_an_unknown_locale_with_422(
    staff: tuple[httpx.Client, str], locale: str
) -> None:
    ui, csrf = staff
    # in both languages, so that side by side (Spanish and English) renders
    payload = json.dumps(in_language(sample("credit_limit_decision"), "en"))
    for action in ("preview", "side"):
        page = no_server_error(
            ui.post(
                "/ui/compose",
                data={
                    **{"payload": payload, "view": "json", "locale": locale},
                    **{"action": action, "csrf": csrf},
                },
            )
        )
        # side by side takes the payload's own language pair; an empty field is missing
        expected = 422 if action == "preview" or not locale else 200
        assert page.status_code == expected, page.text[:300]
    pdf = no_server_error(
        ui.post(
            "/ui/preview.pdf",
            data={"payload": payload, "view": "json", "locale": locale, "csrf": csrf},
        )
    )
    assert pdf.status_code == 422 and "locale" in pdf.text


@pytest.mark.parametrize(
    "text",
    [
        nested(10_000),
        '{"a": ' + "9" * 5_000 + "}",
        '{"a": "\\ud800"}',
        '{"document": {"locale": "zz"}}',
        '{"document": [1]}',
        '{"document": "x"}',
        '{"document": {"locale": 5, "jurisdiction": []}}',
        "[]",
        '"text"',
    ],
)
def test_the_staff_ui_refuses_hostile_payloads_with_422(
    staff: tuple[httpx.Client, str], text: str
) -> None:
    ui, csrf = staff
    for action in ("preview", "side"):
        page = no_server_error(
            ui.post(
                "/ui/compose",
                data={
                    **{"payload": text, "view": "json", "locale": "es-MX"},
                    **{"action": action, "csrf": csrf},
                },
            )
        )
        assert page.status_code == 422


# --- found by an attack run from outside the suite ------------------------------------------


@pytest.mark.parametrize("offset", [str(2**63), str(10**20), str(2**64)])
def test_a_list_offset_past_its_bound_is_422(api: Api, offset: str) -> None:
    listed = no_server_error(api.http.get(f"/v1/documents?offset={offset}", headers=api.auth()))
    assert listed.status_code == 422 and "offset" in fields(listed)


@pytest.mark.parametrize("token", ["\u00e9", "\ufffd", "a\u0301", "\U0001f680"])
def test_a_non_ascii_csrf_token_is_refused_not_a_500(
    api: Api, staff: tuple[httpx.Client, str], token: str
) -> None:
    """Signed out (sign-in form) and signed in (compose, sign-out): a refusal, never a 5xx."""
    with httpx.Client(base_url=api.running.base_url) as stranger:
        stranger.get("/ui/login")
        login = stranger.post(
            "/ui/login", data={"email": "hostile@example.com", "password": "x", "csrf": token}
        )
        assert no_server_error(login).status_code in (303, 401, 403)
    ui, _ = staff
    payload = json.dumps(sample("credit_limit_decision"))
    data = {"payload": payload, "view": "json", "locale": "es-MX", "action": "preview"}
    data["csrf"] = token
    assert no_server_error(ui.post("/ui/compose", data=data)).status_code in (303, 401, 403)
    assert no_server_error(ui.post("/ui/logout", data={"csrf": token})).status_code in (
        303,
        401,
        403,
    )
    assert ui.get("/ui/compose").status_code == 200  # the wrong token did not sign it out


def test_a_batch_of_more_payloads_than_allowed_is_refused_whole(api: Api) -> None:
    most = api.service.settings.max_batch_items
    lines = b"{}\n" * (most + 1)
    refused = post_raw(api, "/v1/batches", lines, "application/x-ndjson")
    assert refused.status_code == 422
    assert f"at most {most} payloads" in refused.text


# --- PostgreSQL: the model's bounds are the columns' --------------------------------------------


@pytest.fixture()
def api_pg(tmp_path: Path, pg_url: str) -> Iterator[Api]:
    """PostgreSQL registry, filesystem archive."""
    with api_server(fast_settings(tmp_path, database_url=pg_url)) as running:
        client = Api(running)
        yield client
        client.http.close()


def test_strings_at_the_column_lengths_are_stored_and_longer_ones_refused_on_postgres(
    api_pg: Api,
) -> None:
    """At the bound: issued. One over, alone or in a batch between good items: 422 for that
    item only, never a 500 half-way through a batch."""
    longest = sample("credit_limit_decision")
    longest["document"]["our_reference"] = "R" * 120
    longest["policy"]["number"] = "P" * 80
    # A tax ID is checked against its country's format (MX RFC, ES NIF), which no
    # 40-character ID meets; a policyholder registered elsewhere reaches the column's length.
    longest["policyholder"]["address"]["country"] = "US"
    longest["policyholder"]["tax_id"] = "T" * 40
    longest["policyholder"]["legal_name"] = "N" * 300
    issued = no_server_error(api_pg.post("/v1/documents", longest))
    assert issued.status_code == 201, issued.text
    assert issued.json()["business_reference"] == "R" * 120
    items = []
    for i, (path, value) in enumerate(
        [
            ("document.our_reference", "R" * 121),
            ("policy.number", "P" * 81),
            ("policyholder.tax_id", "T" * 41),
            ("policyholder.legal_name", "N" * 301),
        ]
    ):
        good = sample("credit_limit_decision")
        good["document"]["our_reference"] = f"PG-GOOD-{i}"
        bad = sample("credit_limit_decision")
        bad["document"]["our_reference"] = f"PG-BAD-{i}"
        put(path, value)(bad)
        alone = no_server_error(api_pg.post("/v1/documents", bad))
        assert alone.status_code == 422 and path in fields(alone)
        items += [good, bad]
    batch = no_server_error(api_pg.post("/v1/batches", items))
    assert batch.status_code == 202
    assert batch.json()["total"] == 8 and batch.json()["counts"].get("refused") == 4


@pytest.mark.parametrize(
    "path",
    [
        "/v1/documents/%00",
        "/v1/documents/%00/pdf",
        "/v1/documents/%00/deliveries",
        "/v1/batches/%00",
        "/v1/batches/%00/documents",
        "/v1/documents?policy_number=%00",
        "/v1/documents?policyholder=%00",
        "/v1/documents?kind=%00&status=%00&locale=%00",
        "/v1/documents/" + "x" * 5_000,
    ],
)
def test_control_characters_in_paths_and_queries_are_4xx_on_postgres(
    api_pg: Api, path: str
) -> None:
    """PostgreSQL refuses a NUL in a string parameter; the API never passes one on."""
    response = no_server_error(api_pg.http.get(path, headers=api_pg.auth()))
    assert response.status_code in (404, 422), response.text


def test_a_nul_in_a_staff_sign_in_is_4xx_on_postgres(api_pg: Api) -> None:
    with httpx.Client(base_url=api_pg.running.base_url, timeout=60) as ui:
        csrf = re.search(r'name="csrf" value="([^"]+)"', ui.get("/ui/login").text)
        assert csrf is not None
        response = no_server_error(
            ui.post(
                "/ui/login", data={"email": "a\x00@x.example", "password": "p", "csrf": csrf[1]}
            )
        )
        assert response.status_code in (401, 422)


def test_a_key_with_a_known_prefix_and_a_non_ascii_secret_is_401(api: Api) -> None:
    prefix = api.key.split("_")[1]
    response = no_server_error(
        api.http.get(
            "/v1/documents",
            headers={"Authorization": f"Bearer cor_{prefix}_é".encode("latin-1")},  # type: ignore[dict-item]
        )
    )
    assert response.status_code == 401
