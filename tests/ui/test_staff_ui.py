"""The staff preview UI in a real browser: Debian's Chromium driven by Playwright (never
`playwright install`), against the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from correspondence.config import PROJECT_ROOT
from correspondence.kinds import KINDS
from correspondence.service import SCOPES, Client
from tests.api.conftest import fast_settings
from tests.servers import RunningApi, api_server
from tests.ui.axe import assert_accessible

EMAIL, PASSWORD = "laura@ejemplar-credito.example", "correct horse battery staple"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    with api_server(fast_settings(tmp_path_factory.mktemp("ui"))) as running:
        running.service.create_staff(email=EMAIL, password=PASSWORD)
        internal = Client(id=0, name="seed", scopes=frozenset(SCOPES))
        for kind in ("premium_invoice", "credit_limit_decision"):
            running.service.issue(KINDS[kind].sample(), client=internal)
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Browser, server: RunningApi) -> Iterator[Page]:
    context = browser.new_context(base_url=server.base_url)
    yield context.new_page()
    context.close()


def sign_in(page: Page, password: str = PASSWORD) -> None:
    page.goto("/ui/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_pages_need_a_session(page: Page) -> None:
    """Every page but sign-in sends an anonymous visitor to sign in."""
    for path in ("/ui/compose", "/ui/documents", "/ui/assets/css/document.css"):
        page.goto(path)
        assert page.url.endswith("/ui/login")


def test_sign_in_and_out_and_wrong_password(page: Page) -> None:
    """A wrong password is refused; the right one signs in; signing out ends the session."""
    sign_in(page, "wrong password, wrong")
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    sign_in(page)
    assert page.url.endswith("/ui/compose")
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/ui/login")
    page.goto("/ui/compose")
    assert page.url.endswith("/ui/login")


def test_sign_in_by_keyboard_alone(page: Page) -> None:
    """Tab between labelled fields and press Enter; the page language is set."""
    page.goto("/ui/login")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Email").focus()
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/compose")


def test_search_open_issued_pdf_and_resend(page: Page, server: RunningApi) -> None:
    """Find a document, open its archived PDF, resend it and see the new attempt."""
    sign_in(page)
    page.goto("/ui/documents")
    page.get_by_label("Policyholder").fill("nopal")
    page.get_by_label("Kind").select_option("premium_invoice")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#count").inner_text() == "Showing 1–1 of 1 document"
    page.get_by_role("link", name="PRI-2026-001874").click()
    sha = page.locator("#sha256").text_content()
    href = page.get_by_role("link", name="Open the archived PDF").get_attribute("href")
    assert href is not None
    pdf = page.context.request.get(href)
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.body()).hexdigest() == sha
    assert "No deliveries yet." in page.content()
    page.get_by_label("Send to (comma-separated addresses)").fill("tesoreria@nopalazul.example")
    page.get_by_role("button", name="Resend").click()
    assert page.get_by_role("status").inner_text() == "Queued for sending."
    deadline = time.monotonic() + 15
    while page.locator("#deliveries [data-outcome=sent]").count() == 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        page.reload()
    assert "tesoreria@nopalazul.example" in page.locator("#deliveries").inner_text()


def test_every_page_passes_axe(page: Page) -> None:
    """axe-core finds no serious or critical violation on sign-in (blank and with an
    error), the document list and a document's page (compose: tests/ui/test_compose.py)."""
    page.goto("/ui/login")
    assert_accessible(page, "sign-in")
    sign_in(page, "wrong password, wrong")
    assert_accessible(page, "sign-in with an error")
    sign_in(page)
    page.goto("/ui/documents")
    assert_accessible(page, "issued documents")
    page.get_by_role("link", name="PRI-2026-001874").click()
    assert_accessible(page, "a document")
