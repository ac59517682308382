"""Renewal pack (brief §3.a): cover letter, renewed schedule, premium invoice, terms summary
and our service commitments, in one PDF.

Rules: the new period follows the previous one without a gap and the instalments cover it;
every announced change matches the schedule; the schedule, the invoice and the terms agree;
the pack is due two months before the current period ends, and a late pack still renders
with a warning while the customer keeps the time the law gives to object.

The package: ``model`` (the payload), ``changes`` (the announced changes and their
codes) and ``consistency`` (periods, schedule, invoice against instalment 1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from correspondence import legal
from correspondence.calendar import add_calendar_days, add_months
from correspondence.checks import Reconciler
from correspondence.errors import InvalidPayload, Problem
from correspondence.kinds import Kind, NumberRequest
from correspondence.kinds import premium_invoice as invoice_kind
from correspondence.kinds.common import require_complaint_routes
from correspondence.kinds.premium_invoice import InvoiceFigures, PremiumInvoice
from correspondence.kinds.renewal_pack.changes import CHANGE_CODES, ChangeRow, change_code
from correspondence.kinds.renewal_pack.changes import changes as changed
from correspondence.kinds.renewal_pack.consistency import (
    check_invoice_agrees,
    check_periods,
    check_schedule_rules,
    invoice_document,
    invoice_path,
)
from correspondence.kinds.renewal_pack.example import WorkedExample, worked_example
from correspondence.kinds.renewal_pack.model import RenewalPack
from correspondence.money import apply_rate

__all__ = [
    "CHANGE_CODES",
    "COMPONENT_ORDER",
    "KIND",
    "ChangeRow",
    "PackFigures",
    "RenewalPack",
    "change_code",
    "derive",
    "invoice_document",
    "send_by_date",
]


@dataclass(frozen=True)
class PackFigures:
    """What the pack prints that the service computed."""

    currency: str
    invoice_doc: PremiumInvoice
    invoice: InvoiceFigures
    components: tuple[str, ...]
    changes: tuple[ChangeRow, ...]
    send_by_date: dt.date
    late: bool
    objection_deadline: dt.date | None
    previous_declaration_due: dt.date
    declaration_due: dt.date
    warnings: tuple[str, ...]
    example: WorkedExample
    estimated_premium: Decimal
    """The year's premium at the policy's rate on the turnover forecast, never below the
    minimum: ``max(minimum, forecast × rate)`` (brief R6)."""
    expected_adjustment: Decimal
    """What the instalments do not cover of it: invoiced, plus tax, once the year's
    turnover is declared (0 when the instalments cover it)."""


#: Component order in the pack; the service commitments page always closes it.
COMPONENT_ORDER = ("cover_letter", "policy_schedule", "premium_invoice", "terms_summary")


def derive(doc: RenewalPack) -> PackFigures:
    """Check the pack's consistency and compute its dates and warnings."""
    check = Reconciler()
    r = doc.renewal
    on = doc.document.issue_date
    jurisdiction = doc.document.jurisdiction
    check_periods(doc, check)
    changes = changed(doc, check)
    check_schedule_rules(doc, check)
    invoice_doc = invoice_document(doc)
    invoice: InvoiceFigures | None = None
    try:
        invoice = invoice_kind.derive(invoice_doc)
    except InvalidPayload as error:  # reported with the pack's own problems, all at once
        check.problems.extend(
            Problem(invoice_path(p.field), p.message, p.error) for p in error.problems
        )
    if invoice is not None:
        check_invoice_agrees(doc, invoice, check)
    send_by = send_by_date(r.previous_period.end, jurisdiction, on)
    check.same(
        "renewal.send_by_date",
        r.send_by_date,
        send_by,
        why="two months before the current period ends",
    )
    late = doc.document.issue_date > send_by
    warnings: list[str] = []
    if late:
        warnings.append(
            f"issued on {doc.document.issue_date}, after the send-by date {send_by}: "
            "the customer keeps the full time to object"
        )
    objection: dt.date | None = None
    if doc.document.jurisdiction == "ES" and r.basis == "tacit":
        objection_months = legal.months("renewal.policyholder_objection", "ES", on)
        default = add_months(r.previous_period.end, -objection_months)
        objection = (
            max(default, add_months(doc.document.issue_date, objection_months)) if late else default
        )
        stated = r.policyholder_objection_deadline
        if stated is not None and stated < objection:
            warnings.append(
                f"objection deadline moved from {stated} to {objection}: "
                "the customer keeps a full month from the issue date"
            )
    if r.basis == "acceptance_required" and r.acceptance_deadline is None:
        check.rule(
            "renewal.acceptance_deadline", "a renewal that needs acceptance needs a deadline"
        )
    require_complaint_routes(doc, check)  # the cover letter prints the complaint routes
    for required in ("cover_letter", "policy_schedule", "premium_invoice", "terms_summary"):
        if required not in r.enclosures:
            check.rule("renewal.enclosures", f"a renewal pack always encloses the {required}")
    declaration = doc.schedule.premium.turnover_declaration
    check.raise_if_any()
    assert invoice is not None  # its problems were raised above
    return PackFigures(
        currency=doc.policy.currency,
        invoice_doc=invoice_doc,
        invoice=invoice,
        components=(*(c for c in COMPONENT_ORDER if c in r.enclosures), "commitments"),
        changes=changes,
        send_by_date=send_by,
        late=late,
        objection_deadline=objection,
        previous_declaration_due=add_calendar_days(
            r.previous_period.end, declaration.due_days_after_period
        ),
        declaration_due=add_calendar_days(r.new_period.end, declaration.due_days_after_period),
        warnings=tuple(warnings),
        example=worked_example(doc),
        **premium_outlook(doc),
    )


def premium_outlook(doc: RenewalPack) -> dict[str, Decimal]:
    """The year's premium as forecast, and how much of it the instalments leave to the
    adjustment after the turnover declaration."""
    premium = doc.schedule.premium
    currency = doc.policy.currency
    at_rate = apply_rate(premium.estimated_insured_turnover.amount, premium.rate, currency)
    estimated = max(premium.minimum_premium.amount, at_rate)
    charged = (premium.deposit_premium or premium.minimum_premium).amount
    return {
        "estimated_premium": estimated,
        "expected_adjustment": max(Decimal(0), estimated - charged),
    }


def send_by_date(period_end: dt.date, jurisdiction: str, on: dt.date) -> dt.date:
    """The last day to send the pack: the statutory notice (LCS art. 22.3: two months)
    counted back from the last day of the period, date to date, clamped to the end of a
    shorter month. A period ending 29 February 2028 gives 29 December 2027, never the
    31st (docs/rules/renewal_pack.md)."""
    return add_months(period_end, -legal.months("renewal.modification_notice", jurisdiction, on))


def numbering(doc: RenewalPack) -> NumberRequest:
    """The pack's invoice is numbered like any invoice."""
    inv = doc.premium_invoice.invoice
    return NumberRequest(
        series=inv.series,
        year=inv.issue_date.year,
        stated=inv.number,
        field="premium_invoice.invoice.number",
    )


def with_number(payload: dict[str, Any], number: str) -> dict[str, Any]:
    """``payload`` with the invoice's number set."""
    section = payload["premium_invoice"]
    return {
        **payload,
        "premium_invoice": {**section, "invoice": {**section["invoice"], "number": number}},
    }


def number_doc(doc: RenewalPack, number: str) -> RenewalPack:
    """``doc`` with the invoice's number set: :func:`with_number` on the model."""
    section = doc.premium_invoice
    invoice = section.invoice.model_copy(update={"number": number})
    return doc.model_copy(
        update={"premium_invoice": section.model_copy(update={"invoice": invoice})}
    )


def accounts(doc: RenewalPack) -> tuple[str, ...]:
    """The policyholder's account the first instalment is debited from."""
    debit = doc.premium_invoice.payment.method == "direct_debit"
    return ("premium_invoice.payment.iban", "premium_invoice.payment.clabe") if debit else ()


KIND = Kind(
    name="renewal_pack",
    model=RenewalPack,
    derive=derive,
    template="renewal_pack.html",
    sample_file="01_renewal_pack_es-ES.json",
    numbering=numbering,
    with_number=with_number,
    number_doc=number_doc,
    accounts=accounts,
)
