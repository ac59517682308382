"""Renewal packs: one PDF, components on their own pages, pack-wide numbering, real contents
page numbers, bookmarks and page labels, and the rules that keep the components agreeing."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader

from correspondence.engine import PAYLOAD_ATTACHMENT, Engine
from correspondence.errors import InvalidPayload
from correspondence.formatting import Formatter
from correspondence.kinds.renewal_pack import PackFigures
from tests.conftest import es_invoice, flat, in_language, load_sample, pdf_pages_text

LABELS = {
    "es-ES": [
        "Carta de presentación",
        "Condiciones particulares",
        "Recibo de prima",
        "Resumen de condiciones",
        "Nuestros compromisos de servicio",
    ],
    "es-MX": [
        "Carta de presentación",
        "Carátula de la póliza",
        "Recibo de prima",  # a Spanish policy's receipt, whichever Spanish reads it
        "Resumen de condiciones",
        "Nuestros compromisos de servicio",
    ],
    "en-GB": [
        "Cover letter",
        "Policy schedule",
        "Premium receipt",
        "Terms summary",
        "Our service commitments",
    ],
}


def pack() -> dict[str, Any]:
    return copy.deepcopy(load_sample("01_renewal_pack_es-ES.json"))


def render(engine: Engine, payload: dict[str, Any], locale: str | None = None) -> bytes:
    """The PDF in ``locale``, from a payload that gives its free text in that language."""
    if locale is not None:
        payload = in_language(payload, locale.split("-")[0])
    return engine.render(engine.validate(payload), locale=locale).pdf


def starts(reader: PdfReader) -> dict[str, int]:
    """1-based first page of each component, from its bookmark (components flow on from
    one page to the next, so a page label names only the component a page starts with)."""
    return {
        item.title: reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list)
    }


@pytest.mark.parametrize("locale", sorted(LABELS))
def test_pack_components_labels_bookmarks_and_numbering(engine: Engine, locale: str) -> None:
    """Each component has a bookmark and page labels; the footer counts pages pack-wide."""
    data = render(engine, pack(), locale)
    reader = PdfReader(io.BytesIO(data))
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert outline == LABELS[locale]
    first = starts(reader)
    assert list(first) == LABELS[locale]
    assert sorted(first.values()) == list(first.values()) and first[LABELS[locale][0]] == 1
    pages = [flat(p) for p in pdf_pages_text(data)]
    word, of = ("Página", "de") if locale.startswith("es") else ("Page", "of")
    for number, text in enumerate(pages, 1):
        assert f"{word} {number} {of} {len(pages)}" in text
    for label in LABELS[locale]:  # each component's pages say which component they belong to
        for index in range(first[label] - 1, len(pages)):
            if reader.page_labels[index].startswith(label):
                assert f"{pack()['policy']['number']} · {label} ·" in pages[index]


@pytest.mark.parametrize("locale", ["es-ES", "en-GB"])
def test_contents_list_gives_the_real_starting_pages(engine: Engine, locale: str) -> None:
    """The cover letter's contents equal the starting pages in the assembled PDF."""
    data = render(engine, pack(), locale)
    first = starts(PdfReader(io.BytesIO(data)))
    cover = flat(pdf_pages_text(data)[0])
    abbr = "pág." if locale.startswith("es") else "p."
    for label, page in first.items():
        match = re.search(re.escape(label) + r" — " + re.escape(abbr) + r" (\d+)", cover)
        assert match is not None, label
        assert int(match.group(1)) == page


def test_invoice_in_the_pack_equals_the_invoice_alone(engine: Engine) -> None:
    """Same total, same due date, same number as the premium invoice rendered by itself."""
    alone = flat(" ".join(pdf_pages_text(render(engine, es_invoice()))))
    packed = flat(" ".join(pdf_pages_text(render(engine, pack()))))
    total = re.search(r"Total a pagar: (\S+ €)", alone)
    assert total is not None
    assert f"Total a pagar: {total.group(1)}" in packed
    assert "PR-2026-004871" in packed
    assert "El 15 de enero de 2027 cargaremos 4.860,00 € en su cuenta" in packed


def test_legal_name_and_contact_on_every_component(engine: Engine) -> None:
    """The policyholder's legal name is on each component; the account executive on all."""
    data = render(engine, pack())
    reader = PdfReader(io.BytesIO(data))
    pages = [flat(p) for p in pdf_pages_text(data)]
    payload = pack()
    for label, page in starts(reader).items():
        component_text = pages[page - 1]
        assert payload["policyholder"]["legal_name"] in component_text, label
        assert payload["account_executive"]["name"] in component_text, label


def test_pack_is_pdfa3_with_the_whole_payload(engine: Engine) -> None:
    """PDF/A-3a, metadata, and the payload attached as sent, the customer's debited
    account masked as the page prints it (docs/internal-fields.md)."""
    from correspondence.kinds.common import mask_account

    reader = PdfReader(io.BytesIO(render(engine, pack())))
    assert reader.xmp_metadata is not None and reader.xmp_metadata.pdfaid_part == "3"
    assert (
        reader.metadata is not None
        and reader.metadata.title == "Renovación de su póliza ES-TC-004512"
    )
    sent = load_sample("01_renewal_pack_es-ES.json")
    payment = sent["premium_invoice"]["payment"]
    payment["iban"] = mask_account(payment["iban"])
    assert json.loads(reader.attachments[PAYLOAD_ATTACHMENT][0]) == sent


def _embedded_fonts(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    seen: dict[int, str] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            ref = font.idnum
            seen[ref] = str(font.get_object()["/BaseFont"])
    return sorted(seen.values())


def test_fonts_embedded_once_and_pack_smaller_than_its_parts(engine: Engine) -> None:
    """One subset per face for the whole pack; far smaller than the components apart."""
    validated = engine.validate(pack())
    whole = engine.render(validated).pdf
    fonts = _embedded_fonts(whole)
    assert len(fonts) == len(set(f.split("+")[1] for f in fonts)) <= 3
    parts = 0
    for key in validated.figures.components:  # type: ignore[attr-defined]
        only = dataclasses.replace(validated.figures, components=(key,))
        parts += len(engine.render(dataclasses.replace(validated, figures=only)).pdf)
    assert len(whole) * 2 < parts


def test_two_renders_of_a_pack_are_identical(engine: Engine) -> None:
    """The numbers written into the layout and the page labels keep the bytes deterministic."""
    assert render(engine, pack()) == render(engine, pack())


def problems(engine: Engine, payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        engine.validate(payload)
    return {p.field: p.message for p in caught.value.problems}


def test_schedule_invoice_mismatch_is_refused(engine: Engine) -> None:
    """An invoice whose premium lines differ from instalment 1 is refused, naming the
    invoice's lines and both amounts (issue 20: the premium lines are compared, not the
    whole net, so a surcharge or a policy fee beside the premium is not a mismatch)."""
    payload = pack()
    payload["schedule"]["premium"]["instalments"][0]["amount"]["amount"] = "4600.00"
    payload["schedule"]["premium"]["instalments"][1]["amount"]["amount"] = "4400.00"
    found = problems(engine, payload)
    message = found["premium_invoice.lines"]
    assert "4600.00" in message and "4500.00" in message


def test_change_that_disagrees_with_the_schedule_is_refused(engine: Engine) -> None:
    """The cover letter cannot announce a value the schedule does not carry."""
    payload = pack()
    payload["renewal"]["changes"][1]["new"]["amount"] = "19000.00"
    message = problems(engine, payload)["renewal.changes.1.new"]
    assert "schedule.premium.minimum_premium is 18000.00 EUR" in message


def test_gap_between_periods_is_refused(engine: Engine) -> None:
    """The new period starts the day after the previous one ends."""
    payload = pack()
    payload["renewal"]["previous_period"]["end"] = "2026-12-30"
    assert "renewal.new_period.start" in problems(engine, payload)


def test_instalment_gap_is_refused(engine: Engine) -> None:
    """Instalments cover the new period without gaps."""
    payload = pack()
    payload["schedule"]["premium"]["instalments"][2]["period_start"] = "2027-07-02"
    assert "schedule.premium.instalments.2.period_start" in problems(engine, payload)


def test_invoice_errors_carry_the_pack_path(engine: Engine) -> None:
    """A wrong total inside the pack's invoice names premium_invoice.totals…"""
    payload = pack()
    payload["premium_invoice"]["totals"]["total"]["amount"] = "4860.01"
    assert "premium_invoice.totals.total.amount" in problems(engine, payload)


def test_late_pack_renders_with_a_warning_and_keeps_the_objection_time(engine: Engine) -> None:
    """Issued after the send-by date: a warning, and a full month to object from issue."""
    payload = pack()
    payload["document"]["issue_date"] = "2026-11-20"
    payload["premium_invoice"]["invoice"]["issue_date"] = "2026-11-20"
    validated = engine.validate(payload)
    fig = validated.figures
    assert isinstance(fig, PackFigures) and fig.late
    assert str(fig.objection_deadline) == "2026-12-20"
    rendered = engine.render(validated)
    assert any("send-by date 2026-10-31" in w for w in rendered.warnings)
    cover = flat(pdf_pages_text(rendered.pdf)[0])
    assert "Puede oponerse a la renovación hasta el 20 de diciembre de 2026" in cover
    assert "Los cambios solo se aplicarán si los acepta" in cover


CHANGE_WORDING = {
    "es-ES": ("Tipo de prima", "Prima mínima anual", "Límite discrecional por experiencia de pago"),
    "es-MX": ("Tasa de prima", "Prima mínima anual", "Límite discrecional por experiencia de pago"),
    "en-GB": (
        "Premium rate",
        "Annual minimum premium",
        "Discretionary limit based on payment experience",
    ),
    "en-US": (
        "Premium rate",
        "Annual minimum premium",
        "Discretionary limit based on payment experience",
    ),
}


@pytest.mark.parametrize("locale", sorted(CHANGE_WORDING))
def test_change_rows_are_worded_per_locale_from_their_key(engine: Engine, locale: str) -> None:
    """Issue 18: a change row's label is the template's wording of the parameter its key
    names, in the document's locale."""
    pages = pdf_pages_text(render(engine, pack(), locale))
    text = flat(" ".join(pages))
    for label in CHANGE_WORDING[locale]:
        assert label in text


def test_a_change_label_or_an_unknown_key_is_refused(engine: Engine) -> None:
    """No label from the payload; a key that names no announceable parameter is refused
    naming the field."""
    payload = pack()
    payload["renewal"]["changes"][0]["label"] = "Tipo de prima"
    assert "renewal.changes.0.label" in problems(engine, payload)
    payload = pack()
    payload["renewal"]["changes"][0]["key"] = "governing_law"
    assert "no parameter a renewal announces" in problems(engine, payload)["renewal.changes.0.key"]


def test_every_change_code_is_worded_in_every_locale(settings: Any) -> None:
    """Each code the kind can give has a wording in both templates."""
    from correspondence.kinds.renewal_pack import CHANGE_CODES

    for language in ("es", "en"):
        template = (settings.templates_dir / language / "renewal_pack.html").read_text("utf-8")
        block = template[template.index("{% set change_name") :]
        for code in set(CHANGE_CODES.values()):
            assert f'"{code}"' in block


def _money(locale: str, amount: Any, currency: str = "EUR") -> str:
    from decimal import Decimal

    from correspondence.formatting import Formatter

    return flat(Formatter(locale, "UTC").money(Decimal(str(amount)), currency))


@pytest.mark.parametrize("locale", ["es-ES", "en-GB"])
def test_instalment_amounts_say_whether_they_include_tax(engine: Engine, locale: str) -> None:
    """Issue 19: the cover letter's instalment 1 is the invoice total, tax included; the key
    dates and the schedule give the premium before tax, and say so."""
    payload = in_language(pack(), locale[:2])
    validated = engine.validate(payload)
    fig = validated.figures
    assert isinstance(fig, PackFigures)
    text = flat(" ".join(pdf_pages_text(engine.render(validated, locale=locale).pdf)))
    total = _money(locale, fig.invoice.total)
    first = payload["schedule"]["premium"]["instalments"][0]["amount"]["amount"]
    if locale == "es-ES":
        assert f"fracción 1 ({total}, impuestos incluidos)" in text
        assert f"fracción 1 (prima de {_money(locale, first)} sin impuestos)" in text
        assert "Prima sin impuestos" in text
    else:
        assert f"instalment 1 ({total} including tax)" in text
        assert f"Instalment 1 due (premium of {_money(locale, first)} before tax)" in text
        assert "Premium before tax" in text
    assert fig.invoice.total != fig.invoice.premium_net  # the sample's IPS makes them differ


@pytest.mark.parametrize("deductible", ["10000.00", "25000.00", "0.00"])
def test_the_worked_example_is_computed_from_the_policy(engine: Engine, deductible: str) -> None:
    """Issue 19: the terms summary's example runs the policy's own figures through the claim
    engine: the largest DCL as the loss, its percentage, the deductible; when the deductible
    takes all of it, the letter says it pays nothing."""
    from decimal import Decimal

    payload = pack()
    cover = payload["schedule"]["cover"]
    if deductible == "0.00":
        cover["deductible"] = {"type": "none", "amount": {"amount": "0.00", "currency": "EUR"}}
    else:
        cover["deductible"]["amount"]["amount"] = deductible
    validated = engine.validate(payload)
    fig = validated.figures
    assert isinstance(fig, PackFigures)
    loss = max(Decimal(d["max_amount"]["amount"]) for d in cover["dcl"])
    pct = Decimal(cover["indemnity_pct"]["discretionary_limit"])
    expected = max(Decimal(0), loss * pct - Decimal(deductible))
    assert (fig.example.loss, fig.example.payable) == (loss, expected)
    text = flat(" ".join(pdf_pages_text(engine.render(validated, locale="es-ES").pdf)))
    assert f"deja de pagarle {_money('es-ES', loss)}" in text
    if expected == 0:
        assert f"lo absorbe entero: por esa pérdida le pagaríamos {_money('es-ES', 0)}" in text
    elif deductible == "0.00":
        assert f"de esa pérdida: {_money('es-ES', expected)}" in text
    else:
        assert f"le pagaríamos {_money('es-ES', expected)}" in text
    mx = engine.validate(in_language(pack(), "es"))
    mx_text = flat(" ".join(pdf_pages_text(engine.render(mx, locale="es-MX").pdf)))
    assert f"deja de pagarle {_money('es-MX', loss)}" in mx_text  # the locale's own format


def test_sepa_direct_debit_prints_the_masked_debtor_account_and_the_mandate(
    engine: Engine,
) -> None:
    """Issue 19: a direct debit shows the policyholder's account masked (as the account
    debited, not a beneficiary's), the mandate reference, the creditor identifier and the
    debit date; a SEPA debit without its mandate or with a wrong identifier is refused."""
    payload = pack()
    pay = payload["premium_invoice"]["payment"]
    iban = pay["iban"]
    text = flat(" ".join(pdf_pages_text(render(engine, payload, "es-ES"))))
    masked = f"{iban[:4]} **** **** **** **** {iban[-4:]}"
    assert f"Cuenta de adeudo {masked}" in text
    assert iban[4:8] + " " + iban[8:12] not in text  # the whole account is never printed
    assert f"Referencia del mandato {pay['mandate_reference']}" in text
    assert f"Identificador del acreedor {pay['creditor_identifier']}" in text
    assert "Fecha de adeudo" in text
    missing = pack()
    del missing["premium_invoice"]["payment"]["mandate_reference"]
    assert "premium_invoice.payment.mandate_reference" in problems(engine, missing)
    wrong = pack()
    identifier = wrong["premium_invoice"]["payment"]["creditor_identifier"]
    wrong["premium_invoice"]["payment"]["creditor_identifier"] = (
        identifier[:2] + "99" + identifier[4:]
    )
    assert "AT-02" in problems(engine, wrong)["premium_invoice.payment.creditor_identifier"]


def test_an_obligation_repeating_the_turnover_declaration_is_refused(engine: Engine) -> None:
    """Issue 19: the summary prints the declaration from the schedule; a payload obligation
    stating it again would print it twice, and is refused naming the obligation."""
    payload = pack()
    payload["terms_summary"]["obligations"].append(
        {"text": "Declarar las ventas aseguradas", "deadline_rule": "cada año"}
    )
    at = f"terms_summary.obligations.{len(payload['terms_summary']['obligations']) - 1}"
    assert "printed from the schedule" in problems(engine, payload)[at]


@pytest.mark.parametrize("locale", ["es-ES", "es-MX", "en-GB", "en-US"])
def test_the_cover_letter_says_what_the_year_will_cost_after_the_declaration(
    engine: Engine, locale: str
) -> None:
    """The instalments add up to the minimum premium; at the policy's rate the forecast
    turnover costs more, and the letter says how much more will be invoiced after the
    declaration (brief R6), computed from the schedule's own figures."""
    from decimal import ROUND_HALF_UP, Decimal

    payload = load_sample("01_renewal_pack_es-ES.json")
    if locale.startswith("en"):
        payload = in_language(payload, "en")
    premium = payload["schedule"]["premium"]
    at_rate = (
        Decimal(premium["estimated_insured_turnover"]["amount"]) * Decimal(premium["rate"])
    ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    minimum = Decimal(premium["minimum_premium"]["amount"])
    charged = Decimal((premium.get("deposit_premium") or premium["minimum_premium"])["amount"])
    validated = engine.validate(payload)
    figures = validated.figures
    assert isinstance(figures, PackFigures)
    assert figures.estimated_premium == max(minimum, at_rate)
    assert figures.expected_adjustment == max(Decimal(0), max(minimum, at_rate) - charged)
    assert figures.expected_adjustment > 0  # the sample's forecast is above the minimum
    text = flat(" ".join(pdf_pages_text(render(engine, payload, locale)))).replace("\xa0", " ")
    fmt = Formatter(locale, "Europe/Madrid")
    for amount in (figures.estimated_premium, figures.expected_adjustment):
        assert fmt.money(amount, "EUR").replace("\xa0", " ") in text


def test_no_adjustment_is_announced_when_the_instalments_cover_the_forecast(
    engine: Engine,
) -> None:
    payload = load_sample("01_renewal_pack_es-ES.json")
    payload["schedule"]["premium"]["estimated_insured_turnover"]["amount"] = "1000000.00"
    validated = engine.validate(payload)
    assert isinstance(validated.figures, PackFigures)
    assert validated.figures.expected_adjustment == 0
    text = flat(" ".join(pdf_pages_text(render(engine, payload))))
    assert "regularización" not in text and "más de lo que suman" not in text
