"""Collection case update: what happened on the customer's collection cases since the last
update, and the money we remitted (the charter promises updates during collections and
recovered funds remitted quickly).

The service computes, per case, what was recovered since the last update and in total,
and what is still outstanding; the next update date (at most ``update_frequency_days``
after this one); and, per remittance, the days between recovery and remittance, set
against the promised ``remittance_days`` (business days counted with the jurisdiction's
holidays). A late remittance is printed as late, never hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import Field

from correspondence.calendar import BusinessCalendar, add_calendar_days
from correspondence.checks import Reconciler
from correspondence.kinds import Kind
from correspondence.kinds.common import CollectionService, business_calendar
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
    Text,
)
from correspondence.rules import unique

CaseStatus = Literal[
    "amicable",
    "payment_plan",
    "legal_action",
    "insolvency_proceedings",
    "closed_paid",
    "closed_uncollectable",
]


class Recovery(Model):
    """Money recovered from the buyer on a case."""

    date: Day
    amount: Money
    source: Text


class Action(Model):
    """Something done on the case."""

    date: Day
    text: Text


class NextStep(Model):
    """Something planned on the case."""

    by: Day | None = None
    text: Text


class CollectionCase(Model):
    """One debt placed for collection."""

    case_number: NonEmpty
    buyer: Party
    claim_number: Label | None = None
    covered: bool
    placed_on: Day
    status: CaseStatus
    amount_placed: Money
    recovered_before: Money
    recoveries: list[Recovery] = Field(max_length=LIST_MAX, default_factory=list)
    outstanding: Money | None = None
    actions: list[Action] = Field(max_length=LIST_MAX, default_factory=list)
    next_steps: list[NextStep] = Field(max_length=LIST_MAX, default_factory=list)


class Remittance(Model):
    """Money we transferred to the customer."""

    case_number: NonEmpty
    recovered_on: Day
    remitted_on: Day
    amount: Money
    fee: Money | None = None
    """The collection fee withheld from the money recovered (a debt the policy does not
    cover); the letter shows it wherever what was recovered differs from what was sent."""
    reference: NonEmpty


class CollectionUpdate(Envelope):
    """The ``collection_update`` payload."""

    collections: CollectionService
    collections_contact: Person | None = None
    last_update: Day
    cases: list[CollectionCase] = Field(max_length=LIST_MAX, min_length=1)
    remittances: list[Remittance] = Field(max_length=LIST_MAX, default_factory=list)
    next_update: Day | None = None


@dataclass(frozen=True)
class CaseFigures:
    """One case, computed."""

    recovered_since: Decimal
    recovered_total: Decimal
    outstanding: Decimal


@dataclass(frozen=True)
class RemittanceFigures:
    """One remittance against the promise."""

    days: int
    promised: int
    on_time: bool
    calendar: str = "calendar_days"
    fee: Decimal = Decimal(0)
    recovered: Decimal = Decimal(0)
    """The money recovered that this remittance settles: the amount sent plus the fee."""
    """The calendar the days were counted on (``MX-BANKING``, ``ES-CT``…)."""


@dataclass(frozen=True)
class UpdateFigures:
    """What the update prints that the service computed."""

    currency: str
    cases: tuple[CaseFigures, ...]
    remittances: tuple[RemittanceFigures, ...]
    remitted_total: Decimal
    recovered_since_total: Decimal
    outstanding_total: Decimal
    next_update: dt.date
    all_on_time: bool


def _days_between(start: dt.date, end: dt.date, unit: str, calendar: BusinessCalendar) -> int:
    if unit == "calendar_days":
        return (end - start).days
    return calendar.between(start, end)


def derive(doc: CollectionUpdate) -> UpdateFigures:
    """Compute the cases, the remittance timeliness and the next update date."""
    check = Reconciler()
    currency = doc.policy.currency
    issued = doc.document.issue_date
    if doc.last_update >= issued:
        check.rule("last_update", "must be before this update's issue date")
    cases = []
    numbers = {case.case_number: i for i, case in enumerate(doc.cases)}
    unique(check, "cases", doc.cases, lambda c: c.case_number, "case_number", "the case number")
    unique(
        check, "remittances", doc.remittances, lambda r: r.reference, "reference", "the reference"
    )
    for i, case in enumerate(doc.cases):
        at = f"cases.{i}"
        since = Decimal(0)
        for j, recovery in enumerate(case.recoveries):
            if recovery.date < case.placed_on:
                check.rule(
                    f"{at}.recoveries.{j}.date",
                    f"is before the case was placed for collection ({case.placed_on})",
                )
            if not (doc.last_update < recovery.date <= issued):
                check.rule(
                    f"{at}.recoveries.{j}.date",
                    f"is not between the last update ({doc.last_update}) and {issued}",
                )
            since += recovery.amount.amount
        total = case.recovered_before.amount + since
        outstanding = case.amount_placed.amount - total
        if outstanding < 0:
            check.rule(f"{at}.recoveries", "more was recovered than was placed")
        if case.outstanding is not None:
            check.same(
                f"{at}.outstanding.amount",
                case.outstanding.amount,
                outstanding,
                why="placed − recovered in total",
            )
        cases.append(CaseFigures(since, total, outstanding))
    # Remittances move through banks: Mexican ones count on the banking calendar.
    calendar = business_calendar(doc, banking=True)
    service = doc.collections
    remittances = []
    remitted: dict[int, Decimal] = {}
    for k, remittance in enumerate(doc.remittances):
        at = f"remittances.{k}"
        fee = remittance.fee.amount if remittance.fee else Decimal(0)
        if remittance.case_number not in numbers:
            check.rule(f"{at}.case_number", f"{remittance.case_number} is not among the cases")
        else:
            i = numbers[remittance.case_number]
            remitted[i] = remitted.get(i, Decimal(0)) + remittance.amount.amount + fee
            _check_fee(doc.cases[i], remittance, at, check)
            if remitted[i] > cases[i].recovered_total:
                check.rule(
                    f"{at}.amount",
                    f"remittances on case {remittance.case_number} add up to {remitted[i]}, "
                    f"more than was recovered on it ({cases[i].recovered_total})",
                )
        if remittance.remitted_on < remittance.recovered_on:
            check.rule(f"{at}.remitted_on", "is before the money was recovered")
        if remittance.remitted_on > issued:
            check.rule(f"{at}.remitted_on", "is after this update's issue date")
        days = _days_between(
            remittance.recovered_on,
            remittance.remitted_on,
            service.remittance_days_unit,
            calendar,
        )
        remittances.append(
            RemittanceFigures(
                days,
                service.remittance_days,
                days <= service.remittance_days,
                calendar.name
                if service.remittance_days_unit == "business_days"
                else "calendar_days",
                fee=fee,
                recovered=remittance.amount.amount + fee,
            )
        )
    latest_next = add_calendar_days(issued, service.update_frequency_days)
    next_update = doc.next_update or latest_next
    if next_update > latest_next or next_update <= issued:
        check.rule(
            "next_update",
            f"must fall after {issued} and no later than {latest_next} "
            f"(an update at least every {service.update_frequency_days} days)",
        )
    check.raise_if_any()
    return UpdateFigures(
        currency=currency,
        cases=tuple(cases),
        remittances=tuple(remittances),
        remitted_total=sum((r.amount.amount for r in doc.remittances), Decimal(0)),
        recovered_since_total=sum((c.recovered_since for c in cases), Decimal(0)),
        outstanding_total=sum((c.outstanding for c in cases), Decimal(0)),
        next_update=next_update,
        all_on_time=all(r.on_time for r in remittances),
    )


def _check_fee(case: CollectionCase, remittance: Remittance, at: str, check: Reconciler) -> None:
    """A covered debt is collected at no cost; a remittance of money recovered in this
    update sends what was recovered that day, less the fee it states."""
    fee = remittance.fee.amount if remittance.fee else Decimal(0)
    if case.covered and fee:
        check.rule(f"{at}.fee", "a debt the policy covers is collected at no cost to you")
    that_day = [r.amount.amount for r in case.recoveries if r.date == remittance.recovered_on]
    if that_day:
        recovered = sum(that_day, Decimal(0))
        check.same(
            f"{at}.fee.amount",
            fee,
            recovered - remittance.amount.amount,
            why=f"recovered on {remittance.recovered_on} ({recovered}) − remitted "
            f"({remittance.amount.amount})",
        )


KIND = Kind(
    name="collection_update",
    model=CollectionUpdate,
    derive=derive,
    template="collection_update.html",
    sample_file="07_collection_update_es-MX.json",
)
