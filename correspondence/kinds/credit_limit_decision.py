"""Credit limit decision (brief §3.e.1): approved, partially approved, refused.

The outcome is derived from the amounts, never typed: approved when the approved amount
equals the request, partially approved below it, refused at zero. Request and decision
dates are both printed because the charter promises timely decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import Field

from correspondence.checks import Reconciler
from correspondence.kinds import Kind
from correspondence.kinds.common import (
    Appeal,
    AppealFigures,
    Buyer,
    Rating,
    Reason,
    appeal_figures,
    check_buyer,
    require_complaint_routes,
)
from correspondence.models import (
    LIST_MAX,
    Day,
    Envelope,
    Model,
    Money,
    NonEmpty,
    Person,
    Rate,
    Text,
)
from correspondence.rules import check_min_indemnity

Outcome = Literal["approved", "partially_approved", "refused"]


class LimitRequest(Model):
    """The policyholder's request."""

    id: NonEmpty
    received_date: Day
    amount_requested: Money
    requested_by: Person | None = None
    buyer: Buyer


class DecisionConditions(Model):
    """Conditions attached to the approved limit."""

    max_credit_period_days: int | None = Field(default=None, ge=1, le=720)
    security: Text | None = None
    indemnity_pct_override: Rate | None = None


class Decision(Model):
    """The insurer's answer."""

    outcome: Outcome | None = None
    date: Day
    amount_approved: Money
    effective_date: Day
    valid_until: Day | None = None
    review_date: Day | None = None
    conditions: DecisionConditions | None = None
    reasons: list[Reason] = Field(max_length=LIST_MAX, default_factory=list)
    information_that_could_change_it: list[Text] = Field(max_length=LIST_MAX, default_factory=list)
    reapply_after: Day | None = None
    alternatives: list[Text] = Field(max_length=LIST_MAX, default_factory=list)
    first_sale_cover_ended: bool | None = None


class Fee(Model):
    """The fee charged for the decision, if any. Its name and the sentences on its tax and
    billing are worded by the template per locale from these codes (issue 18: labels and
    fixed phrases never come from the payload)."""

    code: Literal["credit_assessment", "monitoring"]
    amount: Money
    tax: Literal["plus_vat", "vat_included", "not_subject"] = "plus_vat"
    billed: Literal["next_fee_invoice", "separate_invoice"] | None = None


class Sla(Model):
    """Internal timeliness metric; recorded, not printed."""

    target_business_days: int = Field(ge=0, le=3650)
    actual_business_days: int = Field(ge=0, le=3650)


class CreditLimitDecision(Envelope):
    """The ``credit_limit_decision`` payload."""

    request: LimitRequest
    decision: Decision
    buyer_rating: Rating | None = None
    fee: Fee | None = None
    sla: Sla | None = None
    appeal: Appeal | None = None


@dataclass(frozen=True)
class DecisionFigures:
    """What the letter prints that the service computed."""

    outcome: Outcome
    refused_amount: Decimal
    dcl_blocked: bool
    show_rating: bool
    needs_appeal: bool
    appeal: AppealFigures | None


def outcome_of(requested: Decimal, approved: Decimal) -> Outcome:
    """approved = requested → approved; 0 < approved < requested → partial; 0 → refused."""
    if approved == 0:
        return "refused"
    if approved == requested:
        return "approved"
    return "partially_approved"


def derive(doc: CreditLimitDecision) -> DecisionFigures:
    """Derive the outcome and refuse a payload that states another."""
    check = Reconciler()
    requested = doc.request.amount_requested
    approved = doc.decision.amount_approved
    if requested.amount <= 0:
        check.rule("request.amount_requested.amount", "must be greater than zero")
    if approved.amount < 0 or approved.amount > requested.amount:
        check.rule(
            "decision.amount_approved.amount",
            f"must be between 0 and the amount requested ({requested.amount})",
        )
    outcome = outcome_of(requested.amount, approved.amount)
    check.same(
        "decision.outcome",
        doc.decision.outcome,
        outcome,
        why=f"approved {approved.amount} of {requested.amount} requested",
    )
    decision = doc.decision
    if decision.date < doc.request.received_date:
        check.rule("decision.date", "is before the request was received")
    if decision.date > doc.document.issue_date:
        check.rule("decision.date", "is after the letter's issue date")
    if decision.effective_date < decision.date:
        check.rule("decision.effective_date", "is before the decision date")
    for name in ("valid_until", "review_date", "reapply_after"):
        day = getattr(decision, name)
        if day is not None and day < decision.effective_date:
            check.rule(
                f"decision.{name}", f"{day} is before the effective date {decision.effective_date}"
            )
    if decision.conditions is not None:
        check_min_indemnity(
            doc.document.jurisdiction,
            doc.document.issue_date,
            "decision.conditions.indemnity_pct_override",
            decision.conditions.indemnity_pct_override,
            check,
        )
    if outcome != "approved" and not decision.reasons:
        check.rule("decision.reasons", "say why the request was not approved in full")
    check_buyer(doc.request.buyer, "request.buyer", check)
    needs_appeal = outcome != "approved"
    appeal = None
    if needs_appeal:
        if doc.appeal is None:
            check.rule("appeal", "a partial approval or a refusal must say how to appeal")
        else:
            appeal = appeal_figures(doc, doc.appeal, check)
        require_complaint_routes(doc, check)
    check.raise_if_any()
    return DecisionFigures(
        outcome=outcome,
        refused_amount=requested.amount - approved.amount,
        dcl_blocked=outcome == "refused",
        show_rating=bool(doc.buyer_rating and doc.buyer_rating.shareable),
        needs_appeal=needs_appeal,
        appeal=appeal,
    )


def internal(doc: CreditLimitDecision) -> tuple[str, ...]:
    """The SLA block is recorded, not shown; a rating the insurer does not share is not
    shown anywhere, the buyer's in the request included."""
    fields = ["sla"]
    if doc.buyer_rating is not None and not doc.buyer_rating.shareable:
        fields.append("buyer_rating")
    rating = doc.request.buyer.rating
    if rating is not None and not rating.shareable:
        fields.append("request.buyer.rating")
    return tuple(fields)


KIND = Kind(
    name="credit_limit_decision",
    model=CreditLimitDecision,
    derive=derive,
    template="credit_limit_decision.html",
    sample_file="05_credit_limit_decision_partial_es-MX.json",
    group_four_digits=False,  # prose letter: 4860,00 € (RAE, CLDR)
    internal=internal,
)
