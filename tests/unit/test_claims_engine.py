"""The claim calculation engine: the sample, each rule, and properties that always hold."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from correspondence.claims import ClaimInput, InvoiceIn, RecoveryIn, calculate

D = Decimal


def base(**overrides: object) -> ClaimInput:
    values: dict[str, object] = {
        "currency": "EUR",
        "invoices": [
            InvoiceIn("A", date(2025, 3, 3), date(2025, 5, 2), D("30000.00"), D("6300.00"), True)
        ],
        "recoveries": [],
        "vat_covered": False,
        "credit_limit": D("80000.00"),
        "covered_costs": D("0"),
        "claim_threshold": None,
        "indemnity_pct": D("0.90"),
        "deductible_mode": "after_percentage",
        "per_claim_deductible": D("0"),
        "afl_remaining_before": D("0"),
        "max_liability_remaining": D("750000.00"),
    }
    values.update(overrides)
    return ClaimInput(**values)  # type: ignore[arg-type]


def test_vat_only_and_retention_is_paid_in_full() -> None:
    """VAT excluded, 90 % paid: still paid in full, because only contractual items went."""
    calc = calculate(base())
    assert calc.vat_excluded == D("6300.00")
    assert calc.payable == D("27000.00")
    assert calc.outcome == "paid_in_full"


def test_recovery_goes_to_the_oldest_invoice_and_loses_its_vat_share() -> None:
    """5,000 gross on a 30,000 + 21 % invoice is 4,132.23 net and 867.77 VAT."""
    invoices = [
        InvoiceIn("NEW", date(2025, 4, 7), date(2025, 6, 6), D("28000.00"), D("5880.00"), True),
        InvoiceIn("OLD", date(2025, 3, 3), date(2025, 5, 2), D("30000.00"), D("6300.00"), True),
    ]
    calc = calculate(
        base(invoices=invoices, recoveries=[RecoveryIn(date(2025, 9, 15), D("5000.00"))])
    )
    (slice_,) = calc.allocations[0]
    assert slice_.invoice == "OLD" and slice_.net == D("4132.23") and slice_.vat == D("867.77")


def test_recovery_larger_than_the_oldest_invoice_spills_to_the_next() -> None:
    """Allocation continues, oldest first, until the recovery is used up."""
    invoices = [
        InvoiceIn("OLD", date(2025, 3, 3), date(2025, 5, 2), D("100.00"), D("0.00"), True),
        InvoiceIn("NEW", date(2025, 4, 7), date(2025, 6, 6), D("100.00"), D("0.00"), True),
    ]
    calc = calculate(
        base(invoices=invoices, recoveries=[RecoveryIn(date(2025, 9, 15), D("150.00"))])
    )
    assert [(s.invoice, s.gross) for s in calc.allocations[0]] == [
        ("OLD", D("100.00")),
        ("NEW", D("50.00")),
    ]
    assert calc.eligible_outstanding == D("50.00")


def test_threshold_declines_a_small_claim() -> None:
    """An insured loss at or below the threshold is not indemnified."""
    calc = calculate(base(claim_threshold=D("30000.00")))
    assert calc.below_threshold and calc.payable == 0 and calc.outcome == "declined"


def test_deductible_modes_differ() -> None:
    """After the percentage: 27,000 − 1,000; before: (30,000 − 1,000) × 90 %."""
    after = calculate(base(per_claim_deductible=D("1000.00")))
    before = calculate(base(per_claim_deductible=D("1000.00"), deductible_mode="before_percentage"))
    assert after.payable == D("26000.00")
    assert before.payable == D("26100.00")


def test_aggregate_first_loss_is_consumed() -> None:
    """An AFL larger than the indemnity absorbs it all and keeps the rest for later claims."""
    calc = calculate(base(afl_remaining_before=D("30000.00")))
    assert calc.payable == 0 and calc.afl_remaining_after == D("3000.00")
    assert calc.outcome == "declined"


def test_max_liability_caps_the_payment() -> None:
    """The remaining annual maximum is a hard cap, and makes the payment partial."""
    calc = calculate(base(max_liability_remaining=D("20000.00")))
    assert calc.payable == D("20000.00") and calc.above_max_liability == D("7000.00")
    assert calc.outcome == "partially_paid"


money = st.decimals(min_value=D("0.00"), max_value=D("500000.00"), places=2, allow_nan=False)
rates = st.decimals(min_value=D("0.50"), max_value=D("1.00"), places=2)


@st.composite
def claims(draw: st.DrawFn) -> ClaimInput:
    count = draw(st.integers(min_value=1, max_value=6))
    start = date(2025, 1, 1)
    invoices = []
    for i in range(count):
        net = draw(st.decimals(min_value=D("0.01"), max_value=D("200000.00"), places=2))
        vat = (net * draw(st.sampled_from([D("0"), D("0.16"), D("0.21")]))).quantize(D("0.01"))
        due = start + timedelta(days=draw(st.integers(0, 200)))
        invoices.append(
            InvoiceIn(f"F{i}", due - timedelta(days=60), due, net, vat, draw(st.booleans()))
        )
    total_gross = sum(i.gross for i in invoices)
    recoveries = [
        RecoveryIn(
            start + timedelta(days=300),
            draw(st.decimals(min_value=D("0.00"), max_value=total_gross, places=2)),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    if sum(r.gross for r in recoveries) > total_gross:
        recoveries = recoveries[:1]
    return ClaimInput(
        currency="EUR",
        invoices=invoices,
        recoveries=recoveries,
        vat_covered=draw(st.booleans()),
        credit_limit=draw(money),
        covered_costs=draw(st.sampled_from([D("0"), D("250.00")])),
        claim_threshold=draw(st.one_of(st.none(), money)),
        indemnity_pct=draw(rates),
        deductible_mode=draw(st.sampled_from(["after_percentage", "before_percentage"])),
        per_claim_deductible=draw(money),
        afl_remaining_before=draw(money),
        max_liability_remaining=draw(money),
    )


@settings(max_examples=300, deadline=None)
@given(claims())
def test_properties(inp: ClaimInput) -> None:
    """Payable ≤ insured × %, ≤ remaining maximum, never negative; steps add up; all quantised."""
    calc = calculate(inp)
    cent = D("0.01")
    assert calc.payable >= 0
    assert calc.payable <= (calc.insured_loss * inp.indemnity_pct).quantize(cent) + cent
    assert calc.payable <= inp.max_liability_remaining
    running = D(0)
    for step in calc.steps:
        if step.subtotal:
            assert step.amount == running, (step, running)
        else:
            running += step.amount
        assert step.amount == step.amount.quantize(cent)
    assert calc.steps[-1].amount == calc.payable
    for value in (
        calc.claimed_gross,
        calc.insured_loss,
        calc.indemnity_before_deductible,
        calc.deductible_applied,
        calc.afl_remaining_after,
    ):
        assert value == value.quantize(cent) and value >= 0
    assert (calc.outcome == "declined") == (calc.payable == 0)
