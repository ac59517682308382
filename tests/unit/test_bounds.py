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
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pytest
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo
from pydantic.networks import EmailStr, HttpUrl
from sqlalchemy import String

from correspondence import models
from correspondence.kinds import KINDS
from correspondence.registry.models import Document


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
        elif isinstance(item, AfterValidator) and item.func is models._in_years:
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
    if annotation is EmailStr or annotation is HttpUrl:
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
    if annotation is models.Text:  # its own validator bounds it (test_free_text_is_bounded)
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

    class Loose(models.Model):
        text: str
        maybe: str | None = None
        amount: Decimal
        count: int
        items: list[models.Label]
        day: date

    found = _unbounded(Loose, [], "loose", set())
    assert len(found) == 6, found


#: Registry columns filled from a payload field, and the model field that fills them.
COLUMNS = {
    "policy_number": (models.Policy, "number"),
    "policyholder_tax_id": (models.Party, "tax_id"),
    "policyholder_name": (models.Party, "legal_name"),
    "business_reference": (models.DocumentHeader, "our_reference"),
}


@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_model_bounds_equal_the_registry_columns(column: str) -> None:
    """A string the model accepts always fits its column (PostgreSQL refuses longer)."""
    model, name = COLUMNS[column]
    column_type = Document.__table__.c[column].type
    assert isinstance(column_type, String)
    bounds = _constraints(list(model.model_fields[name].metadata))
    if "max_length" not in bounds:  # the bound sits inside the field's Annotated type
        annotation = model.model_fields[name].annotation
        bounds = _constraints(list(typing.get_args(annotation)[1:]))
    assert bounds["max_length"] == column_type.length


def test_free_text_is_bounded() -> None:
    """Free text, in one language or per language, is refused past TEXT_MAX characters."""

    class Note(models.Model):
        text: models.Text

    limit = models.TEXT_MAX
    assert Note.model_validate({"text": "a" * limit}).text == "a" * limit
    for too_long in ("a" * (limit + 1), {"es": "a", "en": "a" * (limit + 1)}):
        with pytest.raises(ValueError, match=f"at most {limit} characters"):
            Note.model_validate({"text": too_long})
