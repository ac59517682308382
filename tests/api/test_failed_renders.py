"""A render that fails for a reason in the payload ends ``failed``: the error recorded,
the attempt counted, the number kept (no gap, no second number), and the corrected payload
sent with ``"reissue": true`` takes the failed document's place. Nothing is retried for
ever and nothing blocks the way out (a failed renewal pack used to hold its number for
good: /retry and "reissue" both answered 409)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from correspondence.bootstrap import build_service
from correspondence.config import Settings
from correspondence.errors import RenderError
from correspondence.kinds import Validated
from correspondence.renderers import EnginePool, Rendered
from correspondence.workers import ProcessRenderers
from tests.api.conftest import Api, fast_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.conftest import load_sample
from tests.servers import api_server

CRASH = "Crashing Example S.L."


class CrashingRenderers(EnginePool):
    """Real engines that fail, as a template fed a bad value would, for one policyholder."""

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> Rendered:
        if validated.doc.policyholder.legal_name == CRASH:
            raise TypeError("'NoneType' object is not subscriptable")
        return super().render(validated, locale=locale, draft=draft)


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Api]:
    settings = fast_settings(tmp_path)
    service = build_service(settings, renderers=CrashingRenderers(settings, size=2))
    with api_server(settings, service=service) as running:
        client = Api(running)
        yield client
        client.http.close()


def crashing(payload: dict[str, Any]) -> dict[str, Any]:
    payload["policyholder"]["legal_name"] = CRASH
    return payload


def wait_for(api: Api, document_id: str, *statuses: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (doc := api.get(f"/v1/documents/{document_id}").json())["status"] not in statuses:
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)
    return doc


def test_a_failed_invoice_keeps_its_number_and_takes_the_corrected_payload(api: Api) -> None:
    first = api.post("/v1/documents", crashing(unnumbered_es_invoice("FAIL-1")))
    assert first.status_code == 422, first.text
    assert first.json()["errors"][0]["error"] == "render_failed"
    assert "reissue" in first.json()["errors"][0]["message"]
    failed = api.get(first.headers["Location"]).json()
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert "TypeError" in failed["last_error"]
    number = failed["number"]
    assert number is not None and number.endswith("-000001")

    # The same payload again is the same (failed) document; /retry tries it again and
    # counts the attempt; it fails again, and stays failed: no endless retry.
    again = api.post("/v1/documents", crashing(unnumbered_es_invoice("FAIL-1")))
    assert again.status_code == 200 and again.json()["id"] == failed["id"]
    retried = api.post(f"/v1/documents/{failed['id']}/retry", None)
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    assert wait_for(api, failed["id"], "failed")["attempts"] == 2

    fixed = api.post("/v1/documents", {**unnumbered_es_invoice("FAIL-1"), "reissue": True})
    assert fixed.status_code == 201, fixed.text
    issued = fixed.json()
    assert issued["id"] == failed["id"] and issued["version"] == 1
    assert issued["status"] == "issued" and issued["number"] == number
    assert issued["last_error"] is None and issued["attempts"] == 2
    assert api.get(f"/v1/documents/{issued['id']}/pdf").status_code == 200

    following = api.post("/v1/documents", unnumbered_es_invoice("FAIL-2")).json()
    assert following["number"] == number.replace("-000001", "-000002")  # no gap
    listed = api.get("/v1/documents", limit=100).json()
    assert listed["total"] == 2


def test_a_failed_renewal_pack_with_a_stated_number_can_be_reissued(api: Api) -> None:
    pack = load_sample("01_renewal_pack_es-ES.json")
    stated = pack["premium_invoice"]["invoice"]["number"]
    first = api.post("/v1/documents", crashing(load_sample("01_renewal_pack_es-ES.json")))
    assert first.status_code == 422
    failed = api.get(first.headers["Location"]).json()
    assert failed["status"] == "failed" and failed["number"] == stated

    other = load_sample("01_renewal_pack_es-ES.json")
    other["premium_invoice"]["invoice"]["number"] = stated[:-1] + "9"
    moved = api.post("/v1/documents", {**other, "reissue": True})
    assert moved.status_code == 409 and stated in moved.text  # the number stays its own

    fixed = api.post("/v1/documents", {**pack, "reissue": True})
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["id"] == failed["id"] and fixed.json()["number"] == stated
    assert fixed.json()["status"] == "issued"


def test_an_accepted_document_that_fails_is_failed_once_not_retried(api: Api) -> None:
    accepted = api.post(
        "/v1/documents",
        crashing(unnumbered_es_invoice("FAIL-ASYNC")),
        Prefer="respond-async",
    )
    assert accepted.status_code == 202
    failed = wait_for(api, accepted.json()["id"], "failed")
    assert failed["attempts"] == 1 and "TypeError" in failed["last_error"]
    time.sleep(1)  # the issuer polls every 0.1 s: it does not take it again
    assert api.get(f"/v1/documents/{failed['id']}").json()["attempts"] == 1
    fixed = api.post(
        "/v1/documents",
        {**unnumbered_es_invoice("FAIL-ASYNC"), "reissue": True},
        Prefer="respond-async",
    )
    assert fixed.status_code == 202 and fixed.json()["id"] == failed["id"]
    assert wait_for(api, failed["id"], "issued")["number"] == failed["number"]


def test_a_failure_in_a_worker_comes_back_as_a_render_error(settings: Settings) -> None:
    """What a template raises in a worker (here a ValueError from Python code it calls)
    reaches the service as a RenderError naming it, and the worker lives on."""
    pool = ProcessRenderers(settings, size=1)
    try:
        with pytest.raises(RenderError, match="ValueError: invalid literal"):
            pool.submit(int, "not a number").result()
        assert pool.submit(int, "12").result() == 12
        assert pool.started == 1
    finally:
        pool.close()
