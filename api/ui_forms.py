"""A kind's compose form, generated from its JSON Schema (:func:`api.kind_schemas.kind_schema`).

Pure functions, no HTTP: :func:`form_fields` turns a schema and a payload into a tree of
:class:`Field` (what the template draws) and :func:`payload_from_form` turns the submitted
form items back into the payload, so that payload → form → payload gives the payload back.

Every field is named after its JSON path (``lines.0.unit_price.amount``), which is also
where the service's validation messages point, and its ``id`` is derived from that path.
Beside the inputs the form carries two kinds of hidden markers: ``<path>#``, the number of
items of a list (empty when the list is absent), and ``<path>!``, ``null`` when the payload
held an explicit null there, or ``plain`` when a free text was one string rather than
``{"es": …, "en": …}``. Typed values stay strings (amounts are never floats); only whole
numbers and booleans are converted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from api.kind_schemas import field_title
from api.ui_i18n import N_
from correspondence import bounded_json
from correspondence.errors import InvalidPayload, Problem
from correspondence.free_text import LANGUAGES, REGIONS

TEXT_KEYS: tuple[str, ...] = (*LANGUAGES, *REGIONS)
LANGUAGE_NAMES = {
    "es": "Spanish",
    "en": "English",
    "es-MX": "Spanish (Mexico)",
    "es-ES": "Spanish (Spain)",
    "en-GB": "English (UK)",
    "en-US": "English (US)",
}
LIST_MAX = 500
"""The most items a list of the form may have, whatever a submitted count says."""
_WHOLE = re.compile(r"\s*[+-]?\d{1,18}\s*")


MISSING: Any = object()
"""No value: the key is left out of the payload."""


@dataclass(frozen=True)
class Field:
    """One field of the form: a group (``fieldset``), a list of groups, a free text (one
    input per language) or a single input."""

    kind: str
    """group, list, freetext, text, textarea, date, decimal, integer, email, url, select,
    boolean, const or json."""
    path: str
    label: str
    value: str = ""
    required: bool = False
    hint: str = ""
    marker: str = ""
    """The ``<path>!`` marker: ``null``, ``plain`` or empty."""
    count: str = ""
    """A list's ``<path>#`` marker: its number of items, or empty when it is absent."""
    present: bool = True
    """Whether the payload holds this group (an absent optional group is drawn folded)."""
    multiline: bool = False
    number: int = 0
    """A list item's place in its list (from 1), shown after its label; 0 elsewhere."""
    options: tuple[tuple[str, str], ...] = ()
    children: tuple[Field, ...] = ()
    texts: tuple[tuple[str, str, str], ...] = ()
    """A free text's inputs: (key, language name, value)."""

    @property
    def id(self) -> str:
        return field_id(self.path)


def field_id(path: str) -> str:
    """The HTML id of the field at ``path`` (``lines.0.net`` → ``f-lines-0-net``)."""
    return "f-" + path.replace(".", "-") if path else "f"


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


# -- the schema ---------------------------------------------------------------------------


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """``node`` with its ``$ref`` followed and an ``anyOf`` with null unwrapped; and whether
    it may be null."""
    current, nullable = dict(node), False
    while True:
        if "$ref" in current:
            target = defs[str(current.pop("$ref")).rsplit("/", 1)[1]]
            current = {**target, "description": current.get("description", "")}
            continue
        options = current.get("anyOf")
        if isinstance(options, list):
            others = [o for o in options if o.get("type") != "null"]
            if len(others) == 1 and len(others) < len(options):
                nullable = True
                rest = {k: v for k, v in current.items() if k not in ("anyOf", "default")}
                current = {**others[0], **rest}
                continue
        return current, nullable


def _is_free_text(node: Mapping[str, Any]) -> bool:
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return False
    kinds = {o.get("type") for o in options}
    languages: dict[str, Any] = next((o for o in options if o.get("type") == "object"), {})
    return kinds == {"string", "object"} and set(languages.get("properties", {})) <= set(TEXT_KEYS)


def _kind(node: Mapping[str, Any]) -> str:
    if "const" in node:
        return "const"
    if _is_free_text(node):
        return "freetext"
    if "enum" in node:
        return "select"
    kind = node.get("type")
    if kind == "string":
        if node.get("pattern", "").startswith(r"^\s*[+-]?(\d+"):
            return "decimal"
        return {"date": "date", "email": "email", "uri": "url"}.get(node.get("format", ""), "text")
    if kind == "object" and "properties" in node:
        return "group"
    if kind == "array" and isinstance(node.get("items"), dict):
        return "list"
    return {"boolean": "boolean", "integer": "integer"}.get(str(kind), "json")


def _properties(schema: Mapping[str, Any], root: bool) -> list[tuple[str, Any]]:
    items = list(schema.get("properties", {}).items())
    if root:  # the header first: the kind, locale and dates say what the rest is
        items.sort(key=lambda pair: pair[0] != "document")
    return items


# -- payload → fields ---------------------------------------------------------------------


def form_fields(schema: Mapping[str, Any], payload: Mapping[str, Any]) -> list[Field]:
    """The fields of the form for ``payload`` (a payload of the kind ``schema`` describes)."""
    document = payload.get("document") if isinstance(payload, Mapping) else None
    header = document if isinstance(document, Mapping) else {}
    language = str(header.get("text_language") or str(header.get("locale", ""))[:2])
    language = language if language in LANGUAGES else LANGUAGES[0]
    builder = _Builder(schema.get("$defs", {}), language)
    return list(builder.children(schema, payload, "", root=True))


@dataclass(frozen=True)
class _Builder:
    defs: Mapping[str, Any]
    language: str

    def children(
        self, schema: Mapping[str, Any], value: Any, path: str, root: bool = False
    ) -> tuple[Field, ...]:
        data = value if isinstance(value, Mapping) else {}
        required = set(schema.get("required", ()))
        return tuple(
            self.field(node, data.get(key, MISSING), _join(path, key), key, key in required)
            for key, node in _properties(schema, root)
        )

    def field(
        self, node: Mapping[str, Any], value: Any, path: str, key: str, required: bool
    ) -> Field:
        label = str(node.get("title") or field_title(key))
        resolved, _nullable = _resolve(node, self.defs)
        kind = _kind(resolved)
        common: dict[str, Any] = {"path": path, "label": label, "required": required}
        common["marker"] = "null" if value is None else ""
        if kind == "group":
            present = isinstance(value, Mapping)
            children = self.children(resolved, value, path)
            return Field("group", present=present, children=children, **common)
        if kind == "list":
            items = value if isinstance(value, list) else []
            children = tuple(
                replace(
                    self.field(resolved["items"], item, _join(path, i), key, True),
                    label=label,
                    number=i + 1,
                )
                for i, item in enumerate(items)
            )
            count = str(len(items)) if isinstance(value, list) else ""
            return Field("list", count=count, children=children, **common)
        if kind == "freetext":
            return self.free_text(resolved, value, common)
        options: tuple[tuple[str, str], ...] = ()
        if kind == "select":
            options = tuple((str(v), str(v)) for v in resolved["enum"])
        elif kind == "boolean":
            options = (("true", N_("Yes")), ("false", N_("No")))
        shown = "" if value is MISSING or value is None else _shown(kind, value)
        return Field(kind, value=shown, hint=HINTS.get(kind, ""), options=options, **common)

    def free_text(self, node: Mapping[str, Any], value: Any, common: dict[str, Any]) -> Field:
        texts = dict(value) if isinstance(value, Mapping) else {}
        if isinstance(value, str):
            texts = {self.language: value}
            common = {**common, "marker": "plain"}
        multiline = "one line" not in str(node.get("description", ""))
        inputs = tuple((k, LANGUAGE_NAMES[k], str(texts.get(k, ""))) for k in TEXT_KEYS)
        return Field("freetext", multiline=multiline, texts=inputs, **common)


def _shown(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value is True else "false" if value is False else json.dumps(value)
    if kind == "json" or not isinstance(value, str | int) or isinstance(value, bool):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


HINTS = {
    "decimal": N_("A number, such as 1234.50"),
    "integer": N_("A whole number"),
    "json": "JSON",
}


def items_of(fields: list[Field] | tuple[Field, ...]) -> dict[str, str]:
    """What a browser submits for ``fields`` left as they are (form name → value)."""
    items: dict[str, str] = {}
    for each in fields:
        if each.marker:
            items[f"{each.path}!"] = each.marker
        if each.kind == "list":
            items[f"{each.path}#"] = each.count
        if each.kind == "freetext":
            items.update({_join(each.path, key): text for key, _name, text in each.texts})
        elif each.kind in ("group", "list"):
            items.update(items_of(each.children))
        else:
            items[each.path] = each.value
    return items


# -- submitted items → payload ------------------------------------------------------------


def payload_from_form(
    schema: Mapping[str, Any], items: Mapping[str, str]
) -> tuple[dict[str, Any], list[Problem]]:
    """The payload the submitted ``items`` (form name → value) describe, and what in them is
    not a value of its field (the typed text is kept in the payload at its path)."""
    # a browser sends a text box's line breaks as CRLF
    typed = {key: value.replace("\r\n", "\n") for key, value in items.items()}
    reader = _Reader(schema.get("$defs", {}), typed, [], [len(typed)])
    payload = reader.group(schema, "", root=True)
    return (payload if isinstance(payload, dict) else {}), reader.problems


@dataclass(frozen=True)
class _Reader:
    defs: Mapping[str, Any]
    items: Mapping[str, str]
    problems: list[Problem]
    budget: list[int]
    """List items still to be made: no more than the items submitted (counts can lie)."""

    def group(self, schema: Mapping[str, Any], path: str, root: bool = False) -> Any:
        result: dict[str, Any] = {}
        consts: dict[str, Any] = {}
        required = set(schema.get("required", ()))
        for key, node in _properties(schema, root):
            resolved, _nullable = _resolve(node, self.defs)
            if "const" in resolved and key in required:
                consts[key] = resolved["const"]
            value = self.value(node, _join(path, key))
            if value is not MISSING:
                result[key] = value
        if not result and not root:
            return MISSING
        return {**consts, **result} if set(result) - set(consts) else result

    def value(self, node: Mapping[str, Any], path: str) -> Any:
        resolved, _nullable = _resolve(node, self.defs)
        kind = _kind(resolved)
        if kind == "group":
            found = self.group(resolved, path)
        elif kind == "list":
            found = self.list(resolved, path)
        elif kind == "freetext":
            found = self.free_text(path)
        else:
            found = self.leaf(kind, path)
        if found is MISSING and self.items.get(f"{path}!") == "null":
            return None
        return found

    def list(self, node: Mapping[str, Any], path: str) -> Any:
        count = self.items.get(f"{path}#", "").strip()
        if not count.isdigit():
            return MISSING
        bound = min(LIST_MAX, int(node.get("maxItems", LIST_MAX)), int(count[:6]))
        result = []
        for i in range(bound):
            if self.budget[0] <= 0:
                break
            self.budget[0] -= 1
            item = self.value(node["items"], _join(path, i))
            result.append(_empty(node["items"], self.defs) if item is MISSING else item)
        return result

    def free_text(self, path: str) -> Any:
        texts = {k: v for k in TEXT_KEYS if (v := self.items.get(_join(path, k), ""))}
        if not texts:
            return MISSING
        if self.items.get(f"{path}!") == "plain" and len(texts) == 1:
            return next(iter(texts.values()))
        return texts

    def leaf(self, kind: str, path: str) -> Any:
        raw = self.items.get(path, "")
        if raw == "":
            return MISSING
        if kind == "integer":
            if _WHOLE.fullmatch(raw):
                return int(raw)
            self.problems.append(Problem(path, "must be a whole number", "type"))
        elif kind == "boolean":
            if raw in ("true", "false"):
                return raw == "true"
            self.problems.append(Problem(path, "must be Yes or No", "type"))
        elif kind == "json":
            try:
                return bounded_json.loads(raw, subject="the value")
            except InvalidPayload as error:
                self.problems.extend(Problem(path, p.message, "json") for p in error.problems)
        return raw  # text, a decimal, a date, a choice, a constant: the service judges it


def _empty(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """The value of a list item whose fields are all empty."""
    resolved, nullable = _resolve(node, defs)
    return None if nullable else {"group": {}, "list": []}.get(_kind(resolved), "")


# -- adding and removing list items -------------------------------------------------------
