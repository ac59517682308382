"""Renewal pack (brief §3.a): cover letter, renewed schedule, premium invoice, terms summary
and our service commitments, in one PDF.

Rules: the new period follows the previous one without a gap and the instalments cover it;
every announced change matches the schedule; the schedule, the invoice and the terms agree;
the pack is due two months before the current period ends, and a late pack still renders
with a warning while the customer keeps the time the law gives to object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from correspondence import legal
from correspondence.calendar import add_calendar_days, add_months
from correspondence.checks import Reconciler
from correspondence.errors import InvalidPayload, Problem
from correspondence.kinds import Kind, NumberRequest
from correspondence.kinds import premium_invoice as invoice_kind
from correspondence.kinds.common import CollectionService, require_complaint_routes
from correspondence.kinds.premium_invoice import (
    PREMIUM_KINDS,
    InvoiceFields,
    InvoiceFigures,
    PremiumInvoice,
)
from correspondence.models import (
    AMOUNT_LIMIT,
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
from correspondence.rules import (
    check_min_indemnity,
    check_mx_due_at_start,
    check_mx_instalment_length,
    unique,
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


ChangeCode = Literal[
    "premium_rate",
    "minimum_premium",
    "deposit_premium",
    "estimated_insured_turnover",
    "ips_rate",
    "declaration_days",
    "indemnity_approved",
    "indemnity_discretionary",
    "indemnity_political",
    "max_liability",
    "max_liability_multiple",
    "deductible",
    "claim_threshold",
    "max_extension_period",
    "overdue_notification_days",
    "collection_transfer_days",
    "waiting_period",
    "dcl_max_amount",
    "country_max_credit_period",
    "fee_amount",
    "fee_percent",
]

CHANGE_CODES: dict[str, ChangeCode] = {
    "premium.rate": "premium_rate",
    "premium.minimum_premium": "minimum_premium",
    "premium.deposit_premium": "deposit_premium",
    "premium.estimated_insured_turnover": "estimated_insured_turnover",
    "premium.ips_rate": "ips_rate",
    "premium.turnover_declaration.due_days_after_period": "declaration_days",
    "cover.indemnity_pct.approved_limit": "indemnity_approved",
    "cover.indemnity_pct.discretionary_limit": "indemnity_discretionary",
    "cover.indemnity_pct.political": "indemnity_political",
    "cover.max_liability.amount": "max_liability",
    "cover.max_liability.multiple": "max_liability_multiple",
    "cover.deductible.amount": "deductible",
    "cover.claim_threshold": "claim_threshold",
    "cover.max_extension_period_days": "max_extension_period",
    "cover.overdue_notification_days_after_mep": "overdue_notification_days",
    "cover.collection_transfer_days_after_mep": "collection_transfer_days",
    "cover.waiting_period.value": "waiting_period",
    "cover.dcl.*": "dcl_max_amount",
    "cover.dcl.*.max_amount": "dcl_max_amount",
    "countries.*.max_credit_period_days": "country_max_credit_period",
    "fees.*.amount": "fee_amount",
    "fees.*.percent": "fee_percent",
}
"""The parameters a renewal may announce as changed, by schedule path (``*``: the DCL
basis, the country or the fee code), with the code the templates word in each locale.
The change table's labels are never payload text (issue 18)."""


def change_code(key: str) -> tuple[ChangeCode, str | None] | None:
    """The code of the parameter ``key`` names and its subject (the ``*`` part)."""
    parts = key.split(".")
    for pattern, code in CHANGE_CODES.items():
        shape = pattern.split(".")
        if len(shape) == len(parts) and all(
            s in ("*", p) for s, p in zip(shape, parts, strict=True)
        ):
            subject = next((p for s, p in zip(shape, parts, strict=True) if s == "*"), None)
            return code, subject
    return None


@dataclass(frozen=True)
class ChangeRow:
    """One line of the changes table, typed for formatting: the template words ``code``
    (with ``subject``: a DCL basis, a country or a fee code) in the document's locale."""

    code: ChangeCode
    subject: str | None
    kind: Literal["money", "rate", "number", "text"]
    previous: Any
    new: Any
    reason: str | None


@dataclass(frozen=True)
class PackFigures:
    """What the pack prints that the service computed."""

    currency: str
    invoice_doc: PremiumInvoice
    invoice: InvoiceFigures
    components: tuple[str, ...]
    changes: tuple[ChangeRow, ...]
    send_by_date: dt.date
    late: bool
    objection_deadline: dt.date | None
    previous_declaration_due: dt.date
    declaration_due: dt.date
    warnings: tuple[str, ...]


#: Component order in the pack; the service commitments page always closes it.
COMPONENT_ORDER = ("cover_letter", "policy_schedule", "premium_invoice", "terms_summary")


def invoice_document(doc: RenewalPack) -> PremiumInvoice:
    """The pack's invoice as a premium_invoice document sharing the pack's envelope."""
    envelope = {
        "document": doc.document.model_copy(update={"type": "premium_invoice"}),
        "insurer": doc.insurer,
        "policyholder": doc.policyholder,
        "account_executive": doc.account_executive,
        "policy": doc.policy,
        "broker": doc.broker,
    }
    section = {
        name: getattr(doc.premium_invoice, name) for name in doc.premium_invoice.model_fields_set
    }
    return PremiumInvoice.model_validate({**envelope, **section})


def _schedule_value(schedule: Schedule, key: str) -> tuple[Any, str] | None:
    """Resolve a change key such as ``cover.dcl.payment_experience`` in the schedule."""
    node: Any = schedule
    for part in key.split("."):
        if isinstance(node, list):
            matches = [
                item
                for item in node
                if part
                in (
                    getattr(item, "basis", None),
                    getattr(item, "code", None),
                    getattr(item, "country", None),
                )
            ]
            if len(matches) != 1:
                return None
            node = matches[0]
        elif isinstance(node, Model) and part in type(node).model_fields:
            node = getattr(node, part)
        else:
            return None
    if isinstance(node, Dcl):
        node = node.max_amount
    if isinstance(node, Money):
        return node, "money"
    if isinstance(node, bool):
        return node, "text"
    if isinstance(node, int):
        return node, "number"
    if isinstance(node, Decimal):
        return node, "rate"
    return (node, "text") if isinstance(node, str) else None


def _same_value(stated: Any, value: Any, kind: str) -> bool:
    if kind == "money":
        return isinstance(stated, Money) and (stated.amount, stated.currency) == (
            value.amount,
            value.currency,
        )
    if kind in ("rate", "number"):
        try:
            return Decimal(str(stated)) == Decimal(value)
        except ArithmeticError:
            return False
    return str(stated) == str(value)


_KIND_NAMES = {"money": "an amount", "rate": "a number", "number": "a number", "text": "a text"}


def _as_kind(stated: Any, kind: str) -> Any:
    """``stated`` as the kind of value the schedule holds, or None if it cannot be."""
    if kind == "money":
        return stated if isinstance(stated, Money) else None
    if kind in ("rate", "number"):
        if isinstance(stated, Money):
            return None
        try:
            number = Decimal(str(stated).strip())
        except ArithmeticError:
            return None
        exponent = number.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -8 or abs(number) >= AMOUNT_LIMIT:
            return None  # infinite, not a number, or beyond what a schedule holds
        return number
    return stated


def _changes(doc: RenewalPack, check: Reconciler) -> tuple[ChangeRow, ...]:
    rows = []
    for i, change in enumerate(doc.renewal.changes):
        coded = change_code(change.key)
        if coded is None:
            check.rule(
                f"renewal.changes.{i}.key",
                f"{change.key!r} is no parameter a renewal announces; "
                f"expected one of {', '.join(CHANGE_CODES)}",
            )
            continue
        resolved = _schedule_value(doc.schedule, change.key)
        if resolved is None:
            check.rule(f"renewal.changes.{i}.key", f"{change.key!r} names nothing in the schedule")
            continue
        value, kind = resolved
        if not _same_value(change.new, value, kind):
            shown = f"{value.amount} {value.currency}" if kind == "money" else str(value)
            check.rule(
                f"renewal.changes.{i}.new",
                f"announces {change.new} but schedule.{change.key} is {shown}",
            )
        if _same_value(change.previous, value, kind) and _same_value(
            change.new, change.previous, kind
        ):
            check.rule(f"renewal.changes.{i}", "previous and new are the same: not a change")
        previous = _as_kind(change.previous, kind)
        if previous is None:
            check.rule(
                f"renewal.changes.{i}.previous",
                f"{change.previous!r} is not {_KIND_NAMES[kind]}, as schedule.{change.key} is",
            )
            continue
        code, subject = coded
        rows.append(ChangeRow(code, subject, kind, previous, value, change.reason))  # type: ignore[arg-type]
    return tuple(rows)


def _periods(doc: RenewalPack, check: Reconciler) -> None:
    r = doc.renewal
    check.same(
        "renewal.new_period.start",
        r.new_period.start,
        r.previous_period.end + dt.timedelta(days=1),
        why="the day after the previous period",
    )
    check.same("policy.period.start", doc.policy.period.start, r.new_period.start)
    check.same("policy.period.end", doc.policy.period.end, r.new_period.end)
    given = doc.schedule.premium.instalments
    unique(check, "schedule.premium.instalments", given, lambda x: x.number, "number", "the number")
    order = sorted(range(len(given)), key=lambda k: given[k].number)
    instalments = [given[k] for k in order]
    expected_start = r.new_period.start
    total = Decimal(0)
    mx = doc.document.jurisdiction == "MX"
    for k, inst in zip(order, instalments, strict=True):
        at = f"schedule.premium.instalments.{k}"
        if inst.period_start != expected_start:
            check.rule(
                f"{at}.period_start",
                f"is {inst.period_start}; instalments must cover the period without gaps "
                f"(expected {expected_start})",
            )
        if inst.period_end < inst.period_start:
            check.rule(f"{at}.period_end", "ends before it starts")
        if mx:  # the same rules as on the invoice (LSCS arts. 37-38)
            check_mx_due_at_start(f"{at}.due_date", inst.period_start, inst.due_date, check)
            check_mx_instalment_length(
                f"{at}.period_end",
                inst.period_start,
                inst.period_end,
                doc.document.issue_date,
                check,
            )
        expected_start = inst.period_end + dt.timedelta(days=1)
        total += inst.amount.amount
    if instalments[-1].period_end != r.new_period.end:
        check.rule(
            "schedule.premium.instalments",
            f"end on {instalments[-1].period_end}, not on {r.new_period.end}",
        )
    premium = doc.schedule.premium
    charged = premium.deposit_premium or premium.minimum_premium
    name = "deposit_premium" if premium.deposit_premium else "minimum_premium"
    check.same(
        "schedule.premium.instalments",
        total,
        charged.amount,
        why=f"the instalments add up to the {name.replace('_', ' ')}",
    )


def _invoice_agrees(doc: RenewalPack, fig: InvoiceFigures, check: Reconciler) -> None:
    first = min(doc.schedule.premium.instalments, key=lambda x: x.number)
    inv = doc.premium_invoice.invoice
    check.same(
        "premium_invoice.invoice.period.start",
        inv.period.start,
        first.period_start,
        why="schedule instalment 1",
    )
    check.same(
        "premium_invoice.invoice.period.end",
        inv.period.end,
        first.period_end,
        why="schedule instalment 1",
    )
    check.same(
        "premium_invoice.invoice.due_date",
        fig.due_date,
        first.due_date,
        why="schedule instalment 1",
    )
    # The instalment states the premium; a surcharge or a policy fee on the same invoice
    # is not part of it, so the premium lines are compared, not the whole net.
    check.same(
        "premium_invoice.lines",
        fig.premium_net,
        first.amount.amount,
        why="the invoice's premium lines against schedule instalment 1",
    )
    check.same(
        "premium_invoice.payment.method",
        doc.premium_invoice.payment.method,
        doc.schedule.premium.payment_method,
        why="schedule.premium.payment_method",
    )
    ips = doc.schedule.premium.ips_rate
    for tax in fig.taxes:
        if tax.type == "IPS" and ips is not None:
            check.same("schedule.premium.ips_rate", ips, tax.rate, why="the invoice's IPS")


def derive(doc: RenewalPack) -> PackFigures:
    """Check the pack's consistency and compute its dates and warnings."""
    check = Reconciler()
    r = doc.renewal
    on = doc.document.issue_date
    jurisdiction = doc.document.jurisdiction
    _periods(doc, check)
    changes = _changes(doc, check)
    _schedule_rules(doc, check)
    invoice_doc = invoice_document(doc)
    invoice: InvoiceFigures | None = None
    try:
        invoice = invoice_kind.derive(invoice_doc)
    except InvalidPayload as error:  # reported with the pack's own problems, all at once
        check.problems.extend(
            Problem(_invoice_path(p.field), p.message, p.error) for p in error.problems
        )
    if invoice is not None:
        _invoice_agrees(doc, invoice, check)
    send_by = send_by_date(r.previous_period.end, jurisdiction, on)
    check.same(
        "renewal.send_by_date",
        r.send_by_date,
        send_by,
        why="two months before the current period ends",
    )
    late = doc.document.issue_date > send_by
    warnings: list[str] = []
    if late:
        warnings.append(
            f"issued on {doc.document.issue_date}, after the send-by date {send_by}: "
            "the customer keeps the full time to object"
        )
    objection: dt.date | None = None
    if doc.document.jurisdiction == "ES" and r.basis == "tacit":
        objection_months = legal.months("renewal.policyholder_objection", "ES", on)
        default = add_months(r.previous_period.end, -objection_months)
        objection = (
            max(default, add_months(doc.document.issue_date, objection_months)) if late else default
        )
        stated = r.policyholder_objection_deadline
        if stated is not None and stated < objection:
            warnings.append(
                f"objection deadline moved from {stated} to {objection}: "
                "the customer keeps a full month from the issue date"
            )
    if r.basis == "acceptance_required" and r.acceptance_deadline is None:
        check.rule(
            "renewal.acceptance_deadline", "a renewal that needs acceptance needs a deadline"
        )
    require_complaint_routes(doc, check)  # the cover letter prints the complaint routes
    for required in ("cover_letter", "policy_schedule", "premium_invoice", "terms_summary"):
        if required not in r.enclosures:
            check.rule("renewal.enclosures", f"a renewal pack always encloses the {required}")
    declaration = doc.schedule.premium.turnover_declaration
    check.raise_if_any()
    assert invoice is not None  # its problems were raised above
    return PackFigures(
        currency=doc.policy.currency,
        invoice_doc=invoice_doc,
        invoice=invoice,
        components=(*(c for c in COMPONENT_ORDER if c in r.enclosures), "commitments"),
        changes=changes,
        send_by_date=send_by,
        late=late,
        objection_deadline=objection,
        previous_declaration_due=add_calendar_days(
            r.previous_period.end, declaration.due_days_after_period
        ),
        declaration_due=add_calendar_days(r.new_period.end, declaration.due_days_after_period),
        warnings=tuple(warnings),
    )


def send_by_date(period_end: dt.date, jurisdiction: str, on: dt.date) -> dt.date:
    """The last day to send the pack: the statutory notice (LCS art. 22.3: two months)
    counted back from the last day of the period, date to date, clamped to the end of a
    shorter month. A period ending 29 February 2028 gives 29 December 2027, never the
    31st (docs/rules/renewal_pack.md)."""
    return add_months(period_end, -legal.months("renewal.modification_notice", jurisdiction, on))


def _schedule_rules(doc: RenewalPack, check: Reconciler) -> None:
    """Identities in the schedule, the statutory minimum indemnity on every percentage it
    states, the complaint routes the terms summary prints, and a premium invoice."""
    schedule = doc.schedule
    unique(
        check,
        "schedule.countries",
        schedule.countries,
        lambda c: c.country,
        "country",
        "the country",
    )
    unique(check, "renewal.changes", doc.renewal.changes, lambda c: c.key, "key", "the key")
    unique(check, "schedule.cover.dcl", schedule.cover.dcl, lambda d: d.basis, "basis", "the basis")
    unique(
        check,
        "schedule.fees",
        schedule.fees,
        lambda f: (f.code, f.unit),
        "code",
        "the code and unit",
    )
    pct = schedule.cover.indemnity_pct
    for name in ("approved_limit", "discretionary_limit", "political"):
        check_min_indemnity(
            doc.document.jurisdiction,
            doc.document.issue_date,
            f"schedule.cover.indemnity_pct.{name}",
            getattr(pct, name),
            check,
        )
    require_complaint_routes(doc, check)
    kind = doc.premium_invoice.invoice.kind
    if kind not in PREMIUM_KINDS:
        check.rule(
            "premium_invoice.invoice.kind",
            f"a renewal pack encloses the invoice of its first instalment, not a {kind}",
        )


def _invoice_path(field: str) -> str:
    head = field.split(".", 1)[0]
    if head in InvoiceFields.model_fields:
        return f"premium_invoice.{field}"
    return field


def numbering(doc: RenewalPack) -> NumberRequest:
    """The pack's invoice is numbered like any invoice."""
    inv = doc.premium_invoice.invoice
    return NumberRequest(
        series=inv.series,
        year=inv.issue_date.year,
        stated=inv.number,
        field="premium_invoice.invoice.number",
    )


def with_number(payload: dict[str, Any], number: str) -> dict[str, Any]:
    """``payload`` with the invoice's number set."""
    section = payload["premium_invoice"]
    return {
        **payload,
        "premium_invoice": {**section, "invoice": {**section["invoice"], "number": number}},
    }


KIND = Kind(
    name="renewal_pack",
    model=RenewalPack,
    derive=derive,
    template="renewal_pack.html",
    sample_file="01_renewal_pack_es-ES.json",
    numbering=numbering,
    with_number=with_number,
)
