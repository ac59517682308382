"""Credit limit letters: advance notice, cover dates, derived outcomes (brief §3.c, §3.e.1)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from correspondence.errors import InvalidPayload
from correspondence.kinds import validate
from correspondence.kinds.credit_limit_change_notice import ChangeFigures
from correspondence.kinds.credit_limit_decision import DecisionFigures, outcome_of
from tests.conftest import load_sample


def reduction() -> dict[str, Any]:
    return copy.deepcopy(load_sample("03_credit_limit_change_reduction_es-ES.json"))


def withdrawal() -> dict[str, Any]:
    return copy.deepcopy(load_sample("03b_credit_limit_withdrawal_exceptional_en-GB.json"))


def decision() -> dict[str, Any]:
    return copy.deepcopy(load_sample("05_credit_limit_decision_partial_es-MX.json"))


def problems(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        validate(payload)
    return {p.field: p.message for p in caught.value.problems}


def test_reduction_sample_cover_dates() -> None:
    """Covered up to the previous limit until the day before the effective date."""
    fig = validate(reduction()).figures
    assert isinstance(fig, ChangeFigures)
    assert fig.previously_covered_until == date(2026, 12, 22)
    assert fig.new_deliveries_from == date(2026, 12, 23)
    assert fig.earliest_effective_date == date(2026, 12, 23)
    assert not fig.dcl_blocked and fig.needs_appeal and fig.show_rating


def test_reduction_with_too_little_notice_is_refused() -> None:
    """29 days' notice when the policy says 30, and not exceptional."""
    payload = reduction()
    payload["change"]["effective_date"] = "2026-12-22"
    payload["exposure_treatment"] = None
    message = problems(payload)["change.effective_date"]
    assert "earliest effective date is 2026-12-23" in message


def test_exceptional_withdrawal_needs_a_reason_and_an_explanation() -> None:
    """Immediate withdrawal is allowed only with both."""
    payload = withdrawal()
    payload["change"]["exceptional_reason"] = None
    assert "change.exceptional_reason" in problems(payload)
    payload = withdrawal()
    payload["change"]["exceptional_explanation"] = " "
    assert "change.exceptional_explanation" in problems(payload)


def test_immediate_withdrawal_without_exceptional_is_refused() -> None:
    """Same-day effect without the exceptional flag breaks the charter."""
    payload = withdrawal()
    payload["change"].update(
        exceptional=False, exceptional_reason=None, exceptional_explanation=None
    )
    assert "change.effective_date" in problems(payload)


def test_withdrawal_blocks_discretionary_cover_and_stops_monitoring() -> None:
    """A zero limit blocks the DCL; the monitoring fee stops on the effective date."""
    fig = validate(withdrawal()).figures
    assert isinstance(fig, ChangeFigures)
    assert fig.zero_limit and fig.dcl_blocked
    assert fig.monitoring_fee_stops_on == date(2026, 11, 23)
    assert not fig.show_rating


def test_stated_cover_dates_must_match() -> None:
    """A stated last covered day that is not the day before the effective date is refused."""
    payload = reduction()
    payload["exposure_treatment"]["deliveries_covered_up_to_previous_limit_until"] = "2026-12-23"
    found = problems(payload)
    assert "2026-12-22" in found["exposure_treatment.deliveries_covered_up_to_previous_limit_until"]


def test_stated_dcl_flag_must_match() -> None:
    """dcl_blocked follows the new limit."""
    payload = reduction()
    payload["dcl_blocked"] = True
    assert "dcl_blocked" in problems(payload)


def test_direction_must_match_the_change_type() -> None:
    """A 'reduction' that raises the limit is refused."""
    payload = reduction()
    payload["limit"]["new"]["amount"] = "200000.00"
    assert "limit.new.amount" in problems(payload)


def test_reduction_needs_an_appeal_block() -> None:
    """The charter's right of appeal is mandatory for reductions."""
    payload = reduction()
    del payload["appeal"]
    assert "appeal" in problems(payload)


def test_appeal_deadline_may_not_be_shorter_than_30_days() -> None:
    """The default window is the minimum."""
    payload = reduction()
    payload["appeal"]["deadline_date"] = "2026-12-01"
    assert "2026-12-23" in problems(payload)["appeal.deadline_date"]


def test_appeal_answer_counts_business_days_with_madrid_holidays() -> None:
    """10 business days from 23 Dec 2026 in Madrid skip 25 Dec, 1 Jan and 6 Jan."""
    fig = validate(reduction()).figures
    assert isinstance(fig, ChangeFigures) and fig.appeal is not None
    assert fig.appeal.answer_by_if_sent_on_deadline == date(2027, 1, 11)


def test_increase_needs_no_notice_and_no_appeal() -> None:
    """An increase takes effect when stated."""
    payload = reduction()
    payload["change"].update(type="increase", effective_date="2026-11-23", reasons=[])
    payload["limit"]["new"]["amount"] = "200000.00"
    payload["exposure_treatment"] = None
    del payload["appeal"]
    fig = validate(payload).figures
    assert isinstance(fig, ChangeFigures) and not fig.needs_appeal


@pytest.mark.parametrize(
    ("requested", "approved", "outcome"),
    [("100", "100", "approved"), ("100", "40", "partially_approved"), ("100", "0", "refused")],
)
def test_outcome_is_derived_from_amounts(requested: str, approved: str, outcome: str) -> None:
    """approved = requested, 0 < approved < requested, approved = 0."""
    from decimal import Decimal

    assert outcome_of(Decimal(requested), Decimal(approved)) == outcome


def test_sample_decision_is_partial() -> None:
    """2,500,000 requested, 1,500,000 approved."""
    fig = validate(decision()).figures
    assert isinstance(fig, DecisionFigures)
    assert fig.outcome == "partially_approved" and fig.needs_appeal and not fig.dcl_blocked


def test_stated_outcome_contradicting_amounts_is_refused() -> None:
    """'approved' with less than the request is refused, naming both outcomes."""
    payload = decision()
    payload["decision"]["outcome"] = "approved"
    message = problems(payload)["decision.outcome"]
    assert "stated approved" in message and "partially_approved" in message


def test_approved_more_than_requested_is_refused() -> None:
    """The approval cannot exceed the request."""
    payload = decision()
    payload["decision"]["amount_approved"]["amount"] = "3000000.00"
    payload["decision"]["outcome"] = None
    assert "decision.amount_approved.amount" in problems(payload)


def test_refusal_without_complaint_routes_is_refused() -> None:
    """A Mexican refusal must be able to print the UNE."""
    payload = decision()
    del payload["insurer"]["complaints"]["une"]
    assert "insurer.complaints.une" in problems(payload)
