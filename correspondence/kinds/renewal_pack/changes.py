"""The changes a renewal announces: each names a schedule parameter by its path, which
gives the code the templates word per locale, and must agree with the schedule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from correspondence.checks import Reconciler
from correspondence.kinds.renewal_pack.model import (
    Dcl,
    RenewalPack,
    Schedule,
)
from correspondence.models import (
    AMOUNT_LIMIT,
    Model,
    Money,
)

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


def changes(doc: RenewalPack, check: Reconciler) -> tuple[ChangeRow, ...]:
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
