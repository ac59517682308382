"""Models and rules shared by the letters: reasons, buyers and their ratings, the appeal
block and the statutory complaint routes (brief §2.7, §3.c, §3.e)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field, HttpUrl

from correspondence.calendar import add_business_days, add_calendar_days
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

APPEAL_MIN_DAYS = 30  # [ASSUMPTION] brief §2.7: the appeal deadline is issue date + 30 days

# holidays-package subdivisions for the regions an insurer's address may name (brief §2.4:
# Spain needs one). Mexico's business days are federal.
ES_SUBDIVISIONS = {
    "andalucía": "AN",
    "aragón": "AR",
    "asturias": "AS",
    "illes balears": "IB",
    "baleares": "IB",
    "canarias": "CN",
    "cantabria": "CB",
    "castilla y león": "CL",
    "castilla-la mancha": "CM",
    "cataluña": "CT",
    "catalunya": "CT",
    "barcelona": "CT",
    "extremadura": "EX",
    "galicia": "GA",
    "madrid": "MD",
    "murcia": "MC",
    "navarra": "NC",
    "país vasco": "PV",
    "euskadi": "PV",
    "la rioja": "RI",
    "valencia": "VC",
    "comunitat valenciana": "VC",
    "comunidad valenciana": "VC",
    "sevilla": "AN",
    "ceuta": "CE",
    "melilla": "ML",
}


def business_calendar(doc: Envelope) -> tuple[str, str | None]:
    """Country and subdivision whose holidays count for deadlines the insurer keeps."""
    jurisdiction = doc.document.jurisdiction
    if jurisdiction == "ES":
        return "ES", ES_SUBDIVISIONS.get(doc.insurer.address.region.strip().lower())
    return jurisdiction, None


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
        country, subdivision = business_calendar(doc)
        answer = add_business_days(
            deadline, appeal.response_target_days, country=country, subdivision=subdivision
        )
    else:
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
