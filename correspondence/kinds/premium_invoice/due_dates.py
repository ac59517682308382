"""The invoice's dates: due date, payment deadline, Mexican grace and cover cut-off,
Spanish suspension, and the credit note's settlement date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from correspondence import legal
from correspondence.calendar import add_calendar_days, add_months
from correspondence.checks import Reconciler
from correspondence.formatting import JURISDICTION_TZ
from correspondence.kinds.premium_invoice.model import (
    MX_COVER_CEASES_AT,
    PREMIUM_KINDS,
    InvoiceHeader,
    PremiumInvoice,
)
from correspondence.kinds.premium_invoice.payment import check_accounts
from correspondence.rules import check_mx_instalment_length


@dataclass(frozen=True)
class DueDates:
    """When the invoice is due and what follows if it is not paid."""

    due: date
    """The due date (a credit note: the date it is credited)."""
    deadline: date
    """The last day to pay: the due date, or in Mexico the end of the days of grace."""
    grace_days: int | None
    suspension: date | None
    """ES: cover is suspended one month after the due date (not for the first premium)."""
    cover_ceases_at: datetime | None
    """MX: noon, Mexico City time, on the last day of grace."""
    first_premium: bool


def due_dates(doc: PremiumInvoice, check: Reconciler) -> DueDates:
    inv = doc.invoice
    jurisdiction = doc.document.jurisdiction
    premium = inv.kind in PREMIUM_KINDS
    first_premium = premium and inv.period.start == doc.policy.period.start
    if inv.kind == "credit_note":
        day = _credit_note(doc, check)
        return DueDates(day, day, None, None, None, False)
    if premium and jurisdiction == "MX":
        check_mx_instalment_length(
            "invoice.period", inv.period.start, inv.period.end, inv.issue_date, check
        )

    # Due date.
    due: date | None
    if premium and jurisdiction == "MX":
        due = inv.period.start  # LSCS art. 37: due at the start of the period covered
        check.same(
            "invoice.due_date",
            inv.due_date,
            due,
            why="an instalment falls due at the start of the period it covers",
        )
    elif premium:
        due = inv.due_date  # ES: the contractual due date of the schedule
        if due is None:
            check.rule("invoice.due_date", "is required: the schedule's contractual due date")
    elif doc.policy.payment_terms_days is not None:
        due = add_calendar_days(inv.issue_date, doc.policy.payment_terms_days)
        check.same(
            "invoice.due_date",
            inv.due_date,
            due,
            why=f"issue date + {doc.policy.payment_terms_days} days of payment terms",
        )
    else:
        due = inv.due_date
        if due is None:
            check.rule(
                "invoice.due_date", "is required, or policy.payment_terms_days to compute it"
            )
    if due is None:
        due = inv.issue_date  # only to carry on collecting problems; never rendered

    # Payment deadline, grace, suspension and cover cut-off.
    grace: int | None = None
    suspension: date | None = None
    ceases: datetime | None = None
    if jurisdiction == "MX" and premium:
        grace = _mx_grace(inv, check)
        deadline = add_calendar_days(due, grace)
        ceases = datetime.combine(
            deadline, MX_COVER_CEASES_AT, tzinfo=ZoneInfo(JURISDICTION_TZ["MX"])
        )
        if inv.cover_ceases_if_unpaid is not None:
            if inv.cover_ceases_if_unpaid.tzinfo is None:
                check.rule("invoice.cover_ceases_if_unpaid", "needs a UTC offset")
            else:
                check.same(
                    "invoice.cover_ceases_if_unpaid",
                    inv.cover_ceases_if_unpaid,
                    ceases,
                    show=lambda d: d.isoformat(),
                    why="noon, Mexico City time, on the last day of grace",
                )
        why = f"due date + {grace} days of grace"
    else:
        deadline = due
        why = "the due date"
        if inv.grace_days is not None:
            check.rule("invoice.grace_days", "applies only to Mexican premium invoices")
        if inv.cover_ceases_if_unpaid is not None:
            check.rule("invoice.cover_ceases_if_unpaid", "applies only to Mexican premium invoices")
    if jurisdiction == "ES" and premium and not first_premium:
        # LCS art. 15: suspended one month after the due date
        suspension = add_months(
            due, legal.months("premium.suspension_after_due", "ES", inv.issue_date)
        )
    if "suspension_date_if_unpaid" in inv.model_fields_set:
        stated = inv.suspension_date_if_unpaid
        if stated != suspension:
            check.rule(
                "invoice.suspension_date_if_unpaid",
                f"stated {stated} but the service computes {suspension} "
                "(ES: one month after the due date, none for the first premium)",
            )
    check.same("invoice.payment_deadline", inv.payment_deadline, deadline, why=why)
    if inv.issue_date > deadline:
        check.rule(
            "invoice.issue_date",
            f"{inv.issue_date} is after the date to pay by ({deadline}): the invoice would "
            "print a past deadline",
        )
    return DueDates(due, deadline, grace, suspension, ceases, first_premium)


def _mx_grace(inv: InvoiceHeader, check: Reconciler) -> int:
    """The agreed days of grace, within the law's range, or the law's default."""
    law = legal.rule("premium.grace", "MX", inv.issue_date)
    assert isinstance(law.value, legal.Range)
    grace = inv.grace_days if inv.grace_days is not None else law.value.default
    if not law.value.minimum <= grace <= law.value.maximum:
        check.rule(
            "invoice.grace_days",
            f"{grace} is outside {law.value.minimum}..{law.value.maximum} days ({law.source})",
        )
    return grace


def _credit_note(doc: PremiumInvoice, check: Reconciler) -> date:
    """A credit note pays nothing: it says what we credit, how and by when.

    It names the invoice it corrects and, in Spain, is numbered in a rectifying series of
    its own (RD 1619/2012 art. 15). None of the payment deadline fields apply to it.
    """
    inv = doc.invoice
    for name in (
        "due_date",
        "payment_deadline",
        "grace_days",
        "cover_ceases_if_unpaid",
        "suspension_date_if_unpaid",
    ):
        if getattr(inv, name) is not None:
            check.rule(
                f"invoice.{name}",
                "a credit note has no payment deadline: credit.date says when we credit it",
            )
    credit = doc.credit
    if credit is None:
        check.rule("credit", "a credit note says how (method) and when (date) we credit it")
        return inv.issue_date
    if credit.date < inv.issue_date:
        check.rule("credit.date", f"{credit.date} is before the issue date {inv.issue_date}")
    if credit.method == "refund_transfer":
        account = "clabe" if doc.document.jurisdiction == "MX" else "iban"
        if getattr(credit, account) is None:
            check.rule(f"credit.{account}", "a refund by transfer names the account it goes to")
    check_accounts("credit", credit.iban, credit.clabe, check)
    return credit.date
