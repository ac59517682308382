"""The itemised premium invoice (brief §3.b): payload model, figures and rules.

The service computes every figure it can: line nets (quantity × unit price), the taxes of
each line from the jurisdiction's rules, totals, the due date, the payment deadline, the
suspension date (ES) or the noon cut-off of cover (MX), and the Mexican amount in words.
Stated figures must agree with the computed ones.

The package: ``model`` (the payload), ``figures`` (lines, taxes, totals, words, QR code),
``due_dates``, ``payment`` (accounts) and ``cfdi`` (the Mexican stamped data).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from correspondence.checks import Reconciler
from correspondence.kinds import Kind, NumberRequest
from correspondence.kinds.premium_invoice.cfdi import cfdi_codes, check_cfdi
from correspondence.kinds.premium_invoice.due_dates import DueDates, due_dates
from correspondence.kinds.premium_invoice.figures import (
    InvoiceFigures,
    LineFigure,
    QrCode,
    TaxFigure,
    amount_in_words,
    check_totals,
    line_figures,
    tax_summary,
)
from correspondence.kinds.premium_invoice.model import (
    PREMIUM_KINDS,
    PREMIUM_LINE_CODES,
    RECTIFYING_SERIES,
    Cfdi,
    InvoiceFields,
    InvoiceHeader,
    InvoiceLine,
    PremiumInvoice,
)
from correspondence.kinds.premium_invoice.payment import check_payment, debtor_account
from correspondence.kinds.premium_invoice.sat import line_key_groups
from correspondence.models import AMOUNT_LIMIT
from correspondence.money import minor_unit

__all__ = [
    "KIND",
    "PREMIUM_KINDS",
    "PREMIUM_LINE_CODES",
    "Cfdi",
    "DueDates",
    "InvoiceFields",
    "InvoiceFigures",
    "InvoiceHeader",
    "InvoiceLine",
    "LineFigure",
    "PremiumInvoice",
    "QrCode",
    "TaxFigure",
    "derive",
    "number_doc",
    "numbering",
    "with_number",
]

_NUMBER = re.compile(r"^(?P<series>[A-Z0-9]+)-(?P<year>\d{4})-(?P<seq>\d{6})$")


def _check_header(doc: PremiumInvoice, check: Reconciler) -> None:
    inv = doc.invoice
    match = _NUMBER.match(inv.number) if inv.number is not None else None
    if inv.number is None:
        pass  # allocated by the registry when the invoice is issued; drafts have none
    elif not match:
        check.rule("invoice.number", "must read {series}-{year}-{sequence of 6 digits}")
    else:
        if match["series"] != inv.series:
            check.rule("invoice.number", f"does not belong to series {inv.series}")
        if int(match["year"]) != inv.issue_date.year:
            check.rule(
                "invoice.number", f"carries year {match['year']}, issued in {inv.issue_date.year}"
            )
    check.same(
        "invoice.issue_date", inv.issue_date, doc.document.issue_date, why="document.issue_date"
    )
    if not (
        doc.policy.period.start <= inv.period.start and inv.period.end <= doc.policy.period.end
    ):
        check.rule("invoice.period", "falls outside policy.period")
    if inv.kind == "credit_note" and doc.related is None:
        check.rule("related", "a credit note must name the invoice it corrects")
    if inv.kind != "credit_note" and doc.credit is not None:
        check.rule("credit", "only a credit note credits an amount")
    if doc.document.jurisdiction == "ES" and inv.kind == "credit_note":
        original = _NUMBER.match(doc.related.original_invoice) if doc.related else None
        if not RECTIFYING_SERIES.match(inv.series):
            check.rule(
                "invoice.series",
                f"{inv.series!r} is an ordinary series: a credit note is a rectifying invoice "
                "in a series of its own, such as R (RD 1619/2012 arts. 6 and 15)",
            )
        elif original and original["series"] == inv.series:
            check.rule(
                "invoice.series",
                f"{inv.series!r} is the series of the invoice it corrects: a rectifying "
                "invoice has a series of its own (RD 1619/2012 arts. 6 and 15)",
            )
    if doc.related is not None and doc.related.original_invoice == inv.number:
        check.rule("related.original_invoice", "a credit note cannot correct itself")


def derive(doc: PremiumInvoice) -> InvoiceFigures:
    """Compute the invoice's figures and refuse it if any stated figure disagrees."""
    check = Reconciler()
    currency = doc.policy.currency
    _check_header(doc, check)
    lines = line_figures(doc, check)
    taxes = tax_summary(lines)
    net = sum((line.net for line in lines), Decimal(0))
    tax_total = sum((t.amount for t in taxes), Decimal(0))
    total = net + tax_total
    if total >= AMOUNT_LIMIT:
        check.rule(
            "lines",
            f"add up to a total of {total}; the largest amount an invoice can carry is "
            f"{AMOUNT_LIMIT - minor_unit(currency)}",
        )
    words = amount_in_words(total, currency, check) if total < AMOUNT_LIMIT else None
    check_totals(doc, taxes, net, total, words, check)
    dates = due_dates(doc, check)
    check_payment(doc, check)
    check_cfdi(doc, total, check)
    sat_codes = cfdi_codes(doc, check)
    check.raise_if_any()
    return InvoiceFigures(
        currency=currency,
        lines=lines,
        taxes=taxes,
        net=net,
        tax_total=tax_total,
        total=total,
        due_date=dates.due,
        payment_deadline=dates.deadline,
        grace_days=dates.grace_days,
        suspension_date=dates.suspension,
        cover_ceases_at=dates.cover_ceases_at,
        first_premium=dates.first_premium,
        premium=doc.invoice.kind in PREMIUM_KINDS,
        amount_in_words=words,
        any_vat_exempt=any(line.vat_exempt for line in lines),
        qr=QrCode(doc.cfdi.qr_payload) if doc.cfdi else None,
        credit_note=doc.invoice.kind == "credit_note",
        customer_account=debtor_account(doc),
        sat_codes=sat_codes,
        sat_lines=line_key_groups(sat_codes, len(doc.lines)),
        premium_net=sum(
            (
                f.net
                for f, line in zip(lines, doc.lines, strict=True)
                if line.code in PREMIUM_LINE_CODES
            ),
            Decimal(0),
        ),
    )


def numbering(doc: PremiumInvoice) -> NumberRequest:
    """Invoices are numbered per series and year (RD 1619/2012 art. 6; Directive art. 226)."""
    inv = doc.invoice
    return NumberRequest(series=inv.series, year=inv.issue_date.year, stated=inv.number)


def with_number(payload: dict[str, Any], number: str) -> dict[str, Any]:
    """``payload`` with ``invoice.number`` set to the allocated number."""
    return {**payload, "invoice": {**payload["invoice"], "number": number}}


def number_doc(doc: PremiumInvoice, number: str) -> PremiumInvoice:
    """``doc`` with ``invoice.number`` set: :func:`with_number` on the model."""
    return doc.model_copy(update={"invoice": doc.invoice.model_copy(update={"number": number})})


def accounts(doc: PremiumInvoice) -> tuple[str, ...]:
    """The policyholder's own accounts: the one debited, the one refunded."""
    own = ("payment.iban", "payment.clabe") if doc.payment.method == "direct_debit" else ()
    return own + (("credit.iban", "credit.clabe") if doc.credit is not None else ())


KIND = Kind(
    name="premium_invoice",
    model=PremiumInvoice,
    derive=derive,
    template="premium_invoice.html",
    sample_file="02_premium_invoice_es-MX.json",
    numbering=numbering,
    with_number=with_number,
    number_doc=number_doc,
    accounts=accounts,
)
