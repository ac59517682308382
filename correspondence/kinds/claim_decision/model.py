"""The claim decision's payload model: the claim, its invoices and recoveries, the
stated calculation, the payment, the explanations and what follows payment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from correspondence.kinds.common import (
    Appeal,
)
from correspondence.models import (
    LIST_MAX,
    Day,
    Envelope,
    Label,
    Model,
    Money,
    NonEmpty,
    Party,
    Person,
    Rate,
    Text,
)

IneligibleCode = Literal[
    "vat_not_covered",
    "delivered_after_stop_date",
    "terms_exceed_max_credit_period",
    "disputed",
    "no_limit_at_delivery",
    "related_party",
    "outside_insured_business",
    "late_notification",
    "above_credit_limit",
    "below_threshold",
]
Outcome = Literal["paid_in_full", "partially_paid", "declined"]


class Claim(Model):
    """The claim and its key dates."""

    number: NonEmpty
    buyer: Party
    cause: Literal["insolvency", "protracted_default", "political"]
    mep_end: Day
    notified_on: Day
    submitted_on: Day
    documents_complete_on: Day
    date_of_loss: Day
    credit_limit_applicable: Money
    policy_year: NonEmpty
    vat_covered: bool = False


class IneligibleReason(Model):
    """Why an invoice is not indemnified."""

    code: IneligibleCode
    text: Text
    policy_clause: Text


class ClaimedInvoice(Model):
    """One claimed invoice."""

    number: NonEmpty
    invoice_date: Day
    due_date: Day
    delivery_date: Day | None = None
    net: Money
    vat: Money
    gross: Money | None = None
    eligible_net: Money | None = None
    ineligible_reason: IneligibleReason | None = None


class PreLossRecovery(Model):
    """A payment received from the buyer before the date of loss."""

    date: Day
    gross: Money
    net: Money | None = None
    vat_share: Money | None = None
    allocated_to: Label | None = None


class StatedStep(Model):
    """A printed calculation line as the payload states it."""

    label: NonEmpty
    amount: Money
    subtotal: bool = False


class Deductible(Model):
    """The deductible: per claim and/or aggregate first loss, before or after the percentage."""

    type: Literal["per_claim", "aggregate_first_loss", "both", "none"]
    mode: Literal["after_percentage", "before_percentage"] = "after_percentage"
    per_claim: Money | None = None
    afl_remaining_before: Money | None = None
    applied: Money | None = None
    afl_remaining_after: Money | None = None


class StatedCalculation(Model):
    """The calculation as the payload states it; inputs and results."""

    steps: list[StatedStep] | None = Field(default=None, max_length=LIST_MAX)
    claimed_gross: Money | None = None
    ineligible_total: Money | None = None
    eligible_outstanding: Money | None = None
    insured_loss: Money | None = None
    covered_costs: Money | None = None
    indemnity_pct: Rate
    indemnity_before_deductible: Money | None = None
    deductible: Deductible
    claim_threshold: Money | None = None
    max_liability_remaining_before: Money
    payable: Money | None = None


class ClaimPayment(Model):
    """How and when the indemnity is paid."""

    date: Day
    method: NonEmpty
    iban: Label | None = None
    clabe: Label | None = None
    reference: NonEmpty


class PostPayment(Model):
    """What happens after payment."""

    recoveries_sharing: Text
    subrogation_note: Text
    collections_continue: bool
    update_frequency_days: int = Field(ge=1, le=365)
    remittance_days: int = Field(ge=1, le=365)


ReductionCode = Literal[
    "vat", "above_limit", "below_threshold", "uninsured", "deductible", "above_max_liability"
]
"""The calculation's reductions an explanation answers for (an ineligible invoice cites its
clause in ``assessment``)."""


class Explanation(Model):
    """The examiner's note on one topic, with its clause, and the reductions of the
    calculation it explains: each reduction the calculation makes cites a clause."""

    topic: Text
    text: Text
    policy_clause: Text
    reductions: list[ReductionCode] = Field(max_length=6, default_factory=list)


class ClaimDecision(Envelope):
    """The ``claim_decision`` payload."""

    claims_examiner: Person
    claim: Claim
    invoices: list[ClaimedInvoice] = Field(max_length=LIST_MAX, min_length=1)
    pre_loss_recoveries: list[PreLossRecovery] = Field(max_length=LIST_MAX, default_factory=list)
    calculation: StatedCalculation
    outcome: Outcome | None = None
    payment: ClaimPayment | None = None
    explanations: list[Explanation] = Field(max_length=LIST_MAX, default_factory=list)
    post_payment: PostPayment
    appeal: Appeal | None = None
