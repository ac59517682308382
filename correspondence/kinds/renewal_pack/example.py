"""The terms summary's worked example, computed from the policy's own figures by the claim
engine (issue 19: no number is written into a template).

The example loss is the largest discretionary credit limit the schedule allows (a buyer
sold on it who does not pay), or without one the annual minimum premium: an amount of the
policy's own, in its currency. It runs through :func:`correspondence.claims.calculate` as
one eligible invoice without VAT, at that buyer's limit, with the schedule's claim
threshold, indemnity percentage, deductible (applied after the percentage, the engine's
default; an aggregate deductible as if it were the year's first loss) and maximum
liability.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from correspondence.claims import ClaimInput, InvoiceIn, calculate
from correspondence.kinds.renewal_pack.model import RenewalPack

ZERO = Decimal(0)


@dataclass(frozen=True)
class WorkedExample:
    """One unpaid loss, and what the policy pays for it."""

    loss: Decimal
    on_dcl: bool
    """The loss is a sale on the discretionary limit (its percentage applies)."""
    pct: Decimal
    indemnity_before_deductible: Decimal
    deductible: Decimal
    below_threshold: bool
    payable: Decimal

    @property
    def deductible_takes_all(self) -> bool:
        """The deductible leaves nothing to pay: the letter says so."""
        return not self.below_threshold and self.deductible > 0 and self.payable == 0


def worked_example(doc: RenewalPack) -> WorkedExample:
    """The example, computed."""
    schedule = doc.schedule
    cover = schedule.cover
    on_dcl = bool(cover.dcl)
    loss = (
        max(d.max_amount.amount for d in cover.dcl)
        if on_dcl
        else schedule.premium.minimum_premium.amount
    )
    pct = cover.indemnity_pct.discretionary_limit if on_dcl else cover.indemnity_pct.approved_limit
    deductible = cover.deductible.amount.amount if cover.deductible.type != "none" else ZERO
    liability = cover.max_liability
    if liability.amount is not None:
        max_liability = liability.amount.amount
    else:
        assert liability.multiple is not None  # one figure per type (MaxLiability)
        max_liability = liability.multiple * schedule.premium.minimum_premium.amount
    day = doc.renewal.new_period.start
    calc = calculate(
        ClaimInput(
            currency=doc.policy.currency,
            invoices=(InvoiceIn("1", day, day, loss, ZERO, eligible=True),),
            recoveries=(),
            vat_covered=cover.vat_covered,
            credit_limit=loss,
            covered_costs=ZERO,
            claim_threshold=cover.claim_threshold.amount if cover.claim_threshold else None,
            indemnity_pct=pct,
            deductible_mode="after_percentage",
            per_claim_deductible=deductible if cover.deductible.type == "per_claim" else ZERO,
            afl_remaining_before=(
                deductible if cover.deductible.type == "aggregate_first_loss" else ZERO
            ),
            max_liability_remaining=max_liability,
        )
    )
    return WorkedExample(
        loss=loss,
        on_dcl=on_dcl,
        pct=pct,
        indemnity_before_deductible=calc.indemnity_before_deductible,
        deductible=calc.deductible_applied,
        below_threshold=any(s.kind == "below_threshold" for s in calc.steps),
        payable=calc.payable,
    )
