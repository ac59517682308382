"""Compose and preview in a real browser (Debian's Chromium through Playwright): the form
generated from each kind's schema, its repeatable groups, the advanced JSON view, the
error summary and the previews."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from api.kind_schemas import kind_schema
from api.ui_forms import Field, form_fields
from correspondence.config import PROJECT_ROOT
from correspondence.kinds import KINDS
from tests.api.conftest import fast_settings
from tests.conftest import in_language
from tests.servers import RunningApi, api_server
from tests.ui.axe import assert_accessible
from tests.ui.test_staff_ui import EMAIL, PASSWORD, browser, page, sign_in

__all__ = ["browser", "page"]  # the fixtures this module shares with test_staff_ui

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
NAME = "Zoë Prueba Formulario"
TYPED = {"es": "Texto escrito en el formulario", "en": "Text typed in the form"}
LANGUAGE = {"es": "Spanish", "en": "English"}
ADDED = {
    # kind: (a list whose last item is removed, added again and filled in, and the free
    # text of the item typed by label: "" when the item is itself the free text)
    "premium_invoice": ("lines", "description"),
    "credit_limit_change_notice": ("appeal.include", ""),
    "credit_limit_decision": ("decision.alternatives", ""),
    "claim_filing_guide": ("documents_required", "label"),
    "claim_decision": ("appeal.include", ""),
    "collection_update": ("cases.0.next_steps", "text"),
    "renewal_pack": ("terms_summary.exclusions", ""),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    with api_server(fast_settings(tmp_path_factory.mktemp("ui-compose"))) as running:
        running.service.create_staff(email=EMAIL, password=PASSWORD)
        yield running


def group(scope: Page | Locator, *names: str) -> Locator:
    """The fieldset named ``names[-1]`` inside the ones named before it (an optional one's
    legend says so after its name)."""
    found = scope
    for name in names:
        found = found.get_by_role("group", name=re.compile(rf"^{re.escape(name)}( \(optional\))?$"))
    assert isinstance(found, Locator)
    return found


def submit(page: Page, button: Locator) -> None:
    with page.expect_navigation():
        button.evaluate("b => b.click()")  # also when folded away in a <details>


def index(fields: list[Field] | tuple[Field, ...]) -> dict[str, Field]:
    found: dict[str, Field] = {}
    for each in fields:
        found[each.path] = each
        found.update(index(each.children))
    return found


def refill(page: Page, field: Field, skip: str) -> None:
    """Type ``field``'s values (from the payload it was drawn from) into the form's new,
    empty item at the same path: lists get their items added first."""
    if field.path == skip:
        return
    if field.kind == "list":
        for _ in field.children:
            submit(page, page.locator(f'button[value="add:{field.path}"]'))
    if field.kind == "freetext":
        for key, _name, text in field.texts:
            if text:
                page.locator(f"#{field.id}-{key}").evaluate("(e, v) => e.value = v", text)
    elif field.kind in ("group", "list"):
        for child in field.children:
            refill(page, child, skip)
    elif field.kind != "const" and field.value:
        page.locator(f"#{field.id}").evaluate("(e, v) => e.value = v", field.value)


def load_bilingual(page: Page, kind: str) -> dict[str, Any]:
    """Load ``kind``'s sample with its free texts in both languages (through the JSON
    view), as a Spanish and English preview side by side needs them; returns it."""
    sample = KINDS[kind].sample()
    other = "en" if sample["document"]["locale"].startswith("es") else "es"
    payload = in_language(sample, other)
    page.goto(f"/ui/compose?kind={kind}")
    open_json(page)
    page.get_by_label("Payload (JSON)").fill(json.dumps(payload))
    open_form(page)
    return payload


def open_json(page: Page) -> None:
    page.get_by_role("button", name="Advanced: JSON").click()


def open_form(page: Page) -> None:
    page.get_by_role("button", name="Form", exact=True).click()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_composes_through_the_form_in_both_languages(page: Page, kind: str) -> None:
    """A payload in both languages, pasted into the JSON view, is edited in the form: a
    name typed by label, a list's last item removed and added again with a free text typed
    in Spanish and English; both previews show what was typed."""
    sign_in(page)
    sample = KINDS[kind].sample()
    payload = load_bilingual(page, kind)
    group(page, "Account executive").get_by_label("Name", exact=True).fill(NAME)
    list_path, text_key = ADDED[kind]
    items = index(form_fields(kind_schema(KINDS[kind]), payload))[list_path]
    last = items.children[-1]
    submit(page, page.locator(f'button[value="remove:{last.path}"]'))
    assert page.locator(f'button[value="remove:{last.path}"]').count() == 0
    page.locator(f'button[value="add:{list_path}"]').click()
    typed_path = f"{last.path}.{text_key}" if text_key else last.path
    refill(page, last, skip=typed_path)
    text_group = group(page, f"{last.label} {last.number}")  # an item: its place follows
    if text_key:
        text_group = group(text_group, index(last.children)[typed_path].label)
    for language, text in TYPED.items():
        text_group.get_by_label(LANGUAGE[language], exact=True).fill(text)
    page.get_by_role("button", name="Spanish and English side by side").click()
    assert page.locator("#error-summary").count() == 0, page.locator("#error-summary").inner_text()
    frames = page.locator("iframe")
    assert frames.count() == 2
    for i, language in enumerate(("es", "en")):
        frame_id = frames.nth(i).get_attribute("id")
        assert frame_id is not None and frame_id.startswith(f"preview-{language}")
        text = page.frame_locator(f"#{frame_id}").locator("body").inner_text()
        assert NAME in text and TYPED[language] in text
        assert ("BORRADOR" if language == "es" else "DRAFT") in text
        assert sample["policy"]["number"] in text
    # What was typed stays in the form under the previews.
    assert group(page, "Account executive").get_by_label("Name", exact=True).input_value() == NAME


def check_summary(page: Page) -> dict[str, str]:
    """The error summary has the focus; each of its links moves the focus to its field,
    which is marked invalid and described by its message. Returns {field id: link text}."""
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = summary.get_by_role("link")
    targets = {}
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        assert href is not None and href.startswith("#f-")
        targets[href[1:]] = links.nth(i).inner_text()
    for target, message in targets.items():
        summary.get_by_role("link", name=message).click()
        assert page.evaluate("document.activeElement.id") == target
        field = page.locator(f"#{target}")
        assert field.get_attribute("aria-invalid") == "true"
        described = (field.get_attribute("aria-describedby") or "").split()
        assert f"{target}-error" in described
        assert message.split(": ", 1)[1] in page.locator(f"#{target}-error").inner_text()
    return targets


def test_errors_beside_their_fields_linked_from_a_summary(page: Page) -> None:
    """The service's messages show beside their fields and in a summary that takes the
    focus; its links move the focus to the fields; what was typed is kept."""
    sign_in(page)
    executive = group(page, "Account executive")
    executive.get_by_label("Phone", exact=True).fill("")
    executive.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_role("button", name="Refresh preview").click()
    assert set(check_summary(page)) == {"f-account_executive-phone"}
    assert executive.get_by_label("Name", exact=True).input_value() == NAME
    # A stated total that is not the computed one (checked once every field is valid).
    executive.get_by_label("Phone", exact=True).fill("+52 55 1234 5678")
    total = group(page, "Totals", "Total").get_by_label("Amount", exact=True)
    total.fill("1.00")
    page.get_by_role("button", name="Refresh preview").click()
    targets = check_summary(page)
    assert set(targets) == {"f-totals-total-amount"}
    assert "1.00" in targets["f-totals-total-amount"]  # the message names the stated value
    assert executive.get_by_label("Name", exact=True).input_value() == NAME
    assert total.input_value() == "1.00"
    # A whole number that is not one: refused by the form itself, the text kept.
    days = group(page, "Policy").get_by_label("Payment terms days")
    days.fill("thirty")
    page.get_by_role("button", name="Refresh preview").click()
    assert set(check_summary(page)) == {"f-policy-payment_terms_days"}
    error = page.locator("#f-policy-payment_terms_days-error").inner_text()
    assert "must be a whole number" in error
    assert days.input_value() == "thirty" and total.input_value() == "1.00"


def test_advanced_json_view_keeps_the_data_both_ways(page: Page) -> None:
    """Typed in the form, seen in the JSON; edited in the JSON, seen in the form; JSON
    that is not JSON stays as typed, with its error linked to the text box."""
    sign_in(page)
    group(page, "Account executive").get_by_label("Name", exact=True).fill(NAME)
    open_json(page)
    text = page.get_by_label("Payload (JSON)").input_value()
    assert json.loads(text)["account_executive"]["name"] == NAME
    edited = json.loads(text)
    edited["account_executive"]["phone"] = "+52 55 0000 1111"
    page.get_by_label("Payload (JSON)").fill(json.dumps(edited))
    open_form(page)
    executive = group(page, "Account executive")
    assert executive.get_by_label("Phone", exact=True).input_value() == "+52 55 0000 1111"
    assert executive.get_by_label("Name", exact=True).input_value() == NAME
    open_json(page)
    page.get_by_label("Payload (JSON)").fill("{not json")
    open_form(page)
    assert "not JSON" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Payload (JSON)").input_value() == "{not json"
    page.get_by_role("alert").get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "payload"
    # What the form has no field for keeps the JSON view, with the paths named.
    edited["surprise"] = 1
    page.get_by_label("Payload (JSON)").fill(json.dumps(edited))
    open_form(page)
    alert = page.get_by_role("alert").inner_text()
    assert "surprise" in alert and "edit it in the JSON view" in alert
    assert json.loads(page.get_by_label("Payload (JSON)").input_value())["surprise"] == 1


def test_add_another_and_remove(page: Page) -> None:
    """ "Add another" adds an empty item and moves the focus into it; "Remove" removes it."""
    sign_in(page)
    page.goto("/ui/compose?kind=credit_limit_decision")
    before = page.locator('button[value^="remove:decision.alternatives."]').count()
    page.locator('button[value="add:decision.alternatives"]').click()
    after = page.locator('button[value^="remove:decision.alternatives."]').count()
    assert after == before + 1
    new = f"f-decision-alternatives-{before}-es"
    assert page.evaluate("document.activeElement.id") == new
    assert page.locator(f"#{new}").input_value() == ""
    page.locator(f'button[value="remove:decision.alternatives.{before}"]').click()
    assert page.locator('button[value^="remove:decision.alternatives."]').count() == before


def test_every_compose_state_passes_axe(page: Page) -> None:
    """axe-core on compose: blank, with errors, with a preview, side by side, and the
    advanced JSON view (with and without an error)."""
    sign_in(page)
    assert_accessible(page, "compose, blank")
    group(page, "Account executive").get_by_label("Phone", exact=True).fill("")
    page.get_by_role("button", name="Refresh preview").click()
    assert page.get_by_role("alert").count() == 1
    assert_accessible(page, "compose with errors")
    group(page, "Account executive").get_by_label("Phone", exact=True).fill("+52 55 1234 5678")
    page.get_by_role("button", name="Refresh preview").click()
    assert page.locator("iframe").count() == 1
    assert_accessible(page, "compose with a preview")
    load_bilingual(page, "credit_limit_decision")
    page.get_by_role("button", name="Spanish and English side by side").click()
    assert page.locator("iframe").count() == 2
    assert_accessible(page, "compose side by side")
    open_json(page)
    assert_accessible(page, "compose, advanced JSON")
    page.get_by_label("Payload (JSON)").fill("{not json")
    page.get_by_role("button", name="Refresh preview").click()
    assert_accessible(page, "compose, advanced JSON with an error")


def no_sideways_scroll(page: Page) -> dict[str, Any]:
    sizes: dict[str, Any] = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth,"
        " client: document.scrollingElement.clientWidth})"
    )
    return sizes


def test_screenshots_and_no_sideways_scroll_at_390_px(page: Page) -> None:
    """The form at 1400 px and at 390 px (kept as test artifacts); at 390 px the page
    does not scroll sideways, blank, with errors or with the previews side by side."""
    sign_in(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto("/ui/compose?kind=credit_limit_decision")
    page.screenshot(path=str(ARTIFACTS / "compose-form.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    sizes = no_sideways_scroll(page)
    assert sizes["scroll"] <= sizes["client"], sizes
    page.screenshot(path=str(ARTIFACTS / "compose-form-390.png"))
    group(page, "Account executive").get_by_label("Phone", exact=True).fill("")
    page.get_by_role("button", name="Refresh preview").click()
    assert page.get_by_role("alert").count() == 1
    sizes = no_sideways_scroll(page)
    assert sizes["scroll"] <= sizes["client"], sizes
    load_bilingual(page, "credit_limit_decision")
    page.get_by_role("button", name="Spanish and English side by side").click()
    assert page.locator("iframe").count() == 2
    sizes = no_sideways_scroll(page)
    assert sizes["scroll"] <= sizes["client"], sizes
    for name in ("compose-form.png", "compose-form-390.png"):
        assert (ARTIFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draft_pdf_opens_from_the_page(page: Page) -> None:
    """The compose form opens the draft PDF, from the form and from the JSON view."""
    sign_in(page)
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open draft PDF").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.endswith("/ui/preview.pdf")
    response = page.context.request.post(
        "/ui/preview.pdf",
        form={
            "view": "json",
            "payload": json.dumps(KINDS["premium_invoice"].sample()),
            "locale": "es-MX",
            "csrf": page.locator("input[name=csrf]").first.input_value(),
        },
    )
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_compose_page_screenshot(page: Page) -> None:
    """A screenshot of the compose page with a preview, kept as a test artifact."""
    sign_in(page)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.get_by_role("button", name="Refresh preview").click()
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
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_preview_frame_is_sandboxed(page: Page) -> None:
    """The draft preview runs no script and cannot navigate the page: its iframe is
    sandboxed, keeping its origin only to load the packaged fonts and stylesheet."""
    sign_in(page)
    page.get_by_role("button", name="Refresh preview").click()
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


def test_the_compose_stylesheet_needs_a_session(page: Page) -> None:
    """The form's own stylesheet is served to staff only, as CSS."""
    page.goto("/ui/compose.css")
    assert page.url.endswith("/ui/login")
    sign_in(page)
    response = page.context.request.get("/ui/compose.css")
    assert response.headers["content-type"].startswith("text/css")
    assert b".error-summary" in response.body()
