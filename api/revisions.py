"""A request for a business reference that already has a document: the same body is an
idempotent replay (200, the existing document); a changed body is refused with 409,
naming the existing document and the fields that differ, unless it asks ``"reissue": true``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from correspondence.errors import Conflict
from correspondence.issuing.checked import REQUEST_OPTIONS
from correspondence.kinds import KINDS
from correspondence.service import DocumentInfo, Service

SHOWN = 5
"""How many differing fields a refusal names."""


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def differences(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> list[str]:
    """The field paths whose values differ between two payloads, in order."""
    old, new = dict(_leaves(stored)), dict(_leaves(sent))
    return [
        path for path in dict.fromkeys([*new, *old]) if old.get(path, ...) != new.get(path, ...)
    ]


def refuse_if_changed(svc: Service, existing: DocumentInfo, body: Mapping[str, Any]) -> None:
    """Raise :class:`Conflict` if ``body`` differs from the payload ``existing`` was issued
    from (the number the registry gave it aside)."""
    sent = {k: v for k, v in body.items() if k not in REQUEST_OPTIONS}
    stored = svc.payload(existing.id)
    if sent == stored:
        return
    normalized = sent
    if existing.number is not None:  # the number the registry filled in is not a change
        try:
            normalized = KINDS[existing.kind].with_number(sent, existing.number)
        except (KeyError, TypeError):
            normalized = sent
    changed = differences(stored, normalized)
    stated = {path for path, value in _leaves(sent) if value is not None}
    changed += [p for p in differences(stored, sent) if p not in changed and p in stated]
    if not changed:
        return
    more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    raise Conflict(
        f"{existing.kind} {existing.business_reference} is already document {existing.id} "
        f"(version {existing.version}, {existing.status}) from a different body: "
        f"{', '.join(changed[:SHOWN])}{more} differ. Send the same body to get that document "
        f'again, or add "reissue": true to issue version {existing.version + 1} from this one'
    )
