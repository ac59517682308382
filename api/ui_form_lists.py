"""Adding and removing a list's items in a compose form's payload (the form's "Add
another" and "Remove" buttons), by the JSON path of the list or the item."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from api.ui_forms import LIST_MAX, _empty, _kind, _resolve


def _steps(path: str) -> list[str | int] | None:
    if len(path) > 500 or not re.fullmatch(r"\w+(\.\w+)*", path, re.ASCII):
        return None
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def _container(
    schema: Mapping[str, Any], payload: Any, steps: list[str | int]
) -> tuple[Any, Mapping[str, Any]] | None:
    """The list at ``steps`` in ``payload`` (made, with its parents, when absent) and its
    schema; None when ``steps`` names no list of the schema."""
    defs = schema.get("$defs", {})
    node: Mapping[str, Any] = schema
    here = payload
    for step in steps:
        kind = _kind(node)
        if kind == "group" and isinstance(step, str) and step in node["properties"]:
            node = _resolve(node["properties"][step], defs)[0]
            if not isinstance(here.get(step), dict | list):
                here[step] = [] if _kind(node) == "list" else {}
            here = here[step]
        elif kind == "list" and isinstance(step, int) and step < len(here):
            node = _resolve(node["items"], defs)[0]
            here = here[step]
            if not isinstance(here, dict | list):
                return None
        else:
            return None
    return (here, node) if _kind(node) == "list" and isinstance(here, list) else None


def add_item(schema: Mapping[str, Any], payload: dict[str, Any], path: str) -> dict[str, Any]:
    """``payload`` with an empty item added to the list at ``path`` (unchanged if ``path``
    names no list of ``schema``, or the list is full)."""
    steps = _steps(path)
    copied = json.loads(json.dumps(payload))
    found = _container(schema, copied, steps) if steps else None
    if found is None:
        return payload
    items, node = found
    if len(items) < min(LIST_MAX, int(node.get("maxItems", LIST_MAX))):
        items.append(_empty(node["items"], schema.get("$defs", {})))
    return dict(copied)


def remove_item(schema: Mapping[str, Any], payload: dict[str, Any], path: str) -> dict[str, Any]:
    """``payload`` without the list item at ``path`` (``lines.2``)."""
    steps = _steps(path)
    if not steps or not isinstance(steps[-1], int):
        return payload
    copied = json.loads(json.dumps(payload))
    found = _container(schema, copied, steps[:-1])
    if found is None or steps[-1] >= len(found[0]):
        return payload
    del found[0][steps[-1]]
    return dict(copied)
