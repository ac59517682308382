"""Credit limit letters rendered to PDF in both languages, every outcome, and golden text."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from correspondence.engine import Engine
from correspondence.formatting import Formatter
from tests.conftest import flat, in_language, load_sample, pdf_pages_text, pdf_text

SAMPLES = {
    "reduction": ("03_credit_limit_change_reduction_es-ES.json", "en-GB"),
    "withdrawal": ("03b_credit_limit_withdrawal_exceptional_en-GB.json", "es-MX"),
    "partial": ("05_credit_limit_decision_partial_es-MX.json", "en-US"),
}


def text_of(engine: Engine, payload: dict[str, Any], locale: str) -> str:
    """The PDF's text in ``locale``; free text the payload lacks in its language is added
    (tests.conftest.in_language), as a caller would send it."""
    payload = in_language(payload, locale.split("-")[0])
    return pdf_text(engine.render(engine.validate(payload), locale=locale).pdf)


def money(locale: str, amount: str, currency: str) -> str:
    from decimal import Decimal

    return flat(Formatter(locale, "UTC").money(Decimal(amount), currency))


def date_long(locale: str, iso: str) -> str:
    from datetime import date

    return Formatter(locale, "UTC").date_long(date.fromisoformat(iso))


@pytest.mark.parametrize("case", sorted(SAMPLES))
@pytest.mark.parametrize("own_locale", [True, False])
def test_sample_letters_render_in_both_languages(
    engine: Engine, case: str, own_locale: bool
) -> None:
    """New and previous limits, the effective date, the appeal deadline and the contact."""
    name, other = SAMPLES[case]
    payload = load_sample(name)
    locale = payload["document"]["locale"] if own_locale else other
    text = text_of(engine, payload, locale)
    currency = payload["policy"]["currency"]
    if "limit" in payload:
        new, previous = payload["limit"]["new"]["amount"], payload["limit"]["previous"]["amount"]
        effective = payload["change"]["effective_date"]
    else:
        new = payload["decision"]["amount_approved"]["amount"]
        previous = payload["request"]["amount_requested"]["amount"]
        effective = payload["decision"]["effective_date"]
        assert date_long(locale, payload["request"]["received_date"]) in text
        assert date_long(locale, payload["decision"]["date"]) in text
    assert money(locale, new, currency) in text
    assert money(locale, previous, currency) in text
    assert date_long(locale, effective) in text
    assert date_long(locale, payload["appeal"]["deadline_date"]) in text
    aex = payload["account_executive"]
    assert aex["name"] in text and aex["email"] in text and aex["phone"] in text


def test_exceptional_withdrawal_prints_its_reason_and_explanation(engine: Engine) -> None:
    """No advance notice, and the letter says why in plain words: the payload's
    explanation, not the reason code's stock phrase as well (a native reader's finding)."""
    payload = load_sample("03b_credit_limit_withdrawal_exceptional_en-GB.json")
    text = text_of(engine, payload, "en-GB")
    assert "Why we could not give you 30 days' notice" in text
    assert (
        "We could not do so this time. " + flat(payload["change"]["exceptional_explanation"])
        in text
    )
    assert "because the buyer has filed for insolvency proceedings" not in text
    assert "discretionary credit limit on this buyer: it is blocked" in text


def test_complaint_routes_follow_the_jurisdiction(engine: Engine) -> None:
    """ES: SAC then DGSFP. MX: UNE then CONDUSEF."""
    es = text_of(engine, load_sample("03_credit_limit_change_reduction_es-ES.json"), "es-ES")
    assert es.index("Servicio de Atención al Cliente") < es.index("DGSFP")
    mx = text_of(engine, load_sample("05_credit_limit_decision_partial_es-MX.json"), "es-MX")
    assert mx.index("(UNE)") < mx.index("CONDUSEF")


def _variants() -> dict[str, dict[str, Any]]:
    reduction = load_sample("03_credit_limit_change_reduction_es-ES.json")
    increase = copy.deepcopy(reduction)
    increase["change"].update(type="increase", effective_date="2026-11-23", reasons=[])
    increase["limit"]["new"]["amount"] = "200000.00"
    increase["exposure_treatment"] = None
    increase["buyer"]["rating"]["shareable"] = False
    del increase["appeal"]
    partial = load_sample("05_credit_limit_decision_partial_es-MX.json")
    approved = copy.deepcopy(partial)
    approved["decision"].update(
        outcome="approved", amount_approved=approved["request"]["amount_requested"]
    )
    approved["buyer_rating"]["shareable"] = False
    refused = copy.deepcopy(partial)
    refused["decision"].update(
        outcome="refused", amount_approved={"amount": "0.00", "currency": "MXN"}
    )
    return {
        "increase": increase,
        "reduction": reduction,
        "withdrawal": load_sample("03b_credit_limit_withdrawal_exceptional_en-GB.json"),
        "approved": approved,
        "partial": partial,
        "refused": refused,
    }


@pytest.mark.parametrize("outcome", sorted(_variants()))
@pytest.mark.parametrize("locale", ["es-ES", "es-MX", "en-GB", "en-US"])
def test_every_outcome_renders_in_every_locale(engine: Engine, outcome: str, locale: str) -> None:
    """Six outcomes × four locales; rating only when shareable; appeal only when needed."""
    payload = _variants()[outcome]
    payload = in_language(payload, locale.split("-")[0])
    pages = pdf_pages_text(engine.render(engine.validate(payload), locale=locale).pdf)
    text = flat(" ".join(pages))
    rating = payload.get("buyer", {}).get("rating") or payload.get("buyer_rating")
    if rating is not None and isinstance(rating["label"], dict):
        rating = {**rating, "label": rating["label"][locale[:2]]}
    shared = bool(rating and rating["shareable"])
    assert (rating is not None and f"{rating['value']} ({rating['label']})" in text) is shared
    needs_appeal = outcome not in ("increase", "approved")
    heading = "Si no está de acuerdo" if locale.startswith("es") else "If you disagree"
    assert (heading in text) is needs_appeal
    blocked = "queda bloqueado" if locale.startswith("es") else "it is blocked"
    assert (blocked in text) is (outcome in ("withdrawal", "refused"))
    assert payload["account_executive"]["name"] in flat(pages[0])


FEE_WORDING = {
    "es-MX": ("Cuota de estudio de comprador", "más IVA", "próxima factura de cuotas"),
    "es-ES": ("Gastos de estudio", "más IVA", "próxima factura de cuotas"),
    "en-GB": ("Buyer assessment fee", "plus VAT", "next fee invoice"),
    "en-US": ("Buyer assessment fee", "plus VAT", "next fee invoice"),
}


@pytest.mark.parametrize("locale", sorted(FEE_WORDING))
def test_the_fee_is_named_and_worded_by_the_template_per_locale(
    engine: Engine, locale: str
) -> None:
    """Issue 18: the decision's fee is a code; its name, tax and billing sentences are
    the locale's, never payload text."""
    payload = load_sample("05_credit_limit_decision_partial_es-MX.json")
    text = text_of(engine, payload, locale)
    name, tax, billing = FEE_WORDING[locale]
    amount = money(locale, payload["fee"]["amount"]["amount"], "MXN")
    assert f"{name}: {amount} {tax}." in text
    assert billing in text


def test_a_fee_label_in_the_payload_is_refused(engine: Engine) -> None:
    """A payload that still words its fee is refused naming the field."""
    from correspondence.errors import InvalidPayload

    payload = load_sample("05_credit_limit_decision_partial_es-MX.json")
    payload["fee"]["label"] = "Cuota de estudio"
    with pytest.raises(InvalidPayload) as caught:
        engine.validate(payload)
    assert "fee.label" in {p.field for p in caught.value.problems}
