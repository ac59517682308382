"""Claims correspondence rendered to PDF: every sample in both languages, every outcome."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from correspondence.engine import Engine
from correspondence.formatting import Formatter
from correspondence.kinds import SAMPLES_DIR
from tests.conftest import PLACEHOLDER, flat, in_language, load_sample, pdf_text


def render_text(engine: Engine, payload: dict[str, Any], locale: str) -> str:
    """The PDF's text in ``locale``; free text the payload lacks in its language is added
    (tests.conftest.in_language), as a caller would send it."""
    payload = in_language(payload, locale.split("-")[0])
    return pdf_text(engine.render(engine.validate(payload), locale=locale).pdf)


def fmt(locale: str) -> Formatter:
    return Formatter(locale, "UTC")


def _claim_without_stated_results(payload: dict[str, Any]) -> dict[str, Any]:
    calc = payload["calculation"]
    for key in (
        "steps",
        "claimed_gross",
        "ineligible_total",
        "eligible_outstanding",
        "insured_loss",
        "indemnity_before_deductible",
        "payable",
    ):
        calc.pop(key, None)
    calc["deductible"].pop("applied", None)
    calc["deductible"].pop("afl_remaining_after", None)
    payload.pop("outcome", None)
    return payload


def paid_in_full() -> dict[str, Any]:
    payload = _claim_without_stated_results(
        copy.deepcopy(load_sample("06_claim_decision_partial_es-ES.json"))
    )
    payload["invoices"] = [i for i in payload["invoices"] if i["ineligible_reason"] is None]
    payload["claim"]["credit_limit_applicable"]["amount"] = "200000.00"
    return payload


def declined() -> dict[str, Any]:
    payload = _claim_without_stated_results(
        copy.deepcopy(load_sample("06_claim_decision_partial_es-ES.json"))
    )
    payload["calculation"]["claim_threshold"]["amount"] = "100000.00"
    payload["payment"] = None
    payload["explanations"].append(
        {
            "topic": "Importe mínimo de siniestro",
            "text": "La pérdida asegurada no supera el importe mínimo de siniestro.",
            "policy_clause": "Condiciones particulares, apdo. 4 — numeración ficticia",
            "reductions": ["below_threshold"],
        }
    )
    return payload


@pytest.mark.parametrize("locale", ["es-ES", "en-GB"])
def test_claim_decision_sample_in_both_languages(engine: Engine, locale: str) -> None:
    """Payable, outcome sentence, appeal deadline, examiner and account executive."""
    payload = load_sample("06_claim_decision_partial_es-ES.json")
    text = render_text(engine, payload, locale)
    f = fmt(locale)
    payable = flat(f.money(Decimal("62000.00"), "EUR"))
    claimed = flat(f.money(Decimal("120235.00"), "EUR"))
    sentence = (
        f"Podemos pagarle {payable} de los {claimed} declarados en el siniestro"
        if locale.startswith("es")
        else f"We can pay you {payable} of the {claimed} in your claim"
    )
    assert sentence in text
    assert f.date_long(date(2026, 3, 18)) in text
    assert (
        payload["claims_examiner"]["name"] in text and payload["account_executive"]["name"] in text
    )
    assert "SIN-2025-003307" in text


@pytest.mark.parametrize("locale", ["es-MX", "en-US"])
def test_paid_in_full_still_explains_the_retention(engine: Engine, locale: str) -> None:
    """No appeal block, but the uninsured 10 % and the deductible are explained."""
    text = render_text(engine, paid_in_full(), locale)
    if locale == "es-MX":
        assert "Le pagaremos" in text and "Si no está de acuerdo" not in text
        assert "Participación del asegurado y deducible" in text
    else:
        assert "We will pay you" in text and "If you disagree" not in text
        assert "Uninsured share and deductible" in text
    assert "10" in text


@pytest.mark.parametrize("locale", ["es-MX", "en-US"])
def test_declined_claim_renders_with_appeal(engine: Engine, locale: str) -> None:
    """A declined claim says so first, explains the threshold and offers the appeal."""
    text = render_text(engine, declined(), locale)
    if locale == "es-MX":
        assert "Lamentamos comunicarle que no podemos pagar" in text
        assert "Monto mínimo de siniestro" in text and "Si no está de acuerdo" in text
    else:
        assert "we are unable to pay your claim" in text
        assert "Claim threshold" in text and "If you disagree" in text


@pytest.mark.parametrize("locale", ["en-GB", "es-MX"])
def test_filing_guide_has_its_timeline_and_values_from_the_policy(
    engine: Engine, locale: str
) -> None:
    """The SVG timeline is in the PDF; the policy's days are printed."""
    payload = in_language(load_sample("04_claim_filing_guide_en-GB.json"), locale[:2])
    validated = engine.validate(payload)
    html = engine.html(validated, locale=locale)
    assert html.count('<svg class="timeline"') == 1
    text = pdf_text(engine.render(validated, locale=locale).pdf)
    f = fmt(locale)
    for day in (
        date(2026, 12, 10),
        date(2027, 2, 8),
        date(2027, 3, 10),
        date(2027, 7, 29),
        date(2027, 8, 28),
    ):
        assert f.date_medium(day) in text  # the timeline's own labels, drawn as SVG text
    assert "60" in text and "150" in text
    assert (
        payload["claims_contact"]["name"] in text and payload["account_executive"]["name"] in text
    )
    for doc in payload["documents_required"]:
        label = doc["label"][locale[:2]] if isinstance(doc["label"], dict) else doc["label"]
        assert flat(label)[:30] in text
    assert (PLACEHOLDER["es"] in text) == locale.startswith("es")


@pytest.mark.parametrize(
    ("name", "locale"),
    [
        ("07_collection_update_es-MX.json", "es-MX"),
        ("07_collection_update_es-MX.json", "en-GB"),
        ("07b_collection_update_en-GB.json", "en-GB"),
        ("07b_collection_update_en-GB.json", "es-ES"),
    ],
)
def test_collection_update_in_both_languages(engine: Engine, name: str, locale: str) -> None:
    """Recovered, remitted, next update and the remittance promise kept."""
    payload = json.loads((SAMPLES_DIR / name).read_text("utf-8"))
    text = render_text(engine, payload, locale)
    f = fmt(locale)
    assert flat(f.money(Decimal("60000.00"), "MXN")) in text
    assert flat(f.money(Decimal("55200.00"), "MXN")) in text
    assert f.date_long(date(2027, 1, 9)) in text
    assert "5 (máximo: 10 días hábiles)" in text or "5 (limit: 10 business days)" in text
    assert payload["account_executive"]["name"] in text


def test_each_reduction_cites_its_clause(engine: Engine) -> None:
    """Issue 19: a reduction the calculation makes with no explanation naming it is refused
    (422 naming ``explanations``); the table heads its columns and prints each clause."""
    from correspondence.errors import InvalidPayload

    payload = copy.deepcopy(load_sample("06_claim_decision_partial_es-ES.json"))
    vat = next(e for e in payload["explanations"] if "vat" in e.get("reductions", []))
    vat["reductions"] = []
    with pytest.raises(InvalidPayload) as caught:
        engine.validate(payload)
    messages = {p.field: p.message for p in caught.value.problems}
    assert "'vat' reduction cites no clause" in messages["explanations"]
    sample = load_sample("06_claim_decision_partial_es-ES.json")
    text = render_text(engine, sample, "es-ES")
    assert "Concepto Importe Acumulado" in text
    for explanation in sample["explanations"]:
        if explanation.get("reductions"):
            assert f"({explanation['policy_clause']})" in text


def test_the_indemnity_goes_to_the_customers_account_masked(engine: Engine) -> None:
    """Issue 19: the indemnity is paid into the customer's own account, printed masked."""
    payload = load_sample("06_claim_decision_partial_es-ES.json")
    iban = payload["payment"]["iban"].replace(" ", "")
    text = render_text(engine, payload, "es-ES")
    assert f"a su cuenta {iban[:4]} **** **** **** **** {iban[-4:]}" in text
    assert iban[4:8] + " " + iban[8:12] not in text
