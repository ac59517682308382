"""Review before issue in a real browser (issue 24, point 1): two members of staff, Debian's
Chromium driven by Playwright, the app served by uvicorn on 127.0.0.1 with its issuer and
its mail outbox running."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from correspondence.registry.models import WebhookEvent
from correspondence.results import DocumentInfo
from correspondence.service import SCOPES, Client
from tests.api.conftest import fast_settings
from tests.conftest import es_invoice, load_sample
from tests.servers import RunningApi, api_server
from tests.ui.axe import assert_accessible
from tests.ui.test_staff_ui import ARTIFACTS, browser

__all__ = ["browser"]  # the fixture this module shares with test_staff_ui

A, B = "ana@ejemplar-credito.example", "bruno@ejemplar-credito.example"
PASSWORD = "correct horse battery staple"
EVERYTHING = Client(id=0, name="test", scopes=frozenset(SCOPES))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    data = tmp_path_factory.mktemp("review-ui")
    settings = fast_settings(data, webhook_allowed_hosts=["127.0.0.1"])
    with api_server(settings) as running:
        for email in (A, B):
            running.service.create_staff(email=email, password=PASSWORD)
        yield running


@pytest.fixture()
def page(browser: Browser, server: RunningApi) -> Iterator[Page]:
    context = browser.new_context(base_url=server.base_url)
    context.set_default_timeout(60_000)  # drafts render on a busy 2-core machine
    expect.set_options(timeout=60_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, email: str) -> None:
    page.goto("/ui/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/compose")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login")


def submit_from_the_ui(page: Page, payload: str) -> None:
    """Compose in the JSON view and press "Submit for review"."""
    page.goto("/ui/compose")
    page.get_by_role("button", name="Advanced: JSON").click()
    page.get_by_label("Payload (JSON)").fill(payload)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()


def wait_for(server: RunningApi, document_id: str, status: str) -> DocumentInfo:
    deadline = time.monotonic() + 60
    while True:
        info = server.service.get(document_id, client=EVERYTHING)
        if info.status == status or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def outbox_files(server: RunningApi) -> list[Path]:
    return sorted(Path(server.service.settings.resolved_outbox_dir).glob("**/*.eml"))


def test_the_whole_review_flow_with_two_members_of_staff(page: Page, server: RunningApi) -> None:
    svc = server.service
    key = svc.create_api_key(name="upstream", scopes=SCOPES)
    http = httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {key}"},
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    assert http.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks"}).status_code == 201

    # Upstream asks for a letter with review: it waits, unnumbered, in the queue.
    asked = {**load_sample("03_credit_limit_change_reduction_es-ES.json"),
             "review": {"required": True}}  # fmt: skip
    answer = http.post("/v1/documents", json=asked)
    assert answer.status_code == 202, answer.text
    from_api = answer.json()
    assert from_api["status"] == "in_review" and from_api["number"] is None
    assert from_api["review"]["state"] == "pending"

    # The review pages need a session, as every other page.
    for path in ("/ui/review", f"/ui/review/{from_api['id']}"):
        page.goto(path)
        assert page.url.endswith("/ui/login")

    # A composes an invoice and submits it for review from the UI.
    sign_in(page, A)
    invoice = es_invoice()  # numbered by the registry when it is approved
    del invoice["invoice"]["number"]
    invoice["deliver"] = {"email": {"to": ["cuentas@cliente.example"]}}
    wrong = copy.deepcopy(invoice)
    wrong["totals"]["total"]["amount"] = "1.00"
    submit_from_the_ui(page, json.dumps(wrong))
    expect(page.get_by_role("alert")).to_contain_text("totals.total.amount")
    assert json.loads(page.get_by_label("Payload (JSON)").input_value()) == wrong
    assert_accessible(page, "a refused submission")
    submit_from_the_ui(page, json.dumps(invoice))
    expect(page.get_by_role("status")).to_contain_text("Submitted for review")
    composed_id = page.url.split("/ui/review/")[1].split("?")[0]
    assert_accessible(page, "the review page of one's own document")

    # A's own approval is refused, next to the button; nothing changes.
    page.get_by_role("button", name="Approve and issue").click()
    expect(page.locator("#approve-error")).to_have_text(
        "you composed this document: another member of staff must approve it"
    )
    assert_accessible(page, "a refused self-approval")
    assert svc.get(composed_id, client=EVERYTHING).status == "in_review"

    # The queue shows both documents, with customer, kind, who asked and when.
    page.goto("/ui/review")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Credit limit change notice")
    expect(rows.nth(0)).to_contain_text("upstream (API key)")
    expect(rows.nth(0)).to_contain_text("asked for in the request")
    expect(rows.nth(1)).to_contain_text(A)
    expect(rows.nth(1)).to_contain_text("submitted from the compose page")
    assert_accessible(page, "the review queue")
    screenshot(page, "review-queue.png")
    sign_out(page)

    # B approves A's invoice: it is numbered, archived and emailed by the issuer.
    sign_in(page, B)
    page.goto(f"/ui/review/{composed_id}")
    frame = page.frame_locator("#draft")
    expect(frame.locator("body")).to_contain_text("BORRADOR")
    draft = page.request.get(f"/ui/review/{composed_id}/draft.pdf")
    assert draft.ok and draft.body().startswith(b"%PDF-")
    assert_accessible(page, "the review page")
    screenshot(page, "review.png")
    before = len(outbox_files(server))
    page.get_by_role("button", name="Approve and issue").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    assert_accessible(page, "the queue after an approval")
    issued = wait_for(server, composed_id, "issued")
    assert issued.status == "issued" and issued.number and issued.archive_key
    assert svc.archive.get(key=issued.archive_key).startswith(b"%PDF-")
    deadline = time.monotonic() + 30
    while len(outbox_files(server)) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(outbox_files(server)) == before + 1
    got = http.get(f"/v1/documents/{composed_id}").json()  # staff documents: read:all key
    assert got["review"]["decided_by"] == f"staff:{B}" and got["review"]["state"] == "approved"

    # B rejects upstream's letter: the reason is required, and kept next to its field.
    page.goto(f"/ui/review/{from_api['id']}")
    page.get_by_label("Reason for rejecting").fill("   ")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#reason-error")).to_contain_text("say why the document is rejected")
    expect(page.get_by_label("Reason for rejecting")).to_have_value("   ")
    assert_accessible(page, "a rejection without a reason")
    page.get_by_label("Reason for rejecting").fill("The reduction date is wrong")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("Rejected")
    expect(page.locator("tbody tr")).to_have_count(0)
    assert_accessible(page, "an empty review queue")

    rejected = http.get(f"/v1/documents/{from_api['id']}").json()
    assert rejected["status"] == "rejected" and rejected["number"] is None
    assert rejected["review"] == {
        **rejected["review"],
        "state": "rejected",
        "reason": "The reduction date is wrong",
        "decided_by": f"staff:{B}",
    }
    listed = http.get("/v1/documents", params={"status": "rejected"}).json()
    assert [d["id"] for d in listed["items"]] == [from_api["id"]]
    with svc.registry.transaction() as tx:
        types = {
            e.type
            for e in tx.query(WebhookEvent).filter(WebhookEvent.document_id == from_api["id"])
        }
    assert types == {"document.review_requested", "document.rejected"}
    page.goto(f"/ui/review/{from_api['id']}")
    expect(page.locator("#decision-reason")).to_have_text("The reduction date is wrong")
    assert_accessible(page, "a rejected document's review page")
    http.close()
