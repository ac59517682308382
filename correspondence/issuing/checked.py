"""A request checked before it is recorded: its options split from its payload, the
payload validated, and what the registry row needs of it.

A batch's items are checked side by side, by the API's thread and its render processes
(:meth:`correspondence.batches.Batches.submit`), so this module imports no more than
validation does: no registry, nothing a render process would load just for this. What
comes back from a render process is :class:`Checked`, cheap to pickle: the row's fields,
not the payload's models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from correspondence.errors import InvalidPayload, Problem
from correspondence.kinds import Validated, validate
from correspondence.results import RowFields
from correspondence.review_rules import required

REQUEST_OPTIONS = ("reissue", "deliver", "review")


def split_request(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate request options (``reissue``) from the document payload."""
    payload = {k: v for k, v in body.items() if k not in REQUEST_OPTIONS}
    options = {k: body[k] for k in REQUEST_OPTIONS if k in body}
    if "reissue" in options and not isinstance(options["reissue"], bool):
        raise InvalidPayload([Problem("reissue", "must be true or false", "type")])
    return payload, options


def row_fields(validated: Validated) -> RowFields:
    """What the registry row of ``validated`` reads from it."""
    doc = validated.doc
    return RowFields(
        kind=validated.kind.name,
        locale=doc.document.locale,
        jurisdiction=doc.document.jurisdiction,
        policy_number=doc.policy.number,
        policyholder_tax_id=doc.policyholder.tax_id,
        policyholder_name=doc.policyholder.legal_name,
        business_reference=doc.document.our_reference,
        issue_date=doc.document.issue_date,
    )


@dataclass(frozen=True)
class Checked:
    """A request whose payload is valid: its row's fields, the payload and the options
    (not yet read: recipients and the review option are read by the acceptor), and why
    the settings hold it for review (``None``: they do not)."""

    fields: RowFields
    payload: dict[str, Any]
    options: dict[str, Any]
    settings_review: str | None


def check(body: Mapping[str, Any], review_kinds: Iterable[str]) -> Checked:
    """Split ``body`` and validate its payload (``InvalidPayload`` if it is not valid)."""
    payload, options = split_request(body)
    validated = validate(payload)
    return Checked(row_fields(validated), payload, options, required(review_kinds, validated))


def check_each(
    bodies: Sequence[Mapping[str, Any]], review_kinds: tuple[str, ...]
) -> list[Checked | tuple[Problem, ...]]:
    """:func:`check` for each body in turn: what it became, or why it was refused."""
    checked: list[Checked | tuple[Problem, ...]] = []
    for body in bodies:
        try:
            checked.append(check(body, review_kinds))
        except InvalidPayload as refused:
            checked.append(tuple(refused.problems))
    return checked
