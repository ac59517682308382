"""Payload models shared by every kind: primitives (brief §2.1) and the envelope (§2.2).

Money and rates are decimal strings in JSON and ``Decimal`` in Python. JSON numbers are
refused for them: a float has already lost the cents before we could round them.
Unknown fields are refused too, so a misspelt field never silently disappears.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from correspondence.money import known_currencies, minor_unit

_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Control characters other than tab and line breaks, lone surrogates and the two
non-characters: nothing a letter can print, and what XML 1.0 (which our documents are
parsed as, ``pdf.parse_xml``) does not allow."""


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.items() for text in _texts(item)]
    return []  # numbers, dates, and nested models (checked by their own validator)


class Model(BaseModel):
    """Base of every payload model: frozen, no unknown fields, no coercion from floats,
    no unprintable characters in its text."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        for text in _texts(value):
            found = _UNPRINTABLE.search(text)
            if found:
                code = f"U+{ord(found.group()):04X}"
                raise ValueError(f"contains the unprintable character {code} at {found.start()}")
        return value


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        kind = "a JSON number" if isinstance(value, int | float) else type(value).__name__
        raise ValueError(f'must be a decimal string such as "1234.50", not {kind}')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


DecimalStr = Annotated[Decimal, BeforeValidator(_decimal_string)]
"""A Decimal that arrives as a JSON string."""


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


Rate = Annotated[DecimalStr, AfterValidator(_non_negative)]
"""A fraction as a decimal string: ``"0.16"`` is 16 %."""

Quantity = Annotated[DecimalStr, AfterValidator(_positive)]


def _currency(code: str) -> str:
    if code not in known_currencies():
        raise ValueError(f"unknown currency {code!r}: use an ISO 4217 code such as MXN or EUR")
    return code


CurrencyCode = Annotated[str, AfterValidator(_currency)]
Locale = Literal["es-MX", "es-ES", "en-GB", "en-US"]
Jurisdiction = Literal["MX", "ES"]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
NonEmpty = Annotated[str, Field(min_length=1)]


class Money(Model):
    """An amount in a currency; never more decimals than the currency's minor unit."""

    amount: DecimalStr
    currency: CurrencyCode

    @model_validator(mode="after")
    def _fits_minor_unit(self) -> Money:
        exponent = self.amount.as_tuple().exponent
        assert isinstance(exponent, int)  # finite, checked by DecimalStr
        if exponent < minor_unit(self.currency).as_tuple().exponent:  # type: ignore[operator]
            raise ValueError(f"{self.amount} has more decimals than {self.currency} allows")
        return self


class Period(Model):
    """A span of days, both ends included."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"ends ({self.end}) before it starts ({self.start})")
        return self


class Address(Model):
    """A postal address; ``neighbourhood`` is the Mexican colonia."""

    street: NonEmpty
    ext_number: str | None = None
    int_number: str | None = None
    neighbourhood: str | None = None
    city: NonEmpty
    region: NonEmpty
    postal_code: NonEmpty
    country: CountryCode


class Person(Model):
    """A named person; contact details optional."""

    name: NonEmpty
    title: str | None = None
    email: EmailStr | None = None
    phone: str | None = None


class Party(Model):
    """A company as it appears in master data."""

    legal_name: NonEmpty
    tax_id: NonEmpty
    tax_regime: str | None = None
    address: Address


class UNE(Model):
    """Mexico's first-level complaints unit (Unidad Especializada de Atención a Usuarios)."""

    name: NonEmpty
    email: EmailStr
    phone: str | None = None
    postal: Address | None = None
    max_response: str | None = None  # not printed: the legal rule in force is (legal.py)


class SAC(Model):
    """Spain's first-level complaints service (Servicio de Atención al Cliente)."""

    name: NonEmpty
    email: EmailStr
    phone: str | None = None
    postal: Address | None = None
    max_response: str | None = None  # not printed: the legal rule in force is (legal.py)


class ComplaintRoutes(Model):
    """Statutory complaint routes: ES is SAC then DGSFP; MX is UNE then CONDUSEF."""

    sac: SAC | None = None
    une: UNE | None = None
    second_level: str | None = None  # not printed: the legal rule in force is (legal.py)


class Insurer(Party):
    """The insurer: letterhead, registry footer and complaint routes."""

    trade_name: str | None = None
    registry_footer: NonEmpty
    complaints: ComplaintRoutes


class Policyholder(Party):
    """The customer, addressed in its legal name from master data."""

    contact: Person | None = None
    display_name: str | None = None
    cfdi_use: str | None = None

    @property
    def name_on_letters(self) -> str:
        """The letterhead form of the name (MX keeps the SAT form for the CFDI block)."""
        return self.display_name or self.legal_name


class AccountExecutive(Model):
    """The single point of contact [CHARTER]: name, email and phone are all required."""

    name: NonEmpty
    title: str | None = None
    email: EmailStr
    phone: NonEmpty
    languages: list[str] = Field(default_factory=list)


class Policy(Model):
    """The policy the document belongs to."""

    number: NonEmpty
    product_name: NonEmpty
    currency: CurrencyCode
    period: Period
    payment_terms_days: int | None = Field(default=None, ge=0, le=365)


class Broker(Party):
    """The intermediary, copied on correspondence when present."""

    contact: Person | None = None


DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")


class DocumentHeader(Model):
    """``document``: what is being issued, for whom, in which language and jurisdiction."""

    id: NonEmpty
    type: NonEmpty
    locale: Locale
    jurisdiction: Jurisdiction
    issue_date: date
    issue_place: NonEmpty
    our_reference: NonEmpty
    customer_reference: str | None = None
    confidential: bool = True


class Envelope(Model):
    """The common envelope every kind carries (brief §2.2)."""

    document: DocumentHeader
    insurer: Insurer
    policyholder: Policyholder
    account_executive: AccountExecutive
    policy: Policy
    broker: Broker | None = None
