"""The claim calculation engine (brief §3.e.2), in the brief's order of operations:

1. eligibility per invoice (the assessment says which invoices are out, and why);
2. VAT: excluded unless the policy covers it;
3. pre-loss recoveries, allocated to the oldest invoice first (by due date, then invoice
   date), their VAT share removed (gross × net / gross) when VAT is not covered; the
   slice that pays an invoice off takes the remainder of its net, so a fully paid invoice
   leaves nothing;
4. the cap at the applicable credit limit, plus covered costs → the insured loss;
5. the claim threshold: an insured loss at or below it is not indemnified;
6. the indemnity percentage;
7. the deductible, per claim and aggregate first loss, applied after the percentage
   (default) or before it;
8. the cap at the remaining maximum liability.

Every amount is quantised half-up to the currency's minor unit; the printed steps add up
to the payable amount. The engine is a pure function so that it can be property-tested.
Invoices are identified by their position, never by their number: numbering restarts each
year, so two claimed invoices may share one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from correspondence.money import quantize

DeductibleMode = Literal["after_percentage", "before_percentage"]
ZERO = Decimal(0)


@dataclass(frozen=True)
class InvoiceIn:
    """One claimed invoice and whether the assessment accepted it."""

    number: str
    invoice_date: date
    due_date: date
    net: Decimal
    vat: Decimal
    eligible: bool

    @property
    def gross(self) -> Decimal:
        """Net plus VAT."""
        return self.net + self.vat


@dataclass(frozen=True)
class RecoveryIn:
    """Money the buyer paid before the date of loss."""

    date: date
    gross: Decimal


@dataclass(frozen=True)
class ClaimInput:
    """Everything the calculation needs."""

    currency: str
    invoices: Sequence[InvoiceIn]
    recoveries: Sequence[RecoveryIn]
    vat_covered: bool
    credit_limit: Decimal
    covered_costs: Decimal
    claim_threshold: Decimal | None
    indemnity_pct: Decimal
    deductible_mode: DeductibleMode
    per_claim_deductible: Decimal
    afl_remaining_before: Decimal
    max_liability_remaining: Decimal


@dataclass(frozen=True)
class Allocation:
    """A slice of a recovery allocated to one invoice (``index`` in ``inp.invoices``)."""

    invoice: str
    gross: Decimal
    net: Decimal
    vat: Decimal
    index: int = -1


@dataclass(frozen=True)
class InvoiceResult:
    """One invoice after recoveries and eligibility."""

    number: str
    outstanding: Decimal
    recovered_gross: Decimal
    eligible_amount: Decimal
    excluded: Decimal


StepKind = Literal[
    "claimed",
    "vat",
    "ineligible",
    "eligible_subtotal",
    "above_limit",
    "covered_costs",
    "insured_subtotal",
    "below_threshold",
    "deductible",
    "loss_after_deductible_subtotal",
    "uninsured",
    "indemnity_subtotal",
    "above_max_liability",
    "payable",
]


@dataclass(frozen=True)
class Step:
    """One printed line: a deduction (negative), an addition, or a subtotal."""

    kind: StepKind
    amount: Decimal
    subtotal: bool = False
    invoice: str | None = None


@dataclass(frozen=True)
class Calculation:
    """The result, with every intermediate figure the letter prints or checks."""

    steps: tuple[Step, ...]
    invoices: tuple[InvoiceResult, ...]
    allocations: tuple[tuple[Allocation, ...], ...]
    claimed_gross: Decimal
    vat_excluded: Decimal
    ineligible_total: Decimal
    eligible_outstanding: Decimal
    above_limit: Decimal
    insured_loss: Decimal
    below_threshold: bool
    uninsured: Decimal
    indemnity_before_deductible: Decimal
    deductible_applied: Decimal
    afl_remaining_after: Decimal
    above_max_liability: Decimal
    payable: Decimal
    reductions: tuple[str, ...] = field(default=())

    @property
    def outcome(self) -> Literal["paid_in_full", "partially_paid", "declined"]:
        """Declined at zero; paid in full when only the contractual retention (uninsured
        percentage, deductible) and the uninsured VAT were deducted; partial otherwise."""
        if self.payable == 0:
            return "declined"
        return "partially_paid" if self.reductions else "paid_in_full"


def oldest_first(invoices: Sequence[InvoiceIn]) -> list[int]:
    """Indexes of ``invoices``, oldest first: by due date, then invoice date, then number,
    then the order of the claim (docs/rules/claim_decision.md)."""

    def age(k: int) -> tuple[date, date, str, int]:
        invoice = invoices[k]
        return (invoice.due_date, invoice.invoice_date, invoice.number, k)

    return sorted(range(len(invoices)), key=age)


def _allocate(
    inp: ClaimInput,
) -> tuple[list[Decimal], list[Decimal], list[tuple[Allocation, ...]]]:
    """Recoveries to the oldest invoice first; each slice split into net and VAT.

    Returns the gross and net recovered per invoice (by index) and ``allocations[k]``, the
    slices of ``inp.recoveries[k]``. Each slice's net share is rounded on its own, except
    the slice that pays an invoice off, which takes the remainder: the slices of a paid
    invoice add up to its net, and nothing of it stays eligible."""
    order = oldest_first(inp.invoices)
    invoices = inp.invoices
    left = [i.gross for i in invoices]
    rec_gross = [ZERO for _ in invoices]
    rec_net = [ZERO for _ in invoices]
    slices: list[tuple[Allocation, ...]] = [() for _ in inp.recoveries]
    for index, recovery in sorted(enumerate(inp.recoveries), key=lambda ir: (ir[1].date, ir[0])):
        remaining = recovery.gross
        parts: list[Allocation] = []
        for k in order:
            if remaining <= 0:
                break
            take = min(remaining, left[k])
            if take <= 0:
                continue
            invoice = invoices[k]
            if take == left[k]:  # the slice that pays the invoice off takes the remainder
                net = invoice.net - rec_net[k]
            else:
                net = quantize(take * invoice.net / invoice.gross, inp.currency)
            rec_gross[k] += take
            rec_net[k] += net
            parts.append(Allocation(invoice.number, take, net, take - net, k))
            left[k] -= take
            remaining -= take
        slices[index] = tuple(parts)
    return rec_gross, rec_net, slices


def calculate(inp: ClaimInput) -> Calculation:
    """Run the calculation. Inputs must be non-negative and in ``inp.currency``."""
    q = inp.currency
    rec_gross, rec_net, allocations = _allocate(inp)
    results: list[InvoiceResult] = []
    steps: list[Step] = []
    reductions: list[str] = []
    vat_excluded = ZERO
    ineligible_steps: list[Step] = []
    for k, invoice in enumerate(inp.invoices):
        outstanding = invoice.gross - rec_gross[k]
        if not invoice.eligible:
            results.append(
                InvoiceResult(invoice.number, outstanding, rec_gross[k], ZERO, outstanding)
            )
            if outstanding > 0:
                ineligible_steps.append(Step("ineligible", -outstanding, invoice=invoice.number))
                reductions.append(f"ineligible:{invoice.number}")
            continue
        if inp.vat_covered:
            eligible = outstanding
        else:
            eligible = invoice.net - rec_net[k]
            vat_excluded += outstanding - eligible
        results.append(
            InvoiceResult(
                invoice.number,
                outstanding,
                rec_gross[k],
                eligible,
                outstanding - eligible,
            )
        )
    claimed = sum((r.outstanding for r in results), ZERO)
    ineligible_total = vat_excluded + sum((-s.amount for s in ineligible_steps), ZERO)
    eligible_outstanding = claimed - ineligible_total

    steps.append(Step("claimed", claimed))
    if vat_excluded:
        steps.append(Step("vat", -vat_excluded))
    steps.extend(ineligible_steps)
    steps.append(Step("eligible_subtotal", eligible_outstanding, subtotal=True))
    above_limit = max(ZERO, eligible_outstanding - inp.credit_limit)
    if above_limit:
        steps.append(Step("above_limit", -above_limit))
        reductions.append("above_limit")
    if inp.covered_costs:
        steps.append(Step("covered_costs", inp.covered_costs))
    insured = eligible_outstanding - above_limit + inp.covered_costs
    steps.append(Step("insured_subtotal", insured, subtotal=True))

    below_threshold = inp.claim_threshold is not None and insured <= inp.claim_threshold
    uninsured = deductible = afl_used = above_max = ZERO
    if below_threshold:
        steps.append(Step("below_threshold", -insured))
        reductions.append("below_threshold")
        indemnity_before = ZERO
        pre_cap = ZERO
    elif inp.deductible_mode == "after_percentage":
        indemnity_before = quantize(insured * inp.indemnity_pct, q)
        uninsured = insured - indemnity_before
        steps.append(Step("uninsured", -uninsured))
        steps.append(Step("indemnity_subtotal", indemnity_before, subtotal=True))
        deductible = min(indemnity_before, inp.per_claim_deductible + inp.afl_remaining_before)
        steps.append(Step("deductible", -deductible))
        pre_cap = indemnity_before - deductible
    else:
        deductible = min(insured, inp.per_claim_deductible + inp.afl_remaining_before)
        steps.append(Step("deductible", -deductible))
        after = insured - deductible
        steps.append(Step("loss_after_deductible_subtotal", after, subtotal=True))
        indemnity_before = quantize(insured * inp.indemnity_pct, q)
        pre_cap = quantize(after * inp.indemnity_pct, q)
        uninsured = after - pre_cap
        steps.append(Step("uninsured", -uninsured))
    afl_used = max(ZERO, deductible - inp.per_claim_deductible)
    payable = max(ZERO, min(pre_cap, inp.max_liability_remaining))
    above_max = pre_cap - payable
    if above_max:
        steps.append(Step("above_max_liability", -above_max))
        reductions.append("above_max_liability")
    steps.append(Step("payable", payable, subtotal=True))
    return Calculation(
        steps=tuple(steps),
        invoices=tuple(results),
        allocations=tuple(allocations),
        claimed_gross=claimed,
        vat_excluded=vat_excluded,
        ineligible_total=ineligible_total,
        eligible_outstanding=eligible_outstanding,
        above_limit=above_limit,
        insured_loss=insured,
        below_threshold=below_threshold,
        uninsured=uninsured,
        indemnity_before_deductible=indemnity_before,
        deductible_applied=deductible,
        afl_remaining_after=inp.afl_remaining_before - afl_used,
        above_max_liability=above_max,
        payable=payable,
        reductions=tuple(reductions),
    )
