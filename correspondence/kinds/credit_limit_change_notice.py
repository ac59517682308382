"""Credit limit change notice (brief §3.c): increase, reduction, withdrawal.

The charter's promise made checkable: an insurer-initiated reduction or withdrawal takes
effect no earlier than ``notice_date + notice_period_days`` unless it is exceptional, and
then the letter says why. Deliveries before the effective date stay covered up to the
previous limit; the service computes those dates and checks any stated ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import Field

from correspondence.calendar import add_calendar_days
from correspondence.checks import Reconciler
from correspondence.kinds import Kind
from correspondence.kinds.common import (
    Appeal,
    AppealFigures,
    Buyer,
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
    Text,
)

ChangeType = Literal["increase", "reduction", "withdrawal", "conditions_change"]
ExceptionalReason = Literal[
    "buyer_insolvency_filing",
    "fraud_or_irregularity",
    "sanctions",
    "sudden_severe_deterioration",
    "other",
]


class Change(Model):
    """What changes, who asked, and when it takes effect."""

    type: ChangeType
    initiated_by: Literal["insurer", "policyholder"]
    notice_date: Day
    notice_period_days: int = Field(ge=0, le=365)
    effective_date: Day
    exceptional: bool = False
    exceptional_reason: ExceptionalReason | None = None
    exceptional_explanation: Text | None = None
    reasons: list[Reason] = Field(max_length=LIST_MAX, default_factory=list)


class LimitConditions(Model):
    """Conditions attached to the new limit."""

    max_credit_period_days: int | None = Field(default=None, ge=1, le=720)
    security_required: Text | None = None
    other: Text | None = None


class Limit(Model):
    """The previous and the new limit."""

    previous: Money
    new: Money
    conditions: LimitConditions | None = None


class ExposureTreatment(Model):
    """Stated cover around the effective date; every field is checked."""

    covered_until_effective_date: Money | None = None
    deliveries_covered_up_to_previous_limit_until: Day | None = None
    new_deliveries_from: Day | None = None


class CreditLimitChangeNotice(Envelope):
    """The ``credit_limit_change_notice`` payload."""

    change: Change
    buyer: Buyer
    limit: Limit
    exposure_treatment: ExposureTreatment | None = None
    pending_orders_instructions: Text | None = None
    next_steps: list[Text] | None = Field(default=None, max_length=LIST_MAX)
    dcl_blocked: bool | None = None
    monitoring_fee_stops_on: Day | None = None
    appeal: Appeal | None = None


@dataclass(frozen=True)
class ChangeFigures:
    """What the letter prints that the service computed."""

    currency: str
    earliest_effective_date: date
    previously_covered_until: date
    new_deliveries_from: date
    zero_limit: bool
    dcl_blocked: bool
    monitoring_fee_stops_on: date | None
    needs_appeal: bool
    appeal: AppealFigures | None
    show_rating: bool
    exceptional: bool


def _check_direction(doc: CreditLimitChangeNotice, check: Reconciler) -> None:
    previous, new = doc.limit.previous.amount, doc.limit.new.amount
    kind = doc.change.type
    if kind == "withdrawal" and new != 0:
        check.rule("limit.new.amount", f"a withdrawal leaves a limit of 0, not {new}")
    if kind == "reduction" and not (0 < new < previous):
        check.rule(
            "limit.new.amount", f"a reduction goes from {previous} to less, above 0; stated {new}"
        )
    if kind == "increase" and not new > previous:
        check.rule("limit.new.amount", f"an increase goes above {previous}; stated {new}")
    if kind == "conditions_change" and new != previous:
        check.rule("limit.new.amount", "a change of conditions keeps the amount")


def _check_notice(doc: CreditLimitChangeNotice, check: Reconciler) -> date:
    change = doc.change
    earliest = add_calendar_days(change.notice_date, change.notice_period_days)
    check.same(
        "change.notice_date",
        change.notice_date,
        doc.document.issue_date,
        why="the notice is this document: document.issue_date",
    )
    if change.effective_date < change.notice_date:
        check.rule("change.effective_date", "is before the notice date")
    restrictive = change.type in ("reduction", "withdrawal", "conditions_change")
    by_insurer = restrictive and change.initiated_by == "insurer"
    if by_insurer and change.effective_date < earliest and not change.exceptional:
        check.rule(
            "change.effective_date",
            f"{change.effective_date} gives less than {change.notice_period_days} days' "
            f"notice: the earliest effective date is {earliest} (notice date "
            f"{change.notice_date} + {change.notice_period_days} days), unless the change "
            "is exceptional, with a reason and an explanation",
        )
    if change.exceptional:
        if change.exceptional_reason is None:
            check.rule("change.exceptional_reason", "an exceptional change must give its reason")
        if not (change.exceptional_explanation or "").strip():
            check.rule(
                "change.exceptional_explanation",
                "an exceptional change must explain, in plain words, why there is no "
                "advance notice",
            )
    elif change.exceptional_reason is not None or change.exceptional_explanation:
        check.rule(
            "change.exceptional",
            "a reason for an exceptional change is given, but exceptional is false",
        )
    if restrictive and change.initiated_by == "insurer" and not change.reasons:
        check.rule("change.reasons", "say why the limit is reduced or withdrawn")
    return earliest


def derive(doc: CreditLimitChangeNotice) -> ChangeFigures:
    """Compute the notice's dates and flags and refuse any disagreement."""
    check = Reconciler()
    change = doc.change
    _check_direction(doc, check)
    earliest = _check_notice(doc, check)
    check_buyer(doc.buyer, "buyer", check)

    until = change.effective_date - timedelta(days=1)
    zero = doc.limit.new.amount == Decimal(0)
    stated = doc.exposure_treatment
    if stated is not None:
        if stated.covered_until_effective_date is not None:
            check.same(
                "exposure_treatment.covered_until_effective_date.amount",
                stated.covered_until_effective_date.amount,
                doc.limit.previous.amount,
                why="the previous limit",
            )
        check.same(
            "exposure_treatment.deliveries_covered_up_to_previous_limit_until",
            stated.deliveries_covered_up_to_previous_limit_until,
            until,
            why="the day before the effective date",
        )
        check.same(
            "exposure_treatment.new_deliveries_from",
            stated.new_deliveries_from,
            change.effective_date,
            why="the effective date",
        )
    dcl_blocked = zero
    check.same(
        "dcl_blocked",
        doc.dcl_blocked,
        dcl_blocked,
        why="a zero limit blocks discretionary cover on the buyer",
    )
    fee_stops = change.effective_date if change.type == "withdrawal" else None
    stated_stop = doc.monitoring_fee_stops_on
    if "monitoring_fee_stops_on" in doc.model_fields_set and stated_stop != fee_stops:
        check.rule(
            "monitoring_fee_stops_on",
            f"stated {doc.monitoring_fee_stops_on} but the service computes {fee_stops} "
            "(monitoring stops when a limit is withdrawn)",
        )

    # Only a change the insurer decided can be appealed: a reduction or withdrawal the
    # policyholder asked for carries no appeal block (docs/rules/credit_limit_change_notice.md).
    needs_appeal = change.initiated_by == "insurer" and change.type in (
        "reduction",
        "withdrawal",
        "conditions_change",
    )
    appeal = None
    if needs_appeal and doc.appeal is None:
        check.rule("appeal", "a reduction or withdrawal must tell the customer how to appeal")
    if needs_appeal and doc.appeal is not None:
        appeal = appeal_figures(doc, doc.appeal, check)
    if needs_appeal:
        require_complaint_routes(doc, check)
    check.raise_if_any()
    return ChangeFigures(
        currency=doc.policy.currency,
        earliest_effective_date=earliest,
        previously_covered_until=until,
        new_deliveries_from=change.effective_date,
        zero_limit=zero,
        dcl_blocked=dcl_blocked,
        monitoring_fee_stops_on=fee_stops,
        needs_appeal=needs_appeal,
        appeal=appeal if needs_appeal else None,
        show_rating=bool(doc.buyer.rating and doc.buyer.rating.shareable),
        exceptional=change.exceptional,
    )


def internal(doc: CreditLimitChangeNotice) -> tuple[str, ...]:
    """A rating the insurer does not share is not shown anywhere."""
    rating = doc.buyer.rating
    return ("buyer.rating",) if rating is not None and not rating.shareable else ()


KIND = Kind(
    name="credit_limit_change_notice",
    model=CreditLimitChangeNotice,
    derive=derive,
    template="credit_limit_change_notice.html",
    sample_file="03_credit_limit_change_reduction_es-ES.json",
    group_four_digits=False,  # prose letter: 4860,00 € (RAE, CLDR)
    internal=internal,
)
