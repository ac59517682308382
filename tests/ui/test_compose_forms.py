"""The compose form from a kind's JSON Schema (api.ui_forms), without a browser:
payload → form fields → submitted items → payload gives the payload back, and the page
the template draws submits exactly those items."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from api.kind_schemas import kind_schema
from api.ui_compose import unshown
from api.ui_form_lists import add_item, remove_item
from api.ui_forms import Field, form_fields, items_of, payload_from_form
from api.ui_i18n import texts
from api.ui_pages import environment
from api.ui_tokens import FIELD
from correspondence.kinds import KINDS, SAMPLES_DIR

SAMPLES = sorted(p.name for p in SAMPLES_DIR.glob("*.json"))


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES_DIR / name).read_text("utf-8"))
    return loaded


def round_trip(payload: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    schema = kind_schema(KINDS[payload["document"]["type"]])
    back, problems = payload_from_form(schema, items_of(form_fields(schema, payload)))
    return back, problems


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_comes_back_from_its_form(name: str) -> None:
    payload = sample(name)
    assert round_trip(payload) == (payload, [])


@pytest.mark.parametrize("name", SAMPLES)
def test_the_form_shows_all_of_every_sample(name: str) -> None:
    payload = sample(name)
    kind = payload["document"]["type"]
    assert unshown(kind, payload) == []
    odd = {**payload, "surprise": 1, "policy": {**payload["policy"], "number": ["a", "list"]}}
    assert sorted(p.field for p in unshown(kind, odd)) == ["policy.number", "surprise"]


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), min_size=1)


def _mutate(node: Any, draw: Any) -> Any:
    """``node`` with some strings, numbers and booleans changed and some lists cut."""
    if isinstance(node, dict):
        return {k: _mutate(v, draw) for k, v in node.items()}
    if isinstance(node, list):
        kept = node[: draw(st.integers(0, len(node)))] if draw(st.booleans()) else node
        return [_mutate(v, draw) for v in kept]
    if isinstance(node, bool):
        return draw(st.booleans())
    if isinstance(node, int):
        return draw(st.integers(-(10**9), 10**9))
    if isinstance(node, str) and draw(st.integers(0, 3)) == 0:
        return draw(TEXT)
    return node


@st.composite
def payloads(draw: Any) -> dict[str, Any]:
    payload = sample(draw(st.sampled_from(SAMPLES)))
    mutated: dict[str, Any] = _mutate(payload, draw)
    mutated["document"]["type"] = payload["document"]["type"]
    return mutated


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_any_payload_of_the_samples_shape_comes_back(payload: dict[str, Any]) -> None:
    """Texts of any characters (new lines too), other numbers, cut lists: all come back."""
    assert round_trip(payload) == (payload, [])


def test_typed_text_that_is_no_value_is_kept_and_named() -> None:
    payload = sample("02_premium_invoice_es-MX.json")
    schema = kind_schema(KINDS["premium_invoice"])
    items = items_of(form_fields(schema, payload))
    items["policy.payment_terms_days"] = "thirty"
    items["lines.0.quantity"] = "1,5"  # a decimal stays the text typed: the service judges
    back, problems = payload_from_form(schema, items)
    assert [(p.field, p.message) for p in problems] == [
        ("policy.payment_terms_days", "must be a whole number")
    ]
    assert back["policy"]["payment_terms_days"] == "thirty"
    assert back["lines"][0]["quantity"] == "1,5"


def test_submitted_counts_make_no_more_items_than_were_submitted() -> None:
    payload = sample("02_premium_invoice_es-MX.json")
    schema = kind_schema(KINDS["premium_invoice"])
    items = items_of(form_fields(schema, payload))
    forged = {**items, "lines#": "99999999999", **{f"lines.{i}.tax#": "500" for i in range(500)}}
    back, _problems = payload_from_form(schema, forged)
    made = len(back["lines"]) + sum(len(line.get("tax", [])) for line in back["lines"])
    assert made <= len(forged) and len(back["lines"]) > len(payload["lines"])


def test_adding_and_removing_list_items() -> None:
    payload = sample("05_credit_limit_decision_partial_es-MX.json")
    schema = kind_schema(KINDS["credit_limit_decision"])
    reasons = payload["decision"]["reasons"]
    added = add_item(schema, payload, "decision.reasons")
    assert added["decision"]["reasons"] == [*reasons, {}]
    assert payload["decision"]["reasons"] == reasons  # a new payload, the old one untouched
    assert remove_item(schema, added, f"decision.reasons.{len(reasons)}") == payload
    # An absent list is made with its parents; a path that names no list changes nothing.
    without = copy.deepcopy(payload)
    without["account_executive"].pop("languages", None)
    assert add_item(schema, without, "account_executive.languages")["account_executive"][
        "languages"
    ] == [""]
    for path in ("decision", "decision.reasons.99", "nope.x", "../etc", "decision.reasons.0"):
        assert add_item(schema, payload, path) == payload
    assert remove_item(schema, payload, "decision.reasons.99") == payload


class FormItems(HTMLParser):
    """What a browser submits for the compose form of a page, nothing changed."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, str] = {}
        self.inside = False
        self.textarea: str | None = None
        self.select: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == "compose-form"
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            self.items[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea, self.items[a["name"]] = a["name"], ""
        elif tag == "select":
            self.select, self.first_option = a["name"], None
        elif tag == "option" and self.select:
            self.first_option = self.first_option or a.get("value", "")
            if "selected" in a:
                self.items[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea:
            # a browser drops the new line that starts a text box (the template adds one)
            self.items[self.textarea] = self.items[self.textarea].removeprefix("\n")
            self.textarea = None
        elif tag == "select" and self.select:
            self.items.setdefault(self.select, self.first_option or "")
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.items[self.textarea] += data


@pytest.mark.parametrize("name", SAMPLES)
def test_the_page_submits_the_items_of_the_fields(name: str) -> None:
    payload = sample(name)
    kind = payload["document"]["type"]
    fields = form_fields(kind_schema(KINDS[kind]), payload)
    context = {
        **{"csrf": "token", "staff": None, "kinds": sorted(KINDS), "locales": ["es-MX"]},
        **{"kind": kind, "locale": "es-MX", "view": "form", "fields": fields, "text": ""},
        **{"problems": [], "errors": {}, "previews": [], "focus": ""},
        **{"form_token": lambda: "once", "token_field": FIELD, "here": "/ui/compose"},
        **{"languages": [], "notice": ""},
        **texts("en").context(),
    }
    html = environment().get_template("ui/compose.html").render(**context)
    parser = FormItems()
    parser.feed(html)
    submitted = parser.items
    fixed = {"csrf": "token", FIELD: "once", "kind": kind, "view": "form", "locale": "es-MX"}
    for key, value in fixed.items():
        assert submitted.pop(key) == value
    assert submitted == items_of(fields)
    assert payload_from_form(kind_schema(KINDS[kind]), submitted) == (payload, [])


def _labels(fields: list[Field] | tuple[Field, ...]) -> set[str]:
    """The labels a form shows (a fixed value, ``const``, is sent without one)."""
    return {each.label for each in fields if each.kind != "const"} | {
        label for each in fields for label in _labels(each.children)
    }


@pytest.mark.parametrize(
    "name", ["01_renewal_pack_es-ES.json", "06_claim_decision_partial_es-ES.json"]
)
def test_a_spanish_member_of_staff_reads_the_form_in_spanish(name: str) -> None:
    """Every label of the form is a message of the UI's catalog, drawn in the staff
    member's language: the Spanish page shows each label's Spanish wording."""
    payload = sample(name)
    kind = payload["document"]["type"]
    fields = form_fields(kind_schema(KINDS[kind]), payload)
    spanish = texts("es")
    context = {
        **{"csrf": "token", "staff": None, "kinds": sorted(KINDS), "locales": ["es-ES"]},
        **{"kind": kind, "locale": "es-ES", "view": "form", "fields": fields, "text": ""},
        **{"problems": [], "errors": {}, "previews": [], "focus": ""},
        **{"form_token": lambda: "once", "token_field": FIELD, "here": "/ui/compose"},
        **{"languages": [], "notice": ""},
        **spanish.context(),
    }
    html = environment().get_template("ui/compose.html").render(**context)
    labels = _labels(fields)
    translated = {label: spanish.gettext(label) for label in labels}
    assert len(labels) > 40
    assert sum(label != shown for label, shown in translated.items()) > 0.9 * len(labels)
    assert all(escape(shown) in html for shown in translated.values())
