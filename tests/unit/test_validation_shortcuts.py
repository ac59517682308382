"""Two shortcuts in validation give the answers of the long way round:

- :class:`bounds.Email` keeps pydantic's verdict on an address (``EmailStr``: the same
  normalized address, error, message and JSON schema);
- :func:`glyphs.undrawable` answers text that Doc Sans draws whole with one set
  comparison, and otherwise walks the families as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, EmailStr, ValidationError

from correspondence import bounds, glyphs

ADDRESSES = [
    "ana.lopez@aseguradora.example",
    "  Ana.Lopez@ASEGURADORA.EXAMPLE ",  # trimmed, domain lower-cased
    "ñandú@exämple.com",  # internationalized
    "Ana López <ana@aseguradora.example>",  # pydantic accepts a display name
    "no-at-sign",
    "a@b",
    "x@@example.com",
    "a@[127.0.0.1]",
    "line@break.example\n",
    "a" * 70 + "@example.com",  # a local part over 64 characters
    "",
]


class Ours(BaseModel):
    email: bounds.Email


class Theirs(BaseModel):
    email: EmailStr


def _verdict(model: type[BaseModel], address: str) -> Any:
    try:
        return ("valid", model(email=address).email)  # type: ignore[call-arg]
    except ValidationError as error:
        return [(e["type"], e["loc"], e["msg"], e.get("ctx")) for e in error.errors()]


@pytest.mark.parametrize("address", ADDRESSES)
def test_an_address_gets_pydantics_verdict_the_first_time_and_every_time_after(
    address: str,
) -> None:
    expected = _verdict(Theirs, address)
    assert _verdict(Ours, address) == expected
    assert _verdict(Ours, address) == expected  # now answered from what was kept


def test_a_valid_address_is_checked_once_and_an_invalid_one_every_time() -> None:
    bounds._normalized_email.cache_clear()
    for _ in range(3):
        Ours(email="cuenta@aseguradora.example")
    kept = bounds._normalized_email.cache_info()
    assert (kept.misses, kept.hits, kept.currsize) == (1, 2, 1)  # checked once, then kept
    for _ in range(3):
        with pytest.raises(ValidationError):
            Ours(email="cuenta-at-aseguradora.example")
    after = bounds._normalized_email.cache_info()
    assert (after.misses, after.hits, after.currsize) == (4, 2, 1)  # checked each time, not kept


def test_the_schema_is_pydantics() -> None:
    assert Ours.model_json_schema()["properties"] == Theirs.model_json_schema()["properties"]


def _the_long_way(text: str) -> list[str]:
    missing = [c for c in dict.fromkeys(text) if c not in glyphs.WHITE_SPACE]
    for family in glyphs.FAMILIES:
        missing = [c for c in missing if c not in glyphs._family(family)]
    return missing


@pytest.mark.parametrize(
    "text",
    [
        "Compañía Aseguradora de Crédito, S.A. — Póliza nº 42",
        "línea uno\nlínea dos\tcon tabulador\r\n",
        "株式会社 東京",  # Doc CJK only
        "Ωmega and 東京 together",  # both families
        "\U0001f600 smile",  # neither
        "a\u0301 combining",
        "",
    ],
)
def test_undrawable_answers_as_the_walk_over_the_families(text: str) -> None:
    assert glyphs.undrawable(text) == _the_long_way(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_undrawable_answers_as_the_walk_for_any_text(text: str) -> None:
    assert glyphs.undrawable(text) == _the_long_way(text)
