"""Claim decisions, claim-filing guides and collection updates: stated figures and rules."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from correspondence.errors import InvalidPayload
from correspondence.kinds import SAMPLES_DIR, validate
from correspondence.kinds.claim_decision import ClaimFigures
from correspondence.kinds.claim_filing_guide import GuideFigures
from correspondence.kinds.collection_update import UpdateFigures
from tests.conftest import load_sample


def decision() -> dict[str, Any]:
    return copy.deepcopy(load_sample("06_claim_decision_partial_es-ES.json"))


def guide() -> dict[str, Any]:
    return copy.deepcopy(load_sample("04_claim_filing_guide_en-GB.json"))


def update(name: str = "07_collection_update_es-MX.json") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES_DIR / name).read_text("utf-8"))
    return loaded


def problems(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        validate(payload)
    return {p.field: p.message for p in caught.value.problems}


def test_sample_claim_reproduces_every_stated_step() -> None:
    """The engine's steps are the sample's, amount for amount."""
    payload = decision()
    fig = validate(payload).figures
    assert isinstance(fig, ClaimFigures)
    stated = [Decimal(s["amount"]["amount"]) for s in payload["calculation"]["steps"]]
    assert [s.amount for s in fig.calc.steps] == stated
    assert fig.outcome == payload["outcome"] == "partially_paid"


def test_tampered_payable_is_refused() -> None:
    """A payable that is not the engine's is refused, naming both values."""
    payload = decision()
    payload["calculation"]["payable"]["amount"] = "62500.00"
    message = problems(payload)["calculation.payable.amount"]
    assert message == "stated 62500.00 but the service computes 62000.00"


def test_tampered_step_is_refused_naming_the_step() -> None:
    """Each printed step is checked."""
    payload = decision()
    payload["calculation"]["steps"][5]["amount"]["amount"] = "-5000.00"
    message = problems(payload)["calculation.steps.5.amount"]
    assert "-5867.77" in message and "Exceso sobre el límite" in message


def test_stated_outcome_must_be_derived() -> None:
    """'paid_in_full' with excluded invoices is refused."""
    payload = decision()
    payload["outcome"] = "paid_in_full"
    assert "partially_paid" in problems(payload)["outcome"]


def test_invoice_after_the_stop_date_cannot_be_eligible() -> None:
    """An invoice issued after the MEP end must carry an ineligibility reason."""
    payload = decision()
    payload["invoices"][4]["ineligible_reason"] = None
    payload["invoices"][4]["eligible_net"] = {"amount": "9500.00", "currency": "EUR"}
    assert "invoices.4.ineligible_reason" in problems(payload)


def test_recovery_net_must_follow_the_invoice_vat_rate() -> None:
    """The VAT share of a recovery follows its invoice."""
    payload = decision()
    payload["pre_loss_recoveries"][0]["net"]["amount"] = "4000.00"
    assert "4132.23" in problems(payload)["pre_loss_recoveries.0.net.amount"]


def test_spanish_indemnity_below_half_is_refused() -> None:
    """LCS art. 71: at least 50 % in Spain."""
    payload = decision()
    payload["calculation"]["indemnity_pct"] = "0.40"
    assert "calculation.indemnity_pct" in problems(payload)


def test_partial_claim_needs_an_appeal() -> None:
    """The right of appeal is mandatory unless paid in full."""
    payload = decision()
    del payload["appeal"]
    assert "appeal" in problems(payload)


def test_guide_example_dates_are_computed() -> None:
    """MEP end, report-by, date of loss and payment follow the policy parameters."""
    fig = validate(guide()).figures
    assert isinstance(fig, GuideFigures) and fig.example is not None
    ex = fig.example
    assert (ex.mep_end, ex.notify_by, ex.date_of_loss, ex.payment_due_by) == (
        date(2027, 2, 8),
        date(2027, 3, 10),
        date(2027, 7, 29),
        date(2027, 8, 28),
    )
    assert ex.payable == Decimal("120000.00")
    assert [p.key for p in ex.timeline] == [
        "due",
        "mep_end",
        "notified",
        "notify_by",
        "loss",
        "payment",
    ]
    assert ex.timeline[0].x < ex.timeline[-1].x


def test_guide_wrong_stated_date_is_refused() -> None:
    """A stated report-by date that ignores the policy's 30 days is refused."""
    payload = guide()
    payload["example"]["computed"]["notify_by"] = "2027-03-09"
    assert "2027-03-10" in problems(payload)["example.computed.notify_by"]


def test_guide_values_come_from_the_policy() -> None:
    """Another maximum extension period moves every date after it."""
    payload = guide()
    payload["policy_params"]["max_extension_period_days"] = 90
    payload["example"]["computed"] = {"notified_on": "2027-03-20"}
    fig = validate(payload).figures
    assert isinstance(fig, GuideFigures) and fig.example is not None
    assert fig.example.mep_end == date(2027, 3, 10)
    assert fig.example.notify_by == date(2027, 4, 9)


@pytest.mark.parametrize(
    "name", ["07_collection_update_es-MX.json", "07b_collection_update_en-GB.json"]
)
def test_collection_update_samples(name: str) -> None:
    """Recovered since, in total, outstanding; remitted in 5 of 10 business days."""
    fig = validate(update(name)).figures
    assert isinstance(fig, UpdateFigures)
    assert fig.cases[0].recovered_since == Decimal("60000.00")
    assert fig.cases[0].recovered_total == Decimal("100000.00")
    assert fig.cases[0].outstanding == Decimal("85600.00")
    assert fig.remittances[0].days == 5 and fig.remittances[0].on_time
    assert fig.next_update == date(2027, 1, 9)


def test_late_remittance_is_flagged_not_refused() -> None:
    """15 business days against a promise of 10 is printed as late."""
    payload = update()
    payload["remittances"][0]["remitted_on"] = "2026-12-09"
    fig = validate(payload).figures
    assert isinstance(fig, UpdateFigures)
    assert not fig.remittances[0].on_time and fig.remittances[0].days > 10 and not fig.all_on_time


def test_next_update_may_not_exceed_the_promised_frequency() -> None:
    """At least every 30 days."""
    payload = update()
    payload["next_update"] = "2027-01-15"
    assert "2027-01-09" in problems(payload)["next_update"]


def test_stated_outstanding_must_match() -> None:
    """Outstanding = placed − recovered in total."""
    payload = update()
    payload["cases"][0]["outstanding"]["amount"] = "125600.00"
    assert "85600.00" in problems(payload)["cases.0.outstanding.amount"]


def test_a_remittance_states_the_fee_between_recovered_and_remitted() -> None:
    """Issue 19: 60,000 recovered and 55,200 sent is a 4,800 fee, stated and checked; a
    covered debt carries none."""
    sample = load_sample("07_collection_update_es-MX.json")
    fig = validate(sample).figures
    assert isinstance(fig, UpdateFigures)
    sent = Decimal(sample["remittances"][0]["amount"]["amount"])
    recovered = Decimal(sample["cases"][0]["recoveries"][0]["amount"]["amount"])
    assert (fig.remittances[0].fee, fig.remittances[0].recovered) == (recovered - sent, recovered)
    wrong = copy.deepcopy(sample)
    del wrong["remittances"][0]["fee"]
    with pytest.raises(InvalidPayload) as caught:
        validate(wrong)
    message = {p.field: p.message for p in caught.value.problems}["remittances.0.fee.amount"]
    assert str(recovered - sent) in message and str(recovered) in message
