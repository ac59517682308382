"""Premium invoice rules (brief §3.b): computed figures, and refusals that name the field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from correspondence.errors import InvalidPayload
from correspondence.kinds import validate
from correspondence.kinds.premium_invoice import InvoiceFigures
from tests.conftest import es_invoice


def figures(payload: dict[str, Any]) -> InvoiceFigures:
    result = validate(payload).figures
    assert isinstance(result, InvoiceFigures)
    return result


def problems(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        validate(payload)
    return {p.field: p.message for p in caught.value.problems}


def test_mx_sample_figures_agree_with_its_stated_figures(invoice_mx: dict[str, Any]) -> None:
    """Every figure the sample states is the one the service computes."""
    fig = figures(invoice_mx)
    stated = invoice_mx["totals"]
    assert fig.net == Decimal(stated["net"]["amount"])
    assert fig.total == Decimal(stated["total"]["amount"])
    assert [t.amount for t in fig.taxes] == [
        Decimal(t["amount"]["amount"]) for t in stated["taxes"]
    ]
    assert fig.amount_in_words == stated["amount_in_words"]
    assert fig.payment_deadline == date.fromisoformat(invoice_mx["invoice"]["payment_deadline"])
    assert fig.cover_ceases_at == datetime.fromisoformat(
        invoice_mx["invoice"]["cover_ceases_if_unpaid"]
    )


def test_mx_figures_are_computed_when_not_stated(invoice_mx: dict[str, Any]) -> None:
    """Without stated figures the service computes them, due at the start of the period."""
    for line in invoice_mx["lines"]:
        del line["net"], line["tax"]
    for key in ("totals",):
        del invoice_mx[key]
    for key in ("due_date", "payment_deadline", "cover_ceases_if_unpaid", "grace_days"):
        del invoice_mx["invoice"][key]
    fig = figures(invoice_mx)
    assert fig.lines[0].taxes[0].amount == Decimal("62500.00") * Decimal("0.16")
    assert fig.net == sum(Decimal(line["unit_price"]["amount"]) for line in invoice_mx["lines"])
    assert fig.due_date == date(2027, 1, 1)  # the start of the invoiced period
    assert fig.payment_deadline == date(2027, 1, 31)  # + 30 days, the legal default
    assert fig.cover_ceases_at is not None and fig.cover_ceases_at.hour == 12


def test_mx_grace_days_move_the_deadline(invoice_mx: dict[str, Any]) -> None:
    """An agreed grace of 10 days gives a deadline 10 days after the due date."""
    invoice_mx["invoice"]["grace_days"] = 10
    found = problems(invoice_mx)
    assert found["invoice.payment_deadline"].startswith(
        "stated 2027-01-31 but the service computes 2027-01-11"
    )
    assert "invoice.cover_ceases_if_unpaid" in found


@pytest.mark.parametrize("grace", [2, 31])
def test_mx_grace_days_stay_within_the_law(invoice_mx: dict[str, Any], grace: int) -> None:
    """LSCS art. 40 allows 3 to 30 days of grace."""
    invoice_mx["invoice"]["grace_days"] = grace
    assert "invoice.grace_days" in problems(invoice_mx)


def test_es_first_premium_has_no_suspension_date() -> None:
    """The first premium of the year: deadline is the due date and no suspension date."""
    fig = figures(es_invoice())
    assert fig.payment_deadline == date(2027, 1, 15)
    assert fig.suspension_date is None
    assert fig.first_premium
    assert fig.total == Decimal("4860.00")
    assert fig.taxes[0].type == "IPS" and fig.taxes[0].rate == Decimal("0.08")
    assert fig.amount_in_words is None


def test_es_later_premium_is_suspended_one_month_after_due() -> None:
    """A later instalment: cover is suspended one month after its due date (LCS art. 15)."""
    payload = es_invoice()
    inv = payload["invoice"]
    inv.update(
        due_date="2027-04-15",
        payment_deadline="2027-04-15",
        period={"start": "2027-04-01", "end": "2027-06-30"},
    )
    del inv["suspension_date_if_unpaid"]
    payload["lines"][0]["period"] = inv["period"]
    assert figures(payload).suspension_date == date(2027, 5, 15)
    inv["suspension_date_if_unpaid"] = None
    assert "2027-05-15" in problems(payload)["invoice.suspension_date_if_unpaid"]


def test_es_premium_needs_its_contractual_due_date() -> None:
    """In Spain the due date comes from the schedule; it cannot be guessed."""
    payload = es_invoice()
    del payload["invoice"]["due_date"], payload["invoice"]["payment_deadline"]
    assert "invoice.due_date" in problems(payload)


def test_fees_invoice_is_due_after_the_payment_terms(invoice_mx: dict[str, Any]) -> None:
    """Fees fall due issue date + policy.payment_terms_days, with no grace and no cover cut-off."""
    invoice_mx["policy"]["payment_terms_days"] = 30
    inv = invoice_mx["invoice"]
    inv["kind"] = "fees"
    for key in ("due_date", "payment_deadline", "cover_ceases_if_unpaid", "grace_days"):
        del inv[key]
    fig = figures(invoice_mx)
    assert fig.due_date == date(2027, 1, 14)
    assert fig.payment_deadline == fig.due_date
    assert fig.cover_ceases_at is None


def test_stated_total_off_by_one_cent_is_refused(invoice_mx: dict[str, Any]) -> None:
    """The message names the field and both values."""
    invoice_mx["totals"]["total"]["amount"] = "76067.01"
    found = problems(invoice_mx)
    assert found["totals.total.amount"] == "stated 76067.01 but the service computes 76067.00"


def test_line_net_and_tax_are_checked(invoice_mx: dict[str, Any]) -> None:
    """A line's net is quantity × unit price; its tax is base × rate."""
    invoice_mx["lines"][1]["net"]["amount"] = "1875.10"
    invoice_mx["lines"][2]["tax"][0]["amount"]["amount"] = "193.00"
    found = problems(invoice_mx)
    assert found["lines.1.net.amount"].startswith("stated 1875.10 but the service computes 1875.00")
    assert found["lines.2.tax.0.amount.amount"].startswith(
        "stated 193.00 but the service computes 192.00"
    )


def test_wrong_tax_rate_for_the_jurisdiction_is_refused(invoice_mx: dict[str, Any]) -> None:
    """MX premiums carry IVA at 16 %; a stated 8 % is refused."""
    invoice_mx["lines"][0]["tax"][0]["rate"] = "0.08"
    assert "IVA 0.16" in problems(invoice_mx)["lines.0.tax"]


def test_amount_in_words_must_match(invoice_mx: dict[str, Any]) -> None:
    """A stated importe con letra that spells another amount is refused."""
    invoice_mx["totals"]["amount_in_words"] = "(SETENTA Y SEIS MIL PESOS 00/100 M.N.)"
    assert "SETENTA Y SEIS MIL SESENTA Y SIETE" in problems(invoice_mx)["totals.amount_in_words"]


def test_missing_account_executive_is_refused(invoice_mx: dict[str, Any]) -> None:
    """The charter's single point of contact is mandatory."""
    del invoice_mx["account_executive"]
    assert problems(invoice_mx) == {"account_executive": "Field required"}


@pytest.mark.parametrize("field", ["name", "email", "phone"])
def test_account_executive_needs_name_email_and_phone(
    invoice_mx: dict[str, Any], field: str
) -> None:
    """Each of name, email and phone is required."""
    del invoice_mx["account_executive"][field]
    assert f"account_executive.{field}" in problems(invoice_mx)


def test_negative_quantity_is_refused(invoice_mx: dict[str, Any]) -> None:
    """A quantity must be positive."""
    invoice_mx["lines"][0]["quantity"] = "-1"
    assert problems(invoice_mx)["lines.0.quantity"] == "must be greater than zero"


def test_unknown_currency_is_refused(invoice_mx: dict[str, Any]) -> None:
    """Currencies are ISO 4217 codes."""
    invoice_mx["lines"][0]["unit_price"]["currency"] = "ABC"
    assert "unknown currency 'ABC'" in problems(invoice_mx)["lines.0.unit_price.currency"]


def test_line_in_another_currency_is_refused(invoice_mx: dict[str, Any]) -> None:
    """Every amount is in the policy's currency."""
    invoice_mx["lines"][0]["unit_price"]["currency"] = "USD"
    assert "policy is in MXN" in problems(invoice_mx)["lines.0.unit_price.currency"]


def test_malformed_date_is_refused(invoice_mx: dict[str, Any]) -> None:
    """Dates are ISO 8601."""
    invoice_mx["invoice"]["due_date"] = "31/01/2027"
    assert "YYYY-MM-DD" in problems(invoice_mx)["invoice.due_date"]


def test_float_amount_is_refused(invoice_mx: dict[str, Any]) -> None:
    """A JSON number has already lost the cents; money is a decimal string."""
    invoice_mx["lines"][0]["unit_price"]["amount"] = 62500.0
    assert "decimal string" in problems(invoice_mx)["lines.0.unit_price.amount"]


def test_more_decimals_than_the_currency_allows_is_refused(invoice_mx: dict[str, Any]) -> None:
    """62500.005 MXN is not an amount of money."""
    invoice_mx["lines"][0]["unit_price"]["amount"] = "62500.005"
    assert "more decimals than MXN" in problems(invoice_mx)["lines.0.unit_price"]


def test_every_problem_is_reported_at_once(invoice_mx: dict[str, Any]) -> None:
    """Three independent mismatches give three problems, not the first one only."""
    invoice_mx["totals"]["net"]["amount"] = "1.00"
    invoice_mx["totals"]["total"]["amount"] = "2.00"
    invoice_mx["invoice"]["payment_deadline"] = "2027-02-01"
    assert {"totals.net.amount", "totals.total.amount", "invoice.payment_deadline"} <= set(
        problems(invoice_mx)
    )


def test_mexican_invoice_needs_its_cfdi(invoice_mx: dict[str, Any]) -> None:
    """The printed CFDI block is part of a Mexican invoice."""
    del invoice_mx["cfdi"]
    assert "cfdi" in problems(invoice_mx)


def test_cfdi_qr_total_must_match(invoice_mx: dict[str, Any]) -> None:
    """The SAT verification QR carries the total; it must be the invoice's."""
    invoice_mx["cfdi"]["qr_payload"] = invoice_mx["cfdi"]["qr_payload"].replace(
        "tt=76067.00", "tt=76000.00"
    )
    assert "tt = invoice total" in problems(invoice_mx)["cfdi.qr_payload"]


def test_cfdi_receiver_must_match_master_data(invoice_mx: dict[str, Any]) -> None:
    """CFDI 4.0 receiver postcode comes from the policyholder's address."""
    invoice_mx["cfdi"]["domicilio_fiscal_receptor"] = "64001"
    assert "64000" in problems(invoice_mx)["cfdi.domicilio_fiscal_receptor"]


def test_bad_clabe_check_digit_is_refused(invoice_mx: dict[str, Any]) -> None:
    """CLABE check digits are verified."""
    invoice_mx["payment"]["clabe"] = "999180012345678908"
    assert "check digit" in problems(invoice_mx)["payment.clabe"]


def test_bad_iban_is_refused() -> None:
    """IBAN check digits are verified."""
    payload = es_invoice()
    payload["payment"]["iban"] = "ES7899990001410123456788"
    assert "check digits" in problems(payload)["payment.iban"]


def test_invoice_number_follows_series_and_year(invoice_mx: dict[str, Any]) -> None:
    """{series}-{year}-{sequence}: the series and the year of issue."""
    invoice_mx["invoice"]["number"] = "PRI-2025-001874"
    assert "2026" in problems(invoice_mx)["invoice.number"]


def test_unknown_field_is_refused(invoice_mx: dict[str, Any]) -> None:
    """A misspelt field is an error, not silently ignored."""
    invoice_mx["invoice"]["due_dat"] = "2027-01-01"
    assert "invoice.due_dat" in problems(invoice_mx)


def test_unknown_kind_is_refused(invoice_mx: dict[str, Any]) -> None:
    """document.type must name a kind we produce."""
    invoice_mx["document"]["type"] = "poem"
    assert "unknown document type 'poem'" in problems(invoice_mx)["document.type"]


def test_the_cfdi_qr_code_is_encoded_when_drawn_not_when_validated(
    invoice_mx: dict[str, Any],
) -> None:
    """Validation (three times for an issued invoice) leaves the QR code unencoded; the
    first draw encodes it once, as a PNG of the payload (decoded from the PDF by ZXing in
    test_invoice_pdf)."""
    qr = figures(invoice_mx).qr
    assert qr is not None and qr.payload == invoice_mx["cfdi"]["qr_payload"]
    assert "png" not in vars(qr)  # nothing encoded yet
    uri = qr.data_uri
    assert uri.startswith("data:image/png;base64,iVBORw0KGgo")  # the PNG signature
    assert vars(qr)["png"] is qr.png  # encoded once, kept
