"""Issue 22: /docs (Swagger UI) and /redoc (ReDoc) render in Debian's Chromium with every
request off 127.0.0.1 refused: their assets come from this server, not a CDN."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from correspondence.service import SCOPES
from tests.api.conftest import fast_settings
from tests.servers import api_server
from tests.ui.test_staff_ui import CHROMIUM_ARGS


@pytest.fixture(scope="module")
def offline_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Page, list[str]]]:
    with api_server(fast_settings(tmp_path_factory.mktemp("docs"))) as running:
        key = running.service.create_api_key(name="docs", scopes=SCOPES)
        refused: list[str] = []

        def only_local(route: Route) -> None:
            if route.request.url.startswith(running.base_url):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(
                base_url=running.base_url,
                http_credentials={"username": "integrator", "password": key},
            )
            context.route("**/*", only_local)
            yield context.new_page(), refused
            context.close()
            browser.close()


def test_swagger_ui_renders_every_operation_offline(offline_page: tuple[Page, list[str]]) -> None:
    page, refused = offline_page
    page.goto("/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/v1/documents" in [s.replace("\u200b", "") for s in summaries]
    assert len(summaries) >= 19
    assert refused == []


def test_redoc_renders_offline(offline_page: tuple[Page, list[str]]) -> None:
    page, refused = offline_page
    page.goto("/redoc")
    heading = page.get_by_role("heading", name="Issue Document").first
    heading.wait_for(timeout=60_000)
    assert "oneOf" in page.content() or "PremiumInvoiceRequest" in page.content()
    assert refused == []
