"""Claim decision (brief §3.e.2): paid in full, partially paid, declined.

The calculation is the engine's (:mod:`correspondence.claims`); every figure the payload
states in ``calculation`` must equal it, and the outcome is derived from it.

The package: ``model`` (the payload) and this module (the checks and the figures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from correspondence import banking, legal
from correspondence.calendar import add_calendar_days
from correspondence.checks import Reconciler
from correspondence.claims import Calculation, ClaimInput, InvoiceIn, RecoveryIn, calculate
from correspondence.kinds import Kind
from correspondence.kinds.claim_decision.model import ClaimDecision, Outcome, ReductionCode
from correspondence.kinds.common import (
    AppealFigures,
    appeal_figures,
    mask_account,
    require_complaint_routes,
)
from correspondence.models import (
    Money,
)
from correspondence.rules import check_min_indemnity, unique

__all__ = ["KIND", "ClaimDecision", "ClaimFigures", "Outcome", "derive"]


@dataclass(frozen=True)
class ClaimFigures:
    """What the letter prints that the service computed."""

    currency: str
    calc: Calculation
    outcome: Outcome
    indemnity_pct: Decimal
    uninsured_pct: Decimal
    deductible_type: str
    payment_due_by: dt.date
    payment_late: bool
    appeal: AppealFigures | None
    ineligible: tuple[int, ...]
    customer_account: str | None = None
    """The policyholder's account the indemnity is paid into, masked for print."""


def _money(value: Money | None) -> Decimal:
    return value.amount if value is not None else Decimal(0)


def _inputs(doc: ClaimDecision) -> ClaimInput:
    c = doc.calculation
    return ClaimInput(
        currency=doc.policy.currency,
        invoices=[
            InvoiceIn(
                i.number,
                i.invoice_date,
                i.due_date,
                i.net.amount,
                i.vat.amount,
                i.ineligible_reason is None,
            )
            for i in doc.invoices
        ],
        recoveries=[RecoveryIn(r.date, r.gross.amount) for r in doc.pre_loss_recoveries],
        vat_covered=doc.claim.vat_covered,
        credit_limit=doc.claim.credit_limit_applicable.amount,
        covered_costs=_money(c.covered_costs),
        claim_threshold=c.claim_threshold.amount if c.claim_threshold else None,
        indemnity_pct=c.indemnity_pct,
        deductible_mode=c.deductible.mode,
        per_claim_deductible=_money(c.deductible.per_claim),
        afl_remaining_before=_money(c.deductible.afl_remaining_before),
        max_liability_remaining=c.max_liability_remaining_before.amount,
    )


def _check_inputs(doc: ClaimDecision, check: Reconciler) -> None:
    # Numbering restarts each year: an invoice is its number within its year.
    unique(
        check,
        "invoices",
        doc.invoices,
        lambda i: (i.number, i.invoice_date.year),
        "number",
        "the number and year",
    )
    for i, inv in enumerate(doc.invoices):
        if inv.due_date < inv.invoice_date:
            check.rule(f"invoices.{i}.due_date", f"is before the invoice date {inv.invoice_date}")
        if inv.gross is not None:
            check.same(
                f"invoices.{i}.gross.amount",
                inv.gross.amount,
                inv.net.amount + inv.vat.amount,
                why="net + VAT",
            )
        reason = inv.ineligible_reason
        # The stop-deliveries test uses the delivery date when stated, else the invoice
        # date (docs/rules/claim_decision.md).
        delivered = inv.delivery_date or inv.invoice_date
        what = "delivered" if inv.delivery_date else "invoiced"
        after_stop = delivered > doc.claim.mep_end
        if after_stop and reason is None:
            check.rule(
                f"invoices.{i}.ineligible_reason",
                f"{what} on {delivered}, after the stop-deliveries date "
                f"({doc.claim.mep_end}): it cannot be eligible",
            )
        if reason is not None and reason.code == "delivered_after_stop_date" and not after_stop:
            check.rule(
                f"invoices.{i}.ineligible_reason.code",
                f"{what} on {delivered}, not after {doc.claim.mep_end}",
            )
        if inv.eligible_net is not None:
            expected = (
                Decimal(0)
                if reason is not None
                else (inv.net.amount + inv.vat.amount if doc.claim.vat_covered else inv.net.amount)
            )
            check.same(f"invoices.{i}.eligible_net.amount", inv.eligible_net.amount, expected)
    _check_recoveries(doc, check)
    c = doc.calculation
    check_min_indemnity(
        doc.document.jurisdiction,
        doc.document.issue_date,
        "calculation.indemnity_pct",
        c.indemnity_pct,
        check,
    )
    d = c.deductible
    if d.type in ("per_claim", "none") and _money(d.afl_remaining_before):
        check.rule(
            "calculation.deductible.afl_remaining_before",
            f"a {d.type} deductible has no aggregate first loss",
        )
    if d.type in ("aggregate_first_loss", "none") and _money(d.per_claim):
        check.rule(
            "calculation.deductible.per_claim", f"a {d.type} deductible has no per-claim part"
        )


def _check_recoveries(doc: ClaimDecision, check: Reconciler) -> None:
    """Pre-loss recoveries are dated up to the date of loss (later ones are shared, not
    deducted first) and add up to no more than the gross debt claimed."""
    loss = doc.claim.date_of_loss
    debt = sum((i.net.amount + i.vat.amount for i in doc.invoices), Decimal(0))
    recovered = Decimal(0)
    for n, recovery in enumerate(doc.pre_loss_recoveries):
        if recovery.date > loss:
            check.rule(
                f"pre_loss_recoveries.{n}.date",
                f"{recovery.date} is after the date of loss ({loss}): a recovery after the "
                "loss is shared in proportion to each party's loss, not deducted first",
            )
        recovered += recovery.gross.amount
        if recovered > debt:
            check.rule(
                f"pre_loss_recoveries.{n}.gross.amount",
                f"recoveries add up to {recovered}, more than the {debt} claimed (gross)",
            )
            break


def _check_results(doc: ClaimDecision, calc: Calculation, check: Reconciler) -> None:
    c = doc.calculation
    for field, stated, ours in (
        ("claimed_gross", c.claimed_gross, calc.claimed_gross),
        ("ineligible_total", c.ineligible_total, calc.ineligible_total),
        ("eligible_outstanding", c.eligible_outstanding, calc.eligible_outstanding),
        ("insured_loss", c.insured_loss, calc.insured_loss),
        (
            "indemnity_before_deductible",
            c.indemnity_before_deductible,
            calc.indemnity_before_deductible,
        ),
        ("deductible.applied", c.deductible.applied, calc.deductible_applied),
        (
            "deductible.afl_remaining_after",
            c.deductible.afl_remaining_after,
            calc.afl_remaining_after,
        ),
        ("payable", c.payable, calc.payable),
    ):
        if stated is not None:
            check.same(f"calculation.{field}.amount", stated.amount, ours)
    if c.steps is not None:
        if len(c.steps) != len(calc.steps):
            check.rule(
                "calculation.steps",
                f"states {len(c.steps)} steps; the engine has {len(calc.steps)}",
            )
        else:
            for n, (given, step) in enumerate(zip(c.steps, calc.steps, strict=True)):
                check.same(
                    f"calculation.steps.{n}.amount",
                    given.amount.amount,
                    step.amount,
                    why=f"step {n + 1}, {given.label!r}",
                )
    for n, recovery in enumerate(doc.pre_loss_recoveries):
        slices = calc.allocations[n]
        if not slices:
            continue
        if recovery.allocated_to is not None:
            check.same(
                f"pre_loss_recoveries.{n}.allocated_to",
                recovery.allocated_to,
                slices[0].invoice,
                why="the oldest unpaid invoice first",
            )
        net = sum((s.net for s in slices), Decimal(0))
        if recovery.net is not None:
            check.same(
                f"pre_loss_recoveries.{n}.net.amount",
                recovery.net.amount,
                net,
                why="gross × net / gross of the invoice it pays",
            )
        if recovery.vat_share is not None:
            check.same(
                f"pre_loss_recoveries.{n}.vat_share.amount",
                recovery.vat_share.amount,
                recovery.gross.amount - net,
            )


def derive(doc: ClaimDecision) -> ClaimFigures:
    """Run the engine, derive the outcome and refuse any stated figure that disagrees."""
    check = Reconciler()
    _check_inputs(doc, check)
    check.raise_if_any()
    calc = calculate(_inputs(doc))
    _check_results(doc, calc, check)
    _check_clauses(doc, calc, check)
    outcome = calc.outcome
    check.same("outcome", doc.outcome, outcome, why=f"payable {calc.payable}")
    claim = doc.claim
    if not (claim.notified_on <= claim.submitted_on <= claim.documents_complete_on):
        check.rule("claim.documents_complete_on", "notified ≤ submitted ≤ documents complete")
    payment_days = legal.duration(
        "claim.payment_due", doc.document.jurisdiction, doc.document.issue_date
    )
    due_by = add_calendar_days(claim.documents_complete_on, payment_days.value)
    late = False
    if outcome == "declined":
        if doc.payment is not None:
            check.rule("payment", "a declined claim has no payment")
    elif doc.payment is None:
        check.rule("payment", "say when and how the indemnity is paid")
    else:
        late = doc.payment.date > due_by
        pay = doc.payment
        if pay.iban and (why := banking.iban_problem(pay.iban)):
            check.rule("payment.iban", why)
        if pay.clabe and (why := banking.clabe_problem(pay.clabe)):
            check.rule("payment.clabe", why)
    appeal = None
    if outcome != "paid_in_full":
        if doc.appeal is None:
            check.rule("appeal", "a claim not paid in full must say how to appeal")
        else:
            appeal = appeal_figures(doc, doc.appeal, check)
        require_complaint_routes(doc, check)
    elif doc.appeal is not None:
        appeal = appeal_figures(doc, doc.appeal, check)
    check.raise_if_any()
    pct = doc.calculation.indemnity_pct
    account = doc.payment and (doc.payment.iban or doc.payment.clabe)
    return ClaimFigures(
        currency=doc.policy.currency,
        calc=calc,
        outcome=outcome,
        indemnity_pct=pct,
        uninsured_pct=Decimal(1) - pct,
        deductible_type=doc.calculation.deductible.type,
        payment_due_by=due_by,
        payment_late=late,
        appeal=appeal,
        ineligible=tuple(i for i, inv in enumerate(doc.invoices) if inv.ineligible_reason),
        customer_account=mask_account(account) if account else None,
    )


def _check_clauses(doc: ClaimDecision, calc: Calculation, check: Reconciler) -> None:
    """Each reduction the calculation makes cites its clause: an explanation names it
    (one naming a reduction this calculation does not make is harmless, and not printed
    against a step)."""
    explained = {code for e in doc.explanations for code in e.reductions}
    made = [s.kind for s in calc.steps if s.kind in REDUCTIONS and s.amount]
    for kind in made:
        if kind not in explained:
            check.rule(
                "explanations",
                f"the calculation's {kind!r} reduction cites no clause: add an explanation "
                f"with reductions [{kind!r}] and its policy_clause",
            )


REDUCTIONS = frozenset(ReductionCode.__args__)  # type: ignore[attr-defined]


def indemnity_account(_doc: ClaimDecision) -> tuple[str, ...]:
    """The policyholder's account the indemnity is paid to (masked when embedded)."""
    return ("payment.iban", "payment.clabe")


KIND = Kind(
    name="claim_decision",
    model=ClaimDecision,
    derive=derive,
    template="claim_decision.html",
    sample_file="06_claim_decision_partial_es-ES.json",
    signed_amounts=("calculation.steps.*.amount",),
    accounts=indemnity_account,
)
