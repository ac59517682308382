"""The rules that keep the pack's parts agreeing: periods and instalments, the schedule's
own identities and minimums, and the enclosed invoice against instalment 1."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from correspondence.checks import Reconciler
from correspondence.kinds.common import require_complaint_routes
from correspondence.kinds.premium_invoice import (
    PREMIUM_KINDS,
    InvoiceFields,
    InvoiceFigures,
    PremiumInvoice,
)
from correspondence.kinds.renewal_pack.model import (
    RenewalPack,
)
from correspondence.rules import (
    check_min_indemnity,
    check_mx_due_at_start,
    check_mx_instalment_length,
    unique,
)


def invoice_document(doc: RenewalPack) -> PremiumInvoice:
    """The pack's invoice as a premium_invoice document sharing the pack's envelope."""
    envelope = {
        "document": doc.document.model_copy(update={"type": "premium_invoice"}),
        "insurer": doc.insurer,
        "policyholder": doc.policyholder,
        "account_executive": doc.account_executive,
        "policy": doc.policy,
        "broker": doc.broker,
    }
    section = {
        name: getattr(doc.premium_invoice, name) for name in doc.premium_invoice.model_fields_set
    }
    return PremiumInvoice.model_validate({**envelope, **section})


def check_periods(doc: RenewalPack, check: Reconciler) -> None:
    r = doc.renewal
    check.same(
        "renewal.new_period.start",
        r.new_period.start,
        r.previous_period.end + dt.timedelta(days=1),
        why="the day after the previous period",
    )
    check.same("policy.period.start", doc.policy.period.start, r.new_period.start)
    check.same("policy.period.end", doc.policy.period.end, r.new_period.end)
    given = doc.schedule.premium.instalments
    unique(check, "schedule.premium.instalments", given, lambda x: x.number, "number", "the number")
    order = sorted(range(len(given)), key=lambda k: given[k].number)
    instalments = [given[k] for k in order]
    expected_start = r.new_period.start
    total = Decimal(0)
    mx = doc.document.jurisdiction == "MX"
    for k, inst in zip(order, instalments, strict=True):
        at = f"schedule.premium.instalments.{k}"
        if inst.period_start != expected_start:
            check.rule(
                f"{at}.period_start",
                f"is {inst.period_start}; instalments must cover the period without gaps "
                f"(expected {expected_start})",
            )
        if inst.period_end < inst.period_start:
            check.rule(f"{at}.period_end", "ends before it starts")
        if mx:  # the same rules as on the invoice (LSCS arts. 37-38)
            check_mx_due_at_start(f"{at}.due_date", inst.period_start, inst.due_date, check)
            check_mx_instalment_length(
                f"{at}.period_end",
                inst.period_start,
                inst.period_end,
                doc.document.issue_date,
                check,
            )
        expected_start = inst.period_end + dt.timedelta(days=1)
        total += inst.amount.amount
    if instalments[-1].period_end != r.new_period.end:
        check.rule(
            "schedule.premium.instalments",
            f"end on {instalments[-1].period_end}, not on {r.new_period.end}",
        )
    premium = doc.schedule.premium
    charged = premium.deposit_premium or premium.minimum_premium
    name = "deposit_premium" if premium.deposit_premium else "minimum_premium"
    check.same(
        "schedule.premium.instalments",
        total,
        charged.amount,
        why=f"the instalments add up to the {name.replace('_', ' ')}",
    )


def check_invoice_agrees(doc: RenewalPack, fig: InvoiceFigures, check: Reconciler) -> None:
    first = min(doc.schedule.premium.instalments, key=lambda x: x.number)
    inv = doc.premium_invoice.invoice
    check.same(
        "premium_invoice.invoice.period.start",
        inv.period.start,
        first.period_start,
        why="schedule instalment 1",
    )
    check.same(
        "premium_invoice.invoice.period.end",
        inv.period.end,
        first.period_end,
        why="schedule instalment 1",
    )
    check.same(
        "premium_invoice.invoice.due_date",
        fig.due_date,
        first.due_date,
        why="schedule instalment 1",
    )
    # The instalment states the premium; a surcharge or a policy fee on the same invoice
    # is not part of it, so the premium lines are compared, not the whole net.
    check.same(
        "premium_invoice.lines",
        fig.premium_net,
        first.amount.amount,
        why="the invoice's premium lines against schedule instalment 1",
    )
    check.same(
        "premium_invoice.payment.method",
        doc.premium_invoice.payment.method,
        doc.schedule.premium.payment_method,
        why="schedule.premium.payment_method",
    )
    ips = doc.schedule.premium.ips_rate
    for tax in fig.taxes:
        if tax.type == "IPS" and ips is not None:
            check.same("schedule.premium.ips_rate", ips, tax.rate, why="the invoice's IPS")


_DECLARATION = re.compile(
    r"declar\w*\b.*\b(ventas|sales|turnover)|(ventas|sales|turnover)\b.*\bdeclar", re.I
)


def check_obligations(doc: RenewalPack, check: Reconciler) -> None:
    """The terms summary prints the turnover declaration itself, with its date computed
    from the schedule: an obligation that states it again is refused (issue 19: the
    summary repeated it)."""
    for i, obligation in enumerate(doc.terms_summary.obligations):
        if _DECLARATION.search(obligation.text):
            check.rule(
                f"terms_summary.obligations.{i}",
                "the turnover declaration is printed from the schedule, with its date; "
                "do not state it again",
            )


def check_schedule_rules(doc: RenewalPack, check: Reconciler) -> None:
    """Identities in the schedule, the statutory minimum indemnity on every percentage it
    states, the complaint routes the terms summary prints, and a premium invoice."""
    schedule = doc.schedule
    unique(
        check,
        "schedule.countries",
        schedule.countries,
        lambda c: c.country,
        "country",
        "the country",
    )
    unique(check, "renewal.changes", doc.renewal.changes, lambda c: c.key, "key", "the key")
    unique(check, "schedule.cover.dcl", schedule.cover.dcl, lambda d: d.basis, "basis", "the basis")
    unique(
        check,
        "schedule.fees",
        schedule.fees,
        lambda f: (f.code, f.unit),
        "code",
        "the code and unit",
    )
    pct = schedule.cover.indemnity_pct
    for name in ("approved_limit", "discretionary_limit", "political"):
        check_min_indemnity(
            doc.document.jurisdiction,
            doc.document.issue_date,
            f"schedule.cover.indemnity_pct.{name}",
            getattr(pct, name),
            check,
        )
    require_complaint_routes(doc, check)
    check_obligations(doc, check)
    kind = doc.premium_invoice.invoice.kind
    if kind not in PREMIUM_KINDS:
        check.rule(
            "premium_invoice.invoice.kind",
            f"a renewal pack encloses the invoice of its first instalment, not a {kind}",
        )


def invoice_path(field: str) -> str:
    head = field.split(".", 1)[0]
    if head in InvoiceFields.model_fields:
        return f"premium_invoice.{field}"
    return field
