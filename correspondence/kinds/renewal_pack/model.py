"""The renewal pack's payload model: the renewal, the renewed schedule and the terms
summary's own content (the invoice's fields are the premium invoice's)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from correspondence.kinds.common import CollectionService
from correspondence.kinds.premium_invoice import (
    InvoiceFields,
)
from correspondence.models import (
    LIST_MAX,
    Count,
    CountryCode,
    Day,
    DecimalStr,
    Envelope,
    Model,
    Money,
    NonEmpty,
    Party,
    Period,
    PlainText,
    Rate,
    Text,
)

Enclosure = Literal[
    "cover_letter",
    "policy_schedule",
    "premium_invoice",
    "terms_summary",
    "endorsement",
    "buyer_limit_list",
]


class Change(Model):
    """One changed parameter: previous → new, and why. ``key`` names the parameter in the
    schedule (one of :data:`CHANGE_CODES`); the templates word it per locale."""

    key: NonEmpty
    previous: Money | DecimalStr | Count | PlainText
    new: Money | DecimalStr | Count | PlainText
    reason: Text | None = None


class Renewal(Model):
    """The renewal itself."""

    previous_period: Period
    new_period: Period
    basis: Literal["tacit", "acceptance_required"]
    acceptance_deadline: Day | None = None
    policyholder_objection_deadline: Day | None = None
    send_by_date: Day | None = None
    changes: list[Change] = Field(max_length=LIST_MAX, default_factory=list)
    enclosures: list[Enclosure] = Field(max_length=LIST_MAX, min_length=1)


class CountryTerms(Model):
    """Cover conditions per buyer country."""

    country: CountryCode
    max_credit_period_days: int = Field(ge=1, le=720)
    dcl_allowed: bool
    conditions: Text | None = None


class Instalment(Model):
    """One premium instalment."""

    number: int = Field(ge=1, le=LIST_MAX)
    period_start: Day
    period_end: Day
    due_date: Day
    amount: Money


class TurnoverDeclaration(Model):
    """When insured turnover is declared."""

    frequency: Literal["annual", "quarterly", "monthly"]
    due_days_after_period: int = Field(ge=0, le=365)


class Premium(Model):
    """Premium basis, rate and instalments."""

    basis: Literal["insured_turnover", "outstanding_balance", "approved_limits"]
    rate: Rate
    estimated_insured_turnover: Money
    minimum_premium: Money
    deposit_premium: Money | None = None
    instalments: list[Instalment] = Field(max_length=LIST_MAX, min_length=1)
    turnover_declaration: TurnoverDeclaration
    payment_method: Literal["transfer", "direct_debit"]
    ips_rate: Rate | None = None


class IndemnityPct(Model):
    """Indemnity percentages."""

    approved_limit: Rate
    discretionary_limit: Rate
    political: Rate | None = None


class MaxLiability(Model):
    """The annual cap on indemnities."""

    type: Literal["fixed", "multiple_of_premium"]
    amount: Money | None = None
    multiple: DecimalStr | None = None

    @model_validator(mode="after")
    def _one_figure(self) -> MaxLiability:
        needed, other = ("amount", "multiple") if self.type == "fixed" else ("multiple", "amount")
        if getattr(self, needed) is None:
            raise ValueError(f"a {self.type} maximum liability needs its {needed}")
        if getattr(self, other) is not None:
            raise ValueError(f"a {self.type} maximum liability states no {other}")
        if self.multiple is not None and self.multiple <= 0:
            raise ValueError("the multiple must be greater than zero")
        return self


class ScheduleDeductible(Model):
    """The deductible."""

    type: Literal["none", "per_claim", "aggregate_first_loss"]
    amount: Money


class ScheduleWaitingPeriod(Model):
    """Waiting period in protracted default."""

    value: int = Field(ge=0, le=720)
    unit: Literal["days", "months"]
    start: Literal["overdue_notification", "claim_submission"] = Field(alias="from")


class Dcl(Model):
    """A discretionary credit limit rule."""

    basis: Literal["payment_experience", "credit_report"]
    max_amount: Money
    conditions: Text


class Cover(Model):
    """Cover parameters."""

    indemnity_pct: IndemnityPct
    max_liability: MaxLiability
    deductible: ScheduleDeductible
    claim_threshold: Money | None = None
    max_extension_period_days: int = Field(ge=0, le=720)
    overdue_notification_days_after_mep: int = Field(ge=0, le=365)
    collection_transfer_days_after_mep: int | None = Field(default=None, ge=0, le=365)
    waiting_period: ScheduleWaitingPeriod
    dcl: list[Dcl] = Field(max_length=LIST_MAX, default_factory=list)
    vat_covered: bool = False


class Fee(Model):
    """A fee of the policy."""

    code: Literal["credit_assessment", "monitoring", "collection_uninsured", "policy_fee"]
    amount: Money | None = None
    percent: Rate | None = None
    unit: Literal[
        "per_request", "per_buyer_per_quarter", "per_buyer_per_year", "of_amount_recovered"
    ]
    billing: Literal["monthly", "quarterly", "annually", "per_case", "per_request"]

    @model_validator(mode="after")
    def _amount_or_percent(self) -> Fee:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("a fee states either an amount or a percent, not both or neither")
        return self


class Schedule(Model):
    """The renewed policy schedule (condiciones particulares / carátula)."""

    insured_entities: list[Party] = Field(max_length=LIST_MAX, min_length=1)
    insured_business: Text
    countries: list[CountryTerms] = Field(max_length=LIST_MAX, min_length=1)
    premium: Premium
    cover: Cover
    fees: list[Fee] = Field(max_length=LIST_MAX, default_factory=list)
    collections: CollectionService
    governing_law: Text
    jurisdiction_clause: Text
    special_conditions: list[Text] = Field(max_length=LIST_MAX, default_factory=list)


class Obligation(Model):
    """Something the policyholder must do, and by when."""

    text: Text
    deadline_rule: Text


class TermsSummary(Model):
    """The plain-language summary's own content."""

    exclusions: list[Text] = Field(max_length=LIST_MAX, min_length=1)
    obligations: list[Obligation] = Field(max_length=LIST_MAX, min_length=1)


class RenewalPack(Envelope):
    """The ``renewal_pack`` payload."""

    renewal: Renewal
    schedule: Schedule
    premium_invoice: InvoiceFields
    terms_summary: TermsSummary
