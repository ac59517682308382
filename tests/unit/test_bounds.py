"""Every payload field is bounded, and the bounds that are registry columns are the columns.

The sweep walks every kind's model (nested models, unions, lists, optionals) and fails on
a string without ``max_length``, a decimal without ``max_digits`` and ``decimal_places``,
an integer without both ``ge`` and ``le``, a list without ``max_length``, or a date
without the years check.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pytest
from pydantic import AfterValidator, BaseModel, create_model
from pydantic.fields import FieldInfo
from pydantic.networks import EmailStr, HttpUrl
from sqlalchemy import String, inspect

from correspondence import bounds, free_text, models
from correspondence.kinds import KINDS
from correspondence.kinds.premium_invoice import InvoiceHeader
from correspondence.registry import migrate, open_database
from correspondence.registry.models import Base


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            found.update(_constraints(list(item.metadata)))
        elif isinstance(item, annotated_types.MaxLen):
            found["max_length"] = item.max_length
        elif isinstance(item, annotated_types.Ge | annotated_types.Gt):
            found["low"] = True
        elif isinstance(item, annotated_types.Le | annotated_types.Lt):
            found["high"] = True
        elif isinstance(item, AfterValidator) and item.func is bounds._in_years:
            found["years"] = True
        elif hasattr(item, "max_digits") and item.max_digits is not None:
            found["max_digits"] = item.max_digits
            if getattr(item, "decimal_places", None) is not None:
                found["decimal_places"] = item.decimal_places
    return found


def _unbounded(annotation: Any, metadata: list[Any], at: str, seen: set[type]) -> list[str]:
    """The paths under ``annotation`` that lack a bound."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return _unbounded(inner, [*metadata, *extra], at, seen)
    if annotation is HttpUrl or (isinstance(annotation, type) and issubclass(annotation, EmailStr)):
        return []  # email-validator caps addresses at 254 characters; URLs at 2083
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return [
            path
            for arg in get_args(annotation)
            if arg is not type(None)
            for path in _unbounded(arg, metadata, at, seen)
        ]
    if origin is Literal or annotation is bool or annotation is type(None):
        return []
    bounds = _constraints(metadata)
    if origin is list:
        found = [] if "max_length" in bounds else [f"{at}: list without max_length"]
        return found + _unbounded(get_args(annotation)[0], [], f"{at}.*", seen)
    if origin is dict:
        found = [] if "max_length" in bounds else [f"{at}: mapping without max_length"]
        key, value = get_args(annotation)
        return found + _unbounded(key, [], f"{at}.key", seen) + _unbounded(value, [], at, seen)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        return [
            path
            for name, info in annotation.model_fields.items()
            for path in _unbounded(
                info.annotation, list(info.metadata), f"{annotation.__name__}.{name}", seen
            )
        ]
    if annotation is str:
        return [] if "max_length" in bounds else [f"{at}: string without max_length"]
    if annotation in (free_text.Text, free_text.TextLine):  # bounded by its own validator
        # (test_free_text_is_bounded)
        return []
    if annotation is Decimal:
        ok = "max_digits" in bounds and "decimal_places" in bounds
        return [] if ok else [f"{at}: decimal without max_digits and decimal_places"]
    if annotation is int:
        ok = "low" in bounds and "high" in bounds
        return [] if ok else [f"{at}: integer without ge and le"]
    if annotation in (date, datetime):
        return [] if "years" in bounds else [f"{at}: date without the years check"]
    return [f"{at}: unknown type {annotation!r}"]


def test_every_payload_field_is_bounded() -> None:
    unbounded: list[str] = []
    seen: set[type] = set()
    for kind in KINDS.values():
        unbounded += _unbounded(kind.model, [], kind.name, seen)
    assert unbounded == []


def test_the_sweep_finds_an_unbounded_field() -> None:
    """The sweep itself: each kind of missing bound is reported."""

    class Loose(free_text.Model):
        text: str
        maybe: str | None = None
        amount: Decimal
        count: int
        items: list[bounds.Label]
        day: date

    found = _unbounded(Loose, [], "loose", set())
    assert len(found) == 6, found


#: Registry columns filled from a payload field, and the model field that fills them.
COLUMNS: dict[tuple[str, str], tuple[type[BaseModel], str]] = {
    ("documents", "policy_number"): (models.Policy, "number"),
    ("documents", "policyholder_tax_id"): (models.Party, "tax_id"),
    ("documents", "policyholder_name"): (models.Party, "legal_name"),
    ("documents", "business_reference"): (models.DocumentHeader, "our_reference"),
    ("documents", "number"): (InvoiceHeader, "number"),
    ("number_series", "series"): (InvoiceHeader, "series"),
}


def _max_length(model: type[BaseModel], name: str) -> int:
    """The field's max_length, wherever it sits: on the field, or inside its type."""
    info = model.model_fields[name]
    found = _constraints(list(info.metadata))
    annotation = info.annotation
    while "max_length" not in found:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is Annotated:
            found = _constraints(args[1:])
        annotation = args[0]
    return int(found["max_length"])


@pytest.mark.parametrize("column", sorted(COLUMNS), ids="{0[0]}.{0[1]}".format)
def test_model_bounds_equal_the_registry_columns(column: tuple[str, str]) -> None:
    """A string the model accepts always fits its column (PostgreSQL refuses longer)."""
    table, name = column
    column_type = Base.metadata.tables[table].c[name].type
    assert isinstance(column_type, String)
    assert _max_length(*COLUMNS[column]) == column_type.length


def test_every_string_column_filled_from_a_payload_is_checked() -> None:
    """The documents columns that _new_row fills from the payload, all in COLUMNS."""
    from_payload = {
        "policy_number",
        "policyholder_tax_id",
        "policyholder_name",
        "business_reference",
        "number",
    }
    assert {name for table, name in COLUMNS if table == "documents"} == from_payload


def test_the_migrated_schema_has_the_lengths_of_the_orm(tmp_path: Path) -> None:
    """The migrations create the columns the ORM (and so the models) declare; the
    documents.issued_by column of the scopes exists too."""
    engine = open_database(f"sqlite:///{tmp_path / 'registry.db'}")
    migrate(engine)
    reflected = inspect(engine)
    for table, name in COLUMNS:
        (column,) = [c for c in reflected.get_columns(table) if c["name"] == name]
        assert column["type"].length == Base.metadata.tables[table].c[name].type.length
    assert "issued_by" in {c["name"] for c in reflected.get_columns("documents")}
    assert "api_key_id" in {c["name"] for c in reflected.get_columns("batches")}
    engine.dispose()


@pytest.mark.parametrize("kind", [free_text.Text, free_text.TextLine])
def test_free_text_is_bounded(kind: type[free_text.Text]) -> None:
    """Free text, in one language or per language, is refused past its max_length
    (TEXT_MAX; LABEL_MAX for a one-line text such as the place of issue)."""

    Note = create_model("Note", __base__=free_text.Model, text=(kind, ...))
    limit = kind.max_length
    assert Note.model_validate({"text": "a" * limit}).text == "a" * limit
    for too_long in ("a" * (limit + 1), {"es": "a", "en": "a" * (limit + 1)}):
        with pytest.raises(ValueError, match=f"at most {limit} characters"):
            Note.model_validate({"text": too_long})
