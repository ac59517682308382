"""Issue 24 §3–6 in Debian's Chromium: the staff UI in English and Spanish, kinds and
statuses by name, the document page's summary, paging over more than 100 documents,
one-time form tokens (a double-click on Resend sends one email), security headers with
no CSP violation, and no sideways scroll at 390 px. axe-core runs on every page state in
both languages, and screenshots of the main screens go to ``test-artifacts/``."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from correspondence.kinds import KINDS
from correspondence.registry.models import Document
from correspondence.service import SCOPES, Client, DocumentQuery
from correspondence.statuses import DeliveryStatus, DocumentStatus
from tests.api.conftest import fast_settings
from tests.conftest import in_language
from tests.servers import RunningApi, api_server
from tests.ui.axe import assert_accessible
from tests.ui.test_staff_ui import ARTIFACTS, EMAIL, PASSWORD, browser

__all__ = ["browser"]  # the fixture this module shares with test_staff_ui

SPANISH = "rocio.fernandez-de-la-vega.departamento-de-suscripcion@aseguradora-ejemplar.example"
"""A Spanish-speaking member of staff with a long address (the header must wrap it)."""
PAGED_POLICY = "PAGING-0001"
PAGED = 109
INTERNAL = Client(id=0, name="seed", scopes=frozenset(SCOPES))


def _clone(svc: RunningApi, source_id: str, count: int, series: str = "9") -> list[str]:
    """``count`` copies of an issued document's row under one policy number (the list
    needs more than 100 documents; rendering each would only slow the test down)."""
    ids = []
    with svc.service.registry.transaction() as tx:
        row = tx.get_one(Document, source_id)
        columns = {c.key: getattr(row, c.key) for c in Document.__mapper__.column_attrs}
        for i in range(count):
            copy = Document(**columns)
            copy.id = str(uuid.uuid4())
            copy.number = f"PRI-2026-{series}{i:05d}"
            copy.business_reference = f"PAGING-{series}{i:03d}"
            copy.policy_number = PAGED_POLICY
            copy.issue_date = row.issue_date - timedelta(days=i)
            copy.created_at = row.created_at - timedelta(minutes=i)
            tx.add(copy)
            ids.append(copy.id)
    return ids


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    with api_server(fast_settings(tmp_path_factory.mktemp("ui-pages"))) as running:
        svc = running.service
        svc.create_staff(email=EMAIL, password=PASSWORD)
        svc.create_staff(email=SPANISH, password=PASSWORD, locale="es")
        invoice = svc.issue(KINDS["premium_invoice"].sample(), client=INTERNAL).document
        svc.issue(KINDS["credit_limit_change_notice"].sample(), client=INTERNAL)
        _clone(running, invoice.id, PAGED)
        yield running


@pytest.fixture()
def page(browser: Browser, server: RunningApi) -> Iterator[Page]:
    context = browser.new_context(base_url=server.base_url)
    yield context.new_page()
    context.close()


@pytest.fixture()
def spanish_page(browser: Browser, server: RunningApi) -> Iterator[Page]:
    """A browser that prefers Spanish (the sign-in page follows it)."""
    context = browser.new_context(base_url=server.base_url, locale="es-ES")
    yield context.new_page()
    context.close()


def sign_in(page: Page, email: str = EMAIL) -> None:
    page.goto("/ui/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/ui/login'] button[type=submit]").click()
    page.wait_for_url("**/ui/compose")


def document_id(server: RunningApi, kind: str) -> str:
    """The one document of ``kind`` issued for real (not a copy)."""
    listed = server.service.list(DocumentQuery(kind=kind, limit=200), client=INTERNAL).items
    (found,) = [
        d
        for d in listed
        if d.status == DocumentStatus.ISSUED and not d.business_reference.startswith("PAGING-")
    ]
    return found.id


def total(server: RunningApi) -> int:
    return server.service.list(DocumentQuery(limit=1), client=INTERNAL).total


def no_sideways_scroll(page: Page, state: str) -> None:
    widths = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{state}: scrollWidth {widths[0]} > clientWidth {widths[1]}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    target = ARTIFACTS / f"{name}-{width}.png"
    page.screenshot(path=str(target), full_page=True)
    assert Path(target).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paging_counts_and_keeps_the_filters(page: Page, server: RunningApi) -> None:
    """109 documents of one policy: three pages of 50, 50 and 9, with correct counts, and
    previous/next links that keep the search; every document appears exactly once."""
    sign_in(page)
    page.goto("/ui/documents")
    everything = total(server)
    assert everything > 100
    assert page.locator("#count").inner_text() == f"Showing 1–50 of {everything} documents"
    page.get_by_label("Policy number").fill(PAGED_POLICY)
    page.get_by_role("button", name="Search").click()
    seen: list[str] = []
    expected = [("1–50", 50), ("51–100", 50), ("101–109", 9)]
    for number, (shown, rows) in enumerate(expected, start=1):
        count = page.locator("#count").inner_text()
        assert count == f"Showing {shown} of {PAGED} documents", count
        references = page.locator("#documents tbody tr td:nth-child(3)").all_inner_texts()
        assert len(references) == rows
        seen += references
        pager = page.get_by_role("navigation", name="Pages")
        assert pager.get_by_text(f"Page {number} of 3").count() == 1
        assert pager.get_by_role("link", name="Previous page").count() == (number > 1)
        assert page.get_by_label("Policy number").input_value() == PAGED_POLICY
        assert_accessible(page, f"issued documents, page {number}")
        if number < 3:
            href = pager.get_by_role("link", name="Next page").get_attribute("href") or ""
            assert f"policy_number={PAGED_POLICY}" in href and f"page={number + 1}" in href
            pager.get_by_role("link", name="Next page").click()
    assert len(seen) == len(set(seen)) == PAGED
    assert all(r.startswith("PRI-2026-9") for r in seen)
    page.get_by_role("link", name="Previous page").click()
    assert page.locator("#count").inner_text() == f"Showing 51–100 of {PAGED} documents"
    page.goto(f"/ui/documents?policy_number={PAGED_POLICY}&page=99")
    assert page.locator("#count").inner_text() == f"Showing 101–109 of {PAGED} documents"
    page.goto(f"/ui/documents?policy_number={PAGED_POLICY}&size=100&page=2")
    assert page.locator("#count").inner_text() == f"Showing 101–109 of {PAGED} documents"
    page.goto("/ui/documents?policy_number=NOTHING-HERE")
    assert page.locator("#count").inner_text() == "No documents found."
    assert page.get_by_role("navigation", name="Pages").count() == 0
    assert_accessible(page, "issued documents, none found")


def test_the_document_page_leads_with_what_staff_read(page: Page, server: RunningApi) -> None:
    """Customer, kind by name, issue and effective dates, the amount (as the document's
    own locale writes it), status; hashes and versions only inside a closed details element."""
    sign_in(page)
    notice = KINDS["credit_limit_change_notice"].sample()
    page.goto(f"/ui/documents/{document_id(server, 'credit_limit_change_notice')}")
    assert (
        page.get_by_role("heading", level=1).inner_text().startswith("Credit limit change notice")
    )
    assert "credit_limit_change_notice" not in page.locator("main").inner_text()
    summary = page.locator("#summary").inner_text()
    assert notice["policyholder"]["legal_name"] in page.locator("#customer").inner_text()
    assert page.locator("#issued").inner_text() == "23 Nov 2026"
    assert page.locator("#effective").inner_text() == "23 Dec 2026"
    assert (
        "New credit limit" in summary and page.locator("#amount").inner_text() == "60.000,00\xa0€"
    )
    assert page.locator("#status").inner_text() == "Issued"
    details = page.locator("details#technical")
    assert details.get_attribute("open") is None
    assert not page.locator("#sha256").is_visible()
    assert "sha256" not in summary and "WeasyPrint" not in summary
    assert_accessible(page, "a document")
    details.locator("summary").click()
    assert page.locator("#sha256").is_visible()
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#sha256").inner_text())
    assert_accessible(page, "a document, technical details open")
    page.goto(f"/ui/documents/{document_id(server, 'premium_invoice')}")
    assert page.locator("#amount").inner_text() == "$76,067.00"
    assert page.locator("#effective").inner_text() == "1 Jan 2027"


def test_a_failed_document_shows_its_reason_in_both_languages(
    page: Page, server: RunningApi
) -> None:
    (failed,) = _clone(server, document_id(server, "premium_invoice"), 1, "8")
    with server.service.registry.transaction() as tx:
        row = tx.get_one(Document, failed)
        row.status, row.last_error = DocumentStatus.FAILED, "the archive refused the write"
        row.business_reference, row.number, row.policy_number = "FAILED-1", None, "FAILED-1"
    sign_in(page)
    page.goto(f"/ui/documents/{failed}")
    assert page.locator("#failure-reason").inner_text() == "the archive refused the write"
    assert page.locator("#status").inner_text() == "Failed"
    assert_accessible(page, "a failed document")
    page.get_by_role("button", name="Español", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Este documento falló" in page.locator("#failure").inner_text()
    assert page.locator("#status").inner_text() == "Fallido"
    assert_accessible(page, "a failed document, in Spanish")
    page.get_by_role("button", name="English", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_spanish_staff_see_the_ui_in_spanish(spanish_page: Page, server: RunningApi) -> None:
    """A member of staff whose language is Spanish reads every page in Spanish, kinds and
    statuses included; the sign-in page follows the browser's language."""
    page = spanish_page
    page.goto("/ui/login")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Iniciar sesión"
    assert_accessible(page, "sign-in, in Spanish")
    page.get_by_label("Correo electrónico").fill(SPANISH)
    page.get_by_label("Contraseña").fill("not the password at all")
    page.get_by_role("button", name="Iniciar sesión").click()
    assert page.get_by_role("alert").inner_text() == "Correo electrónico o contraseña incorrectos."
    assert_accessible(page, "sign-in with an error, in Spanish")
    sign_in(page, SPANISH)
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("link", name="Documentos emitidos").click()
    assert page.locator("#count").inner_text() == f"Mostrando 1–50 de {total(server)} documentos"
    kinds = page.locator("#documents tbody tr td:nth-child(2)").all_inner_texts()
    assert set(kinds) <= {"Factura de prima", "Aviso de cambio de límite de crédito"}
    assert "Emitido" in page.locator("#documents").inner_text()
    assert page.get_by_label("Tipo").locator("option").all_inner_texts() == [
        "Cualquier tipo",
        *sorted_names(page),
    ]
    assert_accessible(page, "issued documents, in Spanish")
    page.get_by_role("link", name="Página siguiente").click()
    assert page.locator("#count").inner_text() == f"Mostrando 51–100 de {total(server)} documentos"
    page.goto(f"/ui/documents/{document_id(server, 'credit_limit_change_notice')}")
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .startswith("Aviso de cambio de límite de crédito")
    )
    assert page.locator("#issued").inner_text() == "23 nov 2026"
    assert page.locator("#status").inner_text() == "Emitido"
    assert page.get_by_text("Detalles técnicos").count() == 1
    assert_accessible(page, "a document, in Spanish")
    page.get_by_role("button", name="Reenviar").click()
    assert "Escriba al menos una dirección de correo" in page.locator("#to-error").inner_text()
    assert_accessible(page, "a document with a resend error, in Spanish")


def sorted_names(page: Page) -> list[str]:
    options = page.get_by_label("Tipo").locator("option")
    values = [options.nth(i).get_attribute("value") for i in range(1, options.count())]
    assert values == sorted(KINDS)
    return options.all_inner_texts()[1:]


def test_the_language_switch_is_kept_per_member_of_staff(page: Page, server: RunningApi) -> None:
    sign_in(page)
    page.goto("/ui/documents?page=2")
    page.get_by_role("button", name="Español", exact=True).click()
    assert page.url.endswith("/ui/documents?page=2")
    assert page.locator("html").get_attribute("lang") == "es"
    assert server.service.sign_in(email=EMAIL, password=PASSWORD).locale == "es"
    page.get_by_role("button", name="Cerrar sesión").click()
    sign_in(page)
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("button", name="English", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert server.service.sign_in(email=EMAIL, password=PASSWORD).locale == "en"
    # An expired (or forged) sign-out form does nothing, and says so: still signed in.
    expired = page.context.request.post("/ui/logout", form={"form_token": "1.stale"})
    assert expired.url.endswith("/ui/documents?notice=expired")
    assert "had expired" in expired.text() and "Sign out" in expired.text()
    switched = page.context.request.post(
        "/ui/language", form={"form_token": "1.stale", "language": "es", "next": "/ui/compose"}
    )
    assert switched.url.endswith("/ui/compose?notice=expired") and 'lang="en"' in switched.text()
    assert_accessible(page, "issued documents")
    page.goto("/ui/documents?notice=expired")
    assert page.get_by_role("status").inner_text().startswith("This form had expired")
    assert_accessible(page, "a page with the expired-form notice")


def outbox_messages(server: RunningApi, address: str) -> int:
    folder = server.service.settings.resolved_outbox_dir
    return sum(address in p.read_text("utf-8", "replace") for p in folder.rglob("*.eml"))


def wait_until_sent(server: RunningApi, doc: str, address: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        mine = [d for d in server.service.deliveries(doc, client=INTERNAL) if address in d.to]
        if mine and all(d.status == DeliveryStatus.SENT for d in mine):
            return len(mine)
        assert time.monotonic() < deadline, [d.status for d in mine]
        time.sleep(0.2)


def test_a_double_click_on_resend_sends_one_email(page: Page, server: RunningApi) -> None:
    """Double-click, two submissions at once and a replay of the same form: one delivery,
    one email; the second submission says "Already done"."""
    doc = document_id(server, "credit_limit_change_notice")
    sign_in(page)
    page.goto(f"/ui/documents/{doc}")
    page.get_by_label("Send to (comma-separated addresses)").fill("doble@example.com")
    page.get_by_role("button", name="Resend").dblclick()
    page.wait_for_url("**notice=*")
    assert page.locator("#notice").count() == 1
    assert_accessible(page, "a document with a notice")
    assert wait_until_sent(server, doc, "doble@example.com") == 1
    assert outbox_messages(server, "doble@example.com") == 1

    page.goto(f"/ui/documents/{doc}")
    page.get_by_label("Send to (comma-separated addresses)").fill("a-la-vez@example.com")
    token = page.locator("form[action$='/resend'] input[name=form_token]").input_value()
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("form[action$='/resend']");
            const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
            const both = await Promise.all([send(), send()]);
            return Promise.all(both.map(async r => [r.status, await r.text()]));
        }"""
    )
    assert [s for s, _ in statuses] == [200, 200]
    assert sum("Already done" in text for _, text in statuses) == 1
    assert sum("Queued for sending." in text for _, text in statuses) == 1
    assert wait_until_sent(server, doc, "a-la-vez@example.com") == 1

    replay = page.context.request.post(
        f"/ui/documents/{doc}/resend", form={"to": "a-la-vez@example.com", "form_token": token}
    )
    assert replay.ok and "Already done" in replay.text()
    time.sleep(1)
    assert wait_until_sent(server, doc, "a-la-vez@example.com") == 1
    assert outbox_messages(server, "a-la-vez@example.com") == 1
    forged = page.context.request.post(
        f"/ui/documents/{doc}/resend", form={"to": "forged@example.com", "form_token": "1.x"}
    )
    assert forged.status == 409 and "had expired" in forged.text()
    assert "forged@example.com" not in str(server.service.deliveries(doc, client=INTERNAL))


def test_resend_errors_keep_the_typed_addresses_and_point_at_the_field(page: Page) -> None:
    sign_in(page)
    page.goto("/ui/documents")
    page.get_by_role("link", name="PRI-2026-001874").click()
    field = page.get_by_label("Send to (comma-separated addresses)")
    field.fill("tesoreria@nopalazul.example, not an address")
    page.get_by_role("button", name="Resend").click()
    assert field.input_value() == "tesoreria@nopalazul.example, not an address"
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "to-error"
    assert "not an address" in page.locator("#to-error").inner_text()
    summary = page.get_by_role("alert")
    assert summary.get_by_role("heading", name="There is a problem").count() == 1
    assert summary.get_by_role("link").first.get_attribute("href") == "#to"
    assert_accessible(page, "a document with a resend error")
    summary.get_by_role("link").first.click()
    assert page.evaluate("() => document.activeElement.id") == "to"
    screenshot(page, "document-with-error")


CSP = (
    "default-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)


def test_headers_and_no_csp_violation_on_any_page(page: Page, server: RunningApi) -> None:
    """Every /ui response carries the headers; Chromium reports no CSP violation on any
    page, the compose page with side-by-side previews included (its fonts still load)."""
    violations: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", listen)
    seen: dict[str, dict[str, str]] = {}
    page.on("response", lambda r: seen.__setitem__(r.url, r.headers))
    sign_in(page)
    doc = document_id(server, "premium_invoice")
    for path in (
        "/ui/documents",
        f"/ui/documents?policy_number={PAGED_POLICY}&page=2",
        f"/ui/documents/{doc}",
        "/ui/compose?kind=renewal_pack",
        "/ui/compose",
    ):
        page.goto(path)
    sample = in_language(KINDS["premium_invoice"].sample(), "en")
    page.get_by_role("button", name="Advanced: JSON").click()
    page.get_by_label("Payload (JSON)").fill(json.dumps(sample))
    page.get_by_role("button", name="Spanish and English side by side").click()
    assert page.locator("iframe").count() == 2
    frame = page.locator("iframe").first.element_handle().content_frame()
    assert frame is not None
    frame.locator("h1").wait_for()
    loaded = frame.evaluate(
        "() => document.fonts.ready.then(() => "
        "[...document.fonts].filter(f => f.status === 'loaded').length)"
    )
    assert loaded >= 2  # the packaged faces load under the policy
    pdf = page.context.request.get(f"/ui/documents/{doc}/pdf")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in pdf.headers["content-security-policy"]
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/ui/login")
    pages = {
        u: h for u, h in seen.items() if "/ui/" in u and "text/html" in h.get("content-type", "")
    }
    assert len(pages) >= 6
    for url, headers in pages.items():
        policy = headers["content-security-policy"]
        assert all(d in policy for d in CSP), (url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    previews = [h for u, h in pages.items() if "'unsafe-hashes'" in h["content-security-policy"]]
    assert previews, "the side-by-side page allows its previews' styles by hash"
    css = next(h for u, h in seen.items() if u.endswith("/ui/ui.css"))
    assert css["x-content-type-options"] == "nosniff" and css["content-type"].startswith("text/css")
    assert violations == []


def test_no_sideways_scroll_at_390_px_and_the_header_wraps_the_email(
    browser: Browser, server: RunningApi
) -> None:
    """At 390 px no page scrolls sideways, and the long signed-in address wraps inside
    the header instead of being clipped; screenshots at 1400 px and 390 px."""
    doc = document_id(server, "credit_limit_change_notice")
    for width, height in ((390, 844), (1400, 1000)):
        for email, language in ((SPANISH, "es"), (EMAIL, "en")):
            context = browser.new_context(
                base_url=server.base_url, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            page.goto("/ui/login")
            no_sideways_scroll(page, f"sign-in at {width}")
            if language == "en":
                screenshot(page, "sign-in")
            sign_in(page, email)
            for path, name in (
                ("/ui/documents", "documents"),
                (f"/ui/documents?policy_number={PAGED_POLICY}&page=3", "documents-page-3"),
                (f"/ui/documents/{doc}", "document"),
            ):
                page.goto(path)
                no_sideways_scroll(page, f"{name} at {width} px in {language}")
                who = page.locator("#signed-in-as")
                box = who.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                assert who.evaluate("e => e.scrollWidth <= e.clientWidth")
                assert who.inner_text() == email
                screenshot(page, f"{name}-{language}")
                if width == 390:
                    assert_accessible(page, f"{name} at 390 px in {language}")
            context.close()


def test_the_api_docs_pages_have_headers_and_no_csp_violation(
    browser: Browser, server: RunningApi
) -> None:
    """Swagger UI and ReDoc run under a policy that allows their one inline script by hash
    and no other site to frame them; Chromium reports no violation."""
    key = server.service.create_api_key(name="docs-headers", scopes=SCOPES)
    context = browser.new_context(
        base_url=server.base_url, http_credentials={"username": "x", "password": key}
    )
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    for path, ready in (("/docs", ".opblock"), ("/redoc", "h1")):
        response = page.goto(path)
        assert response is not None
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        script = next(d for d in policy.split("; ") if d.startswith("script-src"))
        assert "unsafe-inline" not in script and "unsafe-eval" not in script
        if path == "/docs":  # Swagger UI starts from an inline script: allowed by its hash
            assert "'sha256-" in script
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        page.wait_for_selector(ready, timeout=60_000)
    context.close()
    assert violations == []
