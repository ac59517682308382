"""The staff preview UI in a real browser: Debian's Chromium driven by Playwright (never
`playwright install`), against the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from correspondence.config import PROJECT_ROOT
from correspondence.kinds import KINDS
from correspondence.service import SCOPES, Client
from tests.api.conftest import fast_settings
from tests.conftest import in_language
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


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_previews_in_spanish_and_english(page: Page, kind: str) -> None:
    """Side by side: both drafts are marked and carry the letter's own text."""
    sign_in(page)
    page.goto(f"/ui/compose?kind={kind}")
    sample = KINDS[kind].sample()
    other = "en" if sample["document"]["locale"].startswith("es") else "es"
    page.get_by_label("Payload (JSON)").fill(json.dumps(in_language(sample, other)))
    page.get_by_role("button", name="Spanish and English side by side").click()
    frames = page.locator("iframe")
    assert frames.count() == 2
    ids = [frames.nth(i).get_attribute("id") for i in range(2)]
    assert (
        ids[0] is not None
        and ids[0].startswith("preview-es")
        and ids[1] is not None
        and ids[1].startswith("preview-en")
    )
    spanish = page.frame_locator(f"#{ids[0]}").locator("body").inner_text()
    english = page.frame_locator(f"#{ids[1]}").locator("body").inner_text()
    assert "BORRADOR" in spanish and "DRAFT" in english
    for text in (spanish, english):
        assert sample["account_executive"]["name"] in text
        assert sample["policy"]["number"] in text
    assert "Página" in page.frame_locator(f"#{ids[0]}").locator("html").inner_html()


def test_broken_payload_shows_field_errors(page: Page) -> None:
    """Validation errors appear next to the JSON with their field paths."""
    sign_in(page)
    sample = KINDS["premium_invoice"].sample()
    del sample["account_executive"]["phone"]
    sample["totals"]["total"]["amount"] = 76067.0
    page.get_by_label("Payload (JSON)").fill(json.dumps(sample))
    page.get_by_role("button", name="Preview", exact=True).click()
    errors = page.get_by_role("alert").inner_text()
    assert "account_executive.phone" in errors and "totals.total.amount" in errors
    assert page.get_by_label("Payload (JSON)").get_attribute("aria-invalid") == "true"
    page.get_by_label("Payload (JSON)").fill("{not json")
    page.get_by_role("button", name="Preview", exact=True).click()
    assert "not JSON" in page.get_by_role("alert").inner_text()


def test_draft_pdf_opens_from_the_page(page: Page) -> None:
    """The compose form opens the draft PDF."""
    sign_in(page)
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open draft PDF").click()
    tab = opened.value
    tab.wait_for_load_state()
    response = page.context.request.post(
        "/ui/preview.pdf",
        form={
            "payload": page.get_by_label("Payload (JSON)").input_value(),
            "locale": "es-MX",
            "csrf": page.locator("input[name=csrf]").first.input_value(),
        },
    )
    assert response.headers["content-type"] == "application/pdf" and response.body().startswith(
        b"%PDF"
    )


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


def test_compose_page_screenshot(page: Page) -> None:
    """A screenshot of the compose page with a preview, kept as a test artifact."""
    sign_in(page)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.locator("iframe").element_handle().content_frame()
    assert preview is not None
    preview.locator("h1").wait_for()
    loaded = preview.evaluate(
        "() => document.fonts.ready.then(() => "
        "[...document.fonts].filter(f => f.status === 'loaded').length)"
    )
    assert loaded >= 2  # the packaged regular and bold faces, served under /ui/assets
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "compose.png"
    page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 10_000
    assert Path(target).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_preview_frame_is_sandboxed(page: Page) -> None:
    """The draft preview runs no script and cannot navigate the page: its iframe is
    sandboxed, keeping its origin only to load the packaged fonts and stylesheet."""
    sign_in(page)
    page.get_by_role("button", name="Preview", exact=True).click()
    frame = page.locator("iframe")
    assert frame.get_attribute("sandbox") == "allow-same-origin"
    preview = frame.element_handle().content_frame()
    assert preview is not None
    preview.locator("h1").wait_for()
    # The DOM can be read from outside, but a script element inside would not run.
    ran = page.evaluate(
        """() => {
            const doc = document.querySelector('iframe').contentDocument;
            const s = doc.createElement('script');
            s.textContent = 'window.top.ranInPreview = true';
            doc.body.appendChild(s);
            return window.ranInPreview === true;
        }"""
    )
    assert ran is False


def test_every_page_passes_axe(page: Page) -> None:
    """axe-core finds no serious or critical violation on sign-in (blank and with an
    error), compose (blank, with errors, with a preview), the document list and a
    document's page."""
    page.goto("/ui/login")
    assert_accessible(page, "sign-in")
    sign_in(page, "wrong password, wrong")
    assert_accessible(page, "sign-in with an error")
    sign_in(page)
    assert_accessible(page, "compose")
    page.get_by_role("button", name="Preview", exact=True).click()
    assert_accessible(page, "compose with a preview")
    page.get_by_label("Payload (JSON)").fill("{not json")
    page.get_by_role("button", name="Preview", exact=True).click()
    assert_accessible(page, "compose with an error")
    page.goto("/ui/documents")
    assert_accessible(page, "issued documents")
    page.get_by_role("link", name="PRI-2026-001874").click()
    assert_accessible(page, "a document")
