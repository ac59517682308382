"""The staff UI on failures: a failed document shows its reason and a retry button that
issues it; a failed delivery shows its reason (no "None" anywhere)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from correspondence.kinds import KINDS
from correspondence.registry.models import Delivery, Document
from correspondence.service import SCOPES, Client
from correspondence.statuses import DeliveryStatus, DocumentStatus
from tests.api.conftest import fast_settings
from tests.servers import RunningApi, api_server
from tests.ui.test_staff_ui import EMAIL, PASSWORD, browser, page, sign_in

__all__ = ["browser", "page"]  # the fixtures this module shares with test_staff_ui


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    with api_server(fast_settings(tmp_path_factory.mktemp("ui-failures"))) as running:
        running.service.create_staff(email=EMAIL, password=PASSWORD)
        yield running


def test_a_failed_document_shows_its_reason_and_is_retried(page: Page, server: RunningApi) -> None:
    svc = server.service
    internal = Client(id=0, name="seed", scopes=frozenset(SCOPES))
    outcome = svc.issue(KINDS["credit_limit_decision"].sample(), client=internal)
    document_id = outcome.document.id
    delivery, _ = svc.deliver(document_id, {"email": {"to": ["a@example.com"]}}, client=internal)
    # The server's sender sends it meanwhile: let it finish first, or its "sent" would
    # overwrite the failure written below (a race seen once in CI).
    deadline = time.monotonic() + 30
    while svc.deliveries(document_id, client=internal)[0].status != DeliveryStatus.SENT:
        assert time.monotonic() < deadline, "the delivery was never sent"
        time.sleep(0.1)
    with svc.registry.transaction() as tx:
        doc = tx.get_one(Document, document_id)
        doc.status, doc.last_error = DocumentStatus.FAILED, "archive refused the write"
        sent = tx.get_one(Delivery, delivery.id)
        sent.status, sent.last_error = DeliveryStatus.FAILED, "550 mailbox unavailable"
    sign_in(page)
    page.goto(f"/ui/documents/{document_id}")
    assert page.locator("#failure-reason").inner_text() == "archive refused the write"
    assert "None" not in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Open the archived PDF").count() == 0
    reasons = page.locator("#deliveries td.reason").all_inner_texts()
    assert "550 mailbox unavailable" in reasons
    page.get_by_role("button", name="Retry").click()
    deadline = time.monotonic() + 60
    while page.locator("#status").get_attribute("data-status") != "issued":
        assert time.monotonic() < deadline, page.locator("#status").inner_text()
        time.sleep(0.3)
        page.reload()
    assert page.locator("#failure").count() == 0
    assert page.get_by_role("link", name="Open the archived PDF").count() == 1
