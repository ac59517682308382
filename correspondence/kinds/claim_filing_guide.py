"""Claim-filing guide (brief §3.d): step by step, personal to the policy.

Every value comes from the policy parameters in the payload; none is hard-coded. The
worked example is a dated timeline computed from ``example`` and drawn as an SVG.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from correspondence.calendar import add_calendar_days, add_months
from correspondence.checks import Reconciler
from correspondence.claims import ClaimInput, InvoiceIn, calculate
from correspondence.kinds import Kind
from correspondence.kinds.common import CollectionService, require_complaint_routes
from correspondence.models import (
    LIST_MAX,
    Day,
    Envelope,
    Label,
    Model,
    Money,
    NonEmpty,
    Person,
    Rate,
    Text,
)
from correspondence.rules import check_min_indemnity, unique


class WaitingPeriod(Model):
    """Time to the date of loss in protracted default."""

    value: int = Field(ge=0, le=720)
    unit: Literal["days", "months"]
    start: Literal["overdue_notification", "due_date", "mep_end"] = Field(alias="from")


class GuideDeductible(Model):
    """The policy's deductible."""

    type: Literal["per_claim", "aggregate_first_loss", "both", "none"]
    amount: Money


class PolicyParams(Model):
    """The schedule's claim parameters."""

    max_credit_period_days: int = Field(ge=1, le=720)
    max_extension_period_days: int = Field(ge=0, le=720)
    overdue_notification_days_after_mep: int = Field(ge=0, le=365)
    collection_transfer_days_after_mep: int | None = Field(default=None, ge=0, le=365)
    waiting_period: WaitingPeriod
    claim_threshold: Money | None = None
    indemnity_pct: Rate
    deductible: GuideDeductible
    vat_covered: bool
    insolvency_notification_days: int = Field(ge=0, le=365)
    assessment_days_after_complete_documents: int = Field(default=30, ge=1, le=365)


class Channels(Model):
    """Where to report."""

    portal_url: HttpUrl
    email: NonEmpty
    phone: NonEmpty


class RequiredDocument(Model):
    """One item of the claim checklist, with why it is needed."""

    code: NonEmpty
    label: Text
    why: Text
    required_for: Literal["all", "insolvency", "protracted_default", "dcl"]


class ExampleDates(Model):
    """Stated dates of the worked example; each is checked."""

    mep_end: Day | None = None
    stop_deliveries_from: Day | None = None
    notify_by: Day | None = None
    collection_transfer_by: Day | None = None
    notified_on: Day
    date_of_loss: Day | None = None
    documents_complete_on: Day | None = None
    payment_due_by: Day | None = None


class IndicativeIndemnity(Model):
    """Stated figures of the worked example's indemnity; each is checked."""

    insured_loss: Money | None = None
    indemnity_before_deductible: Money | None = None
    afl_applied: Money | None = None
    payable: Money | None = None
    note: Text | None = None


class Example(Model):
    """A worked example: one unpaid invoice followed through the timeline."""

    invoice_number: NonEmpty
    invoice_date: Day
    due_date: Day
    amount: Money
    amount_net_of_vat: Money
    computed: ExampleDates
    indicative_indemnity: IndicativeIndemnity | None = None


class GuideAppeal(Model):
    """How to appeal a future claim decision."""

    deadline_days: int = Field(ge=1, le=365)
    channel: dict[Label, Label] = Field(max_length=10)
    """Where to write: ``email`` is printed in the letter, so it is required."""
    response_target_days: int = Field(ge=1, le=90)
    response_target_unit: Literal["business_days", "calendar_days"]

    @field_validator("channel")
    @classmethod
    def _email_given(cls, channel: dict[str, str]) -> dict[str, str]:
        if not channel.get("email"):
            raise ValueError("must give the email address appeals are written to (email)")
        return channel


class ClaimFilingGuide(Envelope):
    """The ``claim_filing_guide`` payload."""

    claims_contact: Person
    policy_params: PolicyParams
    channels: Channels
    collections: CollectionService
    documents_required: list[RequiredDocument] = Field(max_length=LIST_MAX, min_length=1)
    example: Example | None = None
    appeal: GuideAppeal


@dataclass(frozen=True)
class TimelinePoint:
    """One dated point of the SVG timeline; ``x`` in SVG units (labels alternate rows)."""

    key: str
    date: dt.date
    x: float


@dataclass(frozen=True)
class ExampleFigures:
    """The worked example, computed."""

    mep_end: dt.date
    stop_deliveries_from: dt.date
    notify_by: dt.date
    collection_transfer_by: dt.date | None
    notified_on: dt.date
    date_of_loss: dt.date
    documents_complete_on: dt.date
    payment_due_by: dt.date
    insured_loss: Decimal
    indemnity_before_deductible: Decimal
    deductible_applied: Decimal
    payable: Decimal
    below_threshold: bool
    timeline: tuple[TimelinePoint, ...]


@dataclass(frozen=True)
class GuideFigures:
    """What the guide prints that the service computed."""

    currency: str
    uninsured_pct: Decimal
    example: ExampleFigures | None


TIMELINE_WIDTH = 640.0
TIMELINE_MARGIN = 40.0


def _timeline(points: list[tuple[str, dt.date]]) -> tuple[TimelinePoint, ...]:
    start, end = points[0][1], points[-1][1]
    span = max((end - start).days, 1)
    usable = TIMELINE_WIDTH - 2 * TIMELINE_MARGIN
    return tuple(
        TimelinePoint(key, day, round(TIMELINE_MARGIN + usable * (day - start).days / span, 1))
        for key, day in points
    )


def _example(doc: ClaimFilingGuide, ex: Example, check: Reconciler) -> ExampleFigures:
    p = doc.policy_params
    mep_end = add_calendar_days(ex.due_date, p.max_extension_period_days)
    stop_from = add_calendar_days(mep_end, 1)
    notify_by = add_calendar_days(mep_end, p.overdue_notification_days_after_mep)
    transfer_by = (
        add_calendar_days(mep_end, p.collection_transfer_days_after_mep)
        if p.collection_transfer_days_after_mep is not None
        else None
    )
    c = ex.computed
    if ex.due_date < ex.invoice_date:
        check.rule("example.due_date", f"is before the invoice date {ex.invoice_date}")
    if c.notified_on < ex.due_date:
        check.rule(
            "example.computed.notified_on",
            f"is before the due date {ex.due_date}: nothing is overdue yet",
        )
    if c.notified_on > notify_by:
        check.rule("example.computed.notified_on", f"is after the report-by date {notify_by}")
    wp = p.waiting_period
    origin = {"overdue_notification": c.notified_on, "due_date": ex.due_date, "mep_end": mep_end}[
        wp.start
    ]
    loss = (
        add_calendar_days(origin, wp.value) if wp.unit == "days" else add_months(origin, wp.value)
    )
    complete = c.documents_complete_on or loss
    if complete < c.notified_on:
        check.rule("example.computed.documents_complete_on", "is before the notification")
    pay_by = add_calendar_days(max(complete, loss), p.assessment_days_after_complete_documents)
    for field, stated, ours in (
        ("mep_end", c.mep_end, mep_end),
        ("stop_deliveries_from", c.stop_deliveries_from, stop_from),
        ("notify_by", c.notify_by, notify_by),
        ("collection_transfer_by", c.collection_transfer_by, transfer_by),
        ("date_of_loss", c.date_of_loss, loss),
        ("payment_due_by", c.payment_due_by, pay_by),
    ):
        check.same(f"example.computed.{field}", stated, ours)
    currency = doc.policy.currency
    if ex.amount_net_of_vat.amount > ex.amount.amount:
        check.rule(
            "example.amount_net_of_vat.amount",
            f"{ex.amount_net_of_vat.amount} is more than the invoice amount {ex.amount.amount}",
        )
    deductible = p.deductible
    calc = calculate(
        ClaimInput(
            currency=currency,
            invoices=[
                InvoiceIn(
                    ex.invoice_number,
                    ex.invoice_date,
                    ex.due_date,
                    ex.amount_net_of_vat.amount,
                    ex.amount.amount - ex.amount_net_of_vat.amount,
                    True,
                )
            ],
            recoveries=[],
            vat_covered=p.vat_covered,
            credit_limit=ex.amount.amount,
            covered_costs=Decimal(0),
            claim_threshold=p.claim_threshold.amount if p.claim_threshold else None,
            indemnity_pct=p.indemnity_pct,
            deductible_mode="after_percentage",
            per_claim_deductible=deductible.amount.amount
            if deductible.type in ("per_claim", "both")
            else Decimal(0),
            afl_remaining_before=deductible.amount.amount
            if deductible.type in ("aggregate_first_loss", "both")
            else Decimal(0),
            max_liability_remaining=ex.amount.amount,
        )
    )
    indicative = ex.indicative_indemnity
    if indicative is not None:
        for name, value, computed in (
            ("insured_loss", indicative.insured_loss, calc.insured_loss),
            (
                "indemnity_before_deductible",
                indicative.indemnity_before_deductible,
                calc.indemnity_before_deductible,
            ),
            ("afl_applied", indicative.afl_applied, calc.deductible_applied),
            ("payable", indicative.payable, calc.payable),
        ):
            if value is not None:
                check.same(f"example.indicative_indemnity.{name}.amount", value.amount, computed)
    points = [
        ("due", ex.due_date),
        ("mep_end", mep_end),
        ("notified", c.notified_on),
        ("notify_by", notify_by),
        ("loss", loss),
        ("payment", pay_by),
    ]
    points.sort(key=lambda kv: kv[1])
    return ExampleFigures(
        mep_end=mep_end,
        stop_deliveries_from=stop_from,
        notify_by=notify_by,
        collection_transfer_by=transfer_by,
        notified_on=c.notified_on,
        date_of_loss=loss,
        documents_complete_on=complete,
        payment_due_by=pay_by,
        insured_loss=calc.insured_loss,
        indemnity_before_deductible=calc.indemnity_before_deductible,
        deductible_applied=calc.deductible_applied,
        payable=calc.payable,
        below_threshold=calc.below_threshold,
        timeline=_timeline(points),
    )


def derive(doc: ClaimFilingGuide) -> GuideFigures:
    """Compute the worked example and check its stated dates and figures."""
    check = Reconciler()
    p = doc.policy_params
    check_min_indemnity(
        doc.document.jurisdiction,
        doc.document.issue_date,
        "policy_params.indemnity_pct",
        p.indemnity_pct,
        check,
    )
    unique(
        check, "documents_required", doc.documents_required, lambda d: d.code, "code", "the code"
    )
    # The guide prints the statutory complaint routes: they must exist.
    require_complaint_routes(doc, check)
    example = _example(doc, doc.example, check) if doc.example else None
    require_complaint_routes(doc, check)  # the guide prints the complaint routes
    check.raise_if_any()
    return GuideFigures(doc.policy.currency, Decimal(1) - p.indemnity_pct, example)


KIND = Kind(
    name="claim_filing_guide",
    model=ClaimFilingGuide,
    derive=derive,
    template="claim_filing_guide.html",
    sample_file="04_claim_filing_guide_en-GB.json",
    group_four_digits=False,  # prose letter: 4860,00 € (RAE, CLDR)
)
