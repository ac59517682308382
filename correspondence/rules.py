"""Domain rules that hold on every input of every kind (issue 20).

One rule per class of defect, applied to the whole validated payload before a kind
computes anything, so no kind can forget one:

* **amounts** — every :class:`~correspondence.models.Money` in the payload is found by
  walking the model. Each is in the document's currency (``policy.currency``): no payload
  field gives a rate to convert one, so another currency is refused, never read as the
  policy's; and none is negative unless its kind declares that path signed (a deduction
  line of a calculation table);
* **parties** — a tax ID of a party whose address is in Spain is a valid NIF/CIF/NIE, in
  Mexico a valid RFC with its check digit (``python-stdnum``);
* **regions** — a Spanish address names a region the holiday calendars know
  (:mod:`correspondence.regions`): an unknown one is refused, never counted with national
  holidays only.

Helpers shared by several kinds live here too: duplicate identities, the statutory minimum
indemnity, and the Mexican instalment rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from stdnum.es import nif
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import rfc

from correspondence import legal
from correspondence.calendar import add_months
from correspondence.checks import Reconciler
from correspondence.free_text import fields_of
from correspondence.models import Address, Envelope, Money, Party
from correspondence.regions import es_subdivision

T = TypeVar("T")


Found = tuple[str, BaseModel]
"""A model met in a payload, and its dotted field path."""


def _models(value: BaseModel | list[Any] | tuple[Any, ...], path: str, found: list[Found]) -> None:
    if isinstance(value, BaseModel):
        found.append((path, value))
        prefix = f"{path}." if path else ""
        for _, name in fields_of(type(value)):
            child = getattr(value, name)
            if isinstance(child, BaseModel | list | tuple):
                _models(child, prefix + name, found)
    else:
        for i, item in enumerate(value):
            if isinstance(item, BaseModel | list | tuple):
                _models(item, f"{path}.{i}", found)


def models(model: BaseModel) -> list[Found]:
    """Every model in ``model``, itself first (path ``""``), with its dotted field path
    (list indexes as numbers), in the payload's order. Only models are visited and named:
    the rules read amounts, parties and addresses, never a field's plain value, and the
    pipeline's mix holds about 200 values a document, 41 of them models. As before, a
    model inside a ``dict`` is not reached (no payload field holds one)."""
    found: list[Found] = []
    _models(model, "", found)
    return found


def _pattern(paths: Iterable[str]) -> re.Pattern[str] | None:
    parts = [re.escape(p).replace(r"\*", r"\d+") for p in paths]
    return re.compile("^(?:" + "|".join(parts) + ")$") if parts else None


def check_amounts(doc: Envelope, check: Reconciler, *, signed: Iterable[str] = ()) -> None:
    """Sign and currency of every amount in ``doc``.

    ``signed`` lists the paths that may be negative (``*`` for a list index). No payload
    field gives a rate to convert an amount, so every amount is in the policy's currency.
    """
    _amounts(doc, models(doc), check, signed)


def _amounts(doc: Envelope, found: list[Found], check: Reconciler, signed: Iterable[str]) -> None:
    currency = doc.policy.currency
    may_be_negative = _pattern(signed)
    for path, value in found:
        if not isinstance(value, Money) or not path:
            continue
        if value.currency != currency:
            check.rule(
                f"{path}.currency",
                f"is in {value.currency}; the policy is in {currency}, and so is every "
                "amount of the document (no payload field gives a rate to convert it)",
            )
        if value.amount < 0 and not (may_be_negative and may_be_negative.match(path)):
            check.rule(f"{path}.amount", f"must not be negative ({value.amount})")


MX_GENERIC_RFCS = frozenset({"XAXX010101000", "XEXX010101000"})
"""SAT's generic RFCs (público en general; foreign residents): valid in a CFDI although
they fail the check digit."""


def tax_id_problem(tax_id: str, country: str) -> str | None:
    """Why ``tax_id`` is not a valid tax ID of ``country`` (ES NIF/CIF/NIE, MX RFC)."""
    if country == "MX" and tax_id.upper() in MX_GENERIC_RFCS:
        return None
    try:
        if country == "ES":
            nif.validate(tax_id)
        elif country == "MX":
            rfc.validate(tax_id, validate_check_digits=True)
    except StdnumError as error:
        kind = "NIF/CIF" if country == "ES" else "RFC"
        return f"{tax_id!r} is not a valid {kind}: {error}"
    return None


def check_parties(doc: BaseModel, check: Reconciler) -> None:
    """Tax IDs of Spanish and Mexican parties, and the region of every Spanish address."""
    _parties(models(doc), check)


def _parties(found: list[Found], check: Reconciler) -> None:
    for path, value in found:
        if isinstance(value, Party):
            why = tax_id_problem(value.tax_id, value.address.country)
            if why:
                check.rule(f"{path}.tax_id", why)
        if not isinstance(value, Address) or value.country != "ES":
            continue
        if es_subdivision(value.region) is None:
            check.rule(
                f"{path}.region",
                f"{value.region!r} is not a Spanish autonomous community or province "
                "(use its name or its ISO 3166-2 code, such as ES-MD or ES-B)",
            )


def check_every_input(doc: Envelope, check: Reconciler, *, signed: Iterable[str] = ()) -> None:
    """The rules of this module that hold on every kind (the payload walked once)."""
    found = models(doc)
    _amounts(doc, found, check, signed)
    _parties(found, check)


# --- helpers for the kinds ----------------------------------------------------------------


def unique(
    check: Reconciler,
    at: str,
    items: Sequence[T],
    key: Callable[[T], Hashable],
    field: str,
    what: str,
) -> None:
    """Refuse a list where two items share an identity: ``at.<i>.<field>`` names the
    later one and the earlier index."""
    seen: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        identity = key(item)
        if identity in seen:
            check.rule(
                f"{at}.{i}.{field}",
                f"repeats {what} of {at}.{seen[identity]}: each must be unique",
            )
        else:
            seen[identity] = i


def check_min_indemnity(
    jurisdiction: str, on: date, field: str, pct: Decimal | None, check: Reconciler
) -> None:
    """A stated indemnity percentage is not below the statutory minimum (ES LCS art. 71)."""
    minimum = legal.minimum_indemnity(jurisdiction, on)
    if pct is None:
        return
    if pct <= 0 or pct > 1:
        check.rule(field, f"must be above 0 and at most 1 ({pct})")
    elif minimum is not None and pct < minimum:
        source = legal.rule("claim.minimum_indemnity_pct", jurisdiction, on).source
        check.rule(field, f"{pct} is below the statutory minimum of {minimum} ({source})")


def check_mx_due_at_start(at: str, start: date, due: date, check: Reconciler) -> None:
    """A Mexican premium instalment falls due at the start of its period (LSCS art. 37)."""
    if due != start:
        check.rule(
            at,
            f"{due} is not the day the period starts ({start}): an instalment falls due at "
            "the start of the period it covers (LSCS art. 37)",
        )


def check_mx_instalment_length(
    at: str, start: date, end: date, on: date, check: Reconciler
) -> None:
    """A Mexican premium instalment covers at least a month (LSCS art. 38)."""
    least = legal.months("premium.minimum_instalment_period", "MX", on)
    if end < add_months(start, least) - timedelta(days=1):
        check.rule(
            at,
            f"{start}–{end} is shorter than {least} month(s): instalments cannot cover "
            "shorter periods (LSCS art. 38)",
        )
