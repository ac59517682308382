"""Which documents wait for review (docs/review.md): the request's own ``"review"`` option,
and the settings' ``review_kinds`` (``CORRESPONDENCE_REVIEW_KINDS``).

An entry names a kind (``claim_decision``: every claim decision letter) or a kind and a
type of it (``credit_limit_change_notice:reduction``). The type of a credit limit change
notice is its ``change.type``; of a claim decision letter, the outcome the service
computes (``paid_in_full``, ``partially_paid``, ``declined``). The kinds' modules are
imported only when a document of theirs is looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from correspondence.errors import InvalidPayload, Problem
from correspondence.kinds import KINDS, Validated

REQUEST = "request"
"""Why a document waits when its request asked for review."""


def types_of(kind: str) -> tuple[str, ...]:
    """The types a kind's entries may name (none: only the whole kind)."""
    if kind == "credit_limit_change_notice":
        from correspondence.kinds.credit_limit_change_notice import ChangeType

        return get_args(ChangeType)
    if kind == "claim_decision":
        from correspondence.kinds.claim_decision.model import Outcome

        return get_args(Outcome)
    return ()


def unknown_entries(entries: Iterable[str]) -> list[str]:
    """The entries that name no kind, or no type of their kind."""
    wrong = []
    for entry in entries:
        kind, _, kind_type = entry.partition(":")
        if kind not in KINDS or (kind_type and kind_type not in types_of(kind)):
            wrong.append(entry)
    return wrong


def type_of(validated: Validated) -> str | None:
    """The type of a validated document, for the entries that name one."""
    name = validated.kind.name
    if name == "credit_limit_change_notice":
        from correspondence.kinds.credit_limit_change_notice import CreditLimitChangeNotice

        doc = validated.doc
        return doc.change.type if isinstance(doc, CreditLimitChangeNotice) else None
    if name == "claim_decision":
        from correspondence.kinds.claim_decision import ClaimFigures

        figures = validated.figures
        return figures.outcome if isinstance(figures, ClaimFigures) else None
    return None


def requested(option: Any) -> bool:
    """The request's ``"review"`` option: ``{"required": true}`` (or false)."""
    if (
        not isinstance(option, dict)
        or set(option) != {"required"}
        or not isinstance(option["required"], bool)
    ):
        raise InvalidPayload(
            [Problem("review", 'must be {"required": true} or {"required": false}', "type")]
        )
    return bool(option["required"])


def because(entries: Iterable[str], validated: Validated, asked: bool) -> str | None:
    """Why this document waits for review (``request`` or the settings' entry that
    matched), or ``None`` when it goes straight out. A request cannot opt out of the
    review the settings require."""
    return required(entries, validated) or (REQUEST if asked else None)


def required(entries: Iterable[str], validated: Validated) -> str | None:
    """The settings' entry that holds this document for review, if one does."""
    name = validated.kind.name
    wanted = set(entries)
    if name in wanted:
        return f"settings:{name}"
    kind_type = type_of(validated) if any(e.startswith(f"{name}:") for e in wanted) else None
    if kind_type is not None and f"{name}:{kind_type}" in wanted:
        return f"settings:{name}:{kind_type}"
    return None
