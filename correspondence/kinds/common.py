"""Models and rules shared by the letters: reasons, buyers and their ratings, the appeal
block and the statutory complaint routes (brief §2.7, §3.c, §3.e)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field, HttpUrl

from correspondence.calendar import BusinessCalendar, add_calendar_days
from correspondence.checks import Reconciler
from correspondence.models import (
    LIST_MAX,
    Address,
    CountryCode,
    Day,
    Envelope,
    Model,
    NonEmpty,
    Party,
    Text,
)
from correspondence.regions import es_subdivision


def mask_account(value: str) -> str:
    """An account number as printed for the customer's own account (a debit, a refund, an
    indemnity): the country and check digits of an IBAN and the last four characters,
    the rest masked, in groups of four. ``ES7899990001410123456789`` →
    ``ES78 **** **** **** **** 6789``; a CLABE keeps only its last four digits."""
    compact = value.replace(" ", "").upper()
    keep_head = 4 if compact[:2].isalpha() else 0
    masked = compact[:keep_head] + "*" * (len(compact) - keep_head - 4) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


APPEAL_MIN_DAYS = 30  # [ASSUMPTION] brief §2.7: the appeal deadline is issue date + 30 days


def business_calendar(doc: Envelope, *, banking: bool = False) -> BusinessCalendar:
    """The calendar of business days the insurer keeps for this document's deadlines.

    Spain: national plus the holidays of the autonomous community of the insurer's address
    (a province counts with its community; an unknown region was refused by
    :func:`correspondence.rules.check_parties`). Mexico: the LFT art. 74 rest days, or the
    banking calendar (``banking=True``) for counts of days in which money moves.
    """
    jurisdiction = doc.document.jurisdiction
    if jurisdiction == "ES":
        return BusinessCalendar("ES", es_subdivision(doc.insurer.address.region))
    return BusinessCalendar(jurisdiction, None, banking=banking)


class CollectionService(Model):
    """Who collects, and what we promise during collections [CHARTER]."""

    provider: Party
    update_frequency_days: int = Field(ge=1, le=365)
    remittance_days: int = Field(ge=1, le=365)
    remittance_days_unit: Literal["business_days", "calendar_days"] = "business_days"


class Reason(Model):
    """One plain-language reason, with a machine code."""

    code: NonEmpty
    text: Text


class RatingScale(Model):
    """The ends of a rating scale, printed "de 0 a 10" / "from 0 to 10"."""

    lowest: NonEmpty
    highest: NonEmpty


class Rating(Model):
    """The insurer's grade of a buyer; printed only when ``shareable``."""

    value: NonEmpty
    scale: RatingScale
    higher_is_better: bool
    label: Text
    as_of: Day
    shareable: bool


class Buyer(Party):
    """The policyholder's customer on whom the limit is set."""

    insurer_buyer_id: NonEmpty
    country: CountryCode
    rating: Rating | None = None


class AppealChannel(Model):
    """Where an appeal goes."""

    email: NonEmpty
    portal_url: HttpUrl | None = None
    postal: Address | None = None


class Appeal(Model):
    """The internal review a customer can ask for [CHARTER]."""

    deadline_date: Day | None = None
    channel: AppealChannel
    include: list[Text] = Field(max_length=LIST_MAX, min_length=1)
    decided_by: Text
    response_target_days: int = Field(ge=1, le=90)
    response_target_unit: Literal["business_days", "calendar_days"]
    suspends_effect: bool = False


@dataclass(frozen=True)
class AppealFigures:
    """The appeal's computed dates."""

    deadline: date
    answer_by_if_sent_on_deadline: date
    calendar: str = "calendar_days"
    """The calendar the answer date was counted on (``ES-MD``, ``MX-LFT74``…)."""


def appeal_figures(doc: Envelope, appeal: Appeal, check: Reconciler) -> AppealFigures:
    """The deadline (stated, or issue date + 30 days) and the latest answer date.

    A stated deadline may be later than the default, never earlier. The answer date counts
    business days with the jurisdiction's holidays when the target is in business days.
    """
    issued = doc.document.issue_date
    minimum = add_calendar_days(issued, APPEAL_MIN_DAYS)
    deadline = appeal.deadline_date or minimum
    if deadline < minimum:
        check.rule(
            "appeal.deadline_date",
            f"{deadline} leaves less than {APPEAL_MIN_DAYS} days "
            f"after the issue date; the earliest is {minimum}",
        )
    if appeal.response_target_unit == "business_days":
        calendar = business_calendar(doc)
        answer = calendar.add(deadline, appeal.response_target_days)
        return AppealFigures(deadline, answer, calendar.name)
    answer = add_calendar_days(deadline, appeal.response_target_days)
    return AppealFigures(deadline=deadline, answer_by_if_sent_on_deadline=answer)


def require_complaint_routes(doc: Envelope, check: Reconciler) -> None:
    """The statutory routes the letter prints must exist for the jurisdiction."""
    routes = doc.insurer.complaints
    if doc.document.jurisdiction == "ES" and routes.sac is None:
        check.rule("insurer.complaints.sac", "Spanish letters print the SAC, then the DGSFP")
    if doc.document.jurisdiction == "MX" and routes.une is None:
        check.rule("insurer.complaints.une", "Mexican letters print the UNE, then CONDUSEF")


def check_buyer(buyer: Buyer, at: str, check: Reconciler) -> None:
    """The buyer's country is the country of its address."""
    if buyer.country != buyer.address.country:
        check.rule(
            f"{at}.country", f"is {buyer.country} but the address is in {buyer.address.country}"
        )
