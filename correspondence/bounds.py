"""Bounded scalar types of the payload models, and the bounds themselves.

Every field of every payload model is bounded (tests/unit/test_bounds.py sweeps them):
decimal strings (never JSON numbers: a float has already lost the cents), dates within
sensible years, single-line labels and names, currency codes.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
)
from pydantic.networks import validate_email

from correspondence.money import known_currencies

# --- bounds ---------------------------------------------------------------------------------
# Every field of every payload model is bounded (tests/unit/test_bounds.py sweeps them). The
# lengths that are also registry columns are the columns' lengths (the same constants are
# used by correspondence/registry/models.py, and a test checks both sides).

TEXT_MAX = 2000
"""Free text: a paragraph, a reason, a condition."""
LABEL_MAX = 200
"""A short text on one line: a label, a code, a city, a phone number."""
NAME_MAX = 300
"""A person's or a company's name (column ``documents.policyholder_name``)."""
TAX_ID_MAX = 40
"""A tax identifier, RFC or NIF (column ``documents.policyholder_tax_id``)."""
POLICY_NUMBER_MAX = 80
"""A policy number (column ``documents.policy_number``)."""
REFERENCE_MAX = 120
"""Our business reference (column ``documents.business_reference``)."""
INVOICE_NUMBER_MAX = 80
"""An invoice number (column ``documents.number``)."""
SERIES_MAX = 25
"""An invoice series (column ``number_series.series``)."""
LIST_MAX = 100
"""Items in a list, unless the field says otherwise."""
LINES_MAX = 5000
"""Lines of an invoice (a long invoice is rendered in sections)."""
YEAR_MIN, YEAR_MAX = 1900, 2199
"""Dates outside these years are refused: every date the service computes from them
(deadlines, grace periods, suspensions) stays far inside what ``datetime`` can hold."""
AMOUNT_INTEGER_DIGITS = 12
"""An amount is below 10¹² (the words-in-letters routine goes up to 999 999 999 999.99)."""
AMOUNT_LIMIT = Decimal(10) ** AMOUNT_INTEGER_DIGITS
DECIMAL_INPUT_MAX = 40
"""Characters of a decimal string, checked before it is parsed at all."""


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        kind = "a JSON number" if isinstance(value, int | float) else type(value).__name__
        raise ValueError(f'must be a decimal string such as "1234.50", not {kind}')
    if len(value) > DECIMAL_INPUT_MAX:
        raise ValueError(
            f"is {len(value)} characters long; a number has at most {DECIMAL_INPUT_MAX}"
        )
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


_DecimalInput = Annotated[Decimal, BeforeValidator(_decimal_string)]

DecimalStr = Annotated[_DecimalInput, Field(max_digits=18, decimal_places=6)]
"""A Decimal that arrives as a JSON string: at most 18 digits, 6 of them decimals."""

AmountStr = Annotated[_DecimalInput, Field(max_digits=AMOUNT_INTEGER_DIGITS + 4, decimal_places=4)]
"""An amount: below 10¹² (checked by :class:`Money`), at most 4 decimals (the currency's
minor unit, checked by :class:`Money`, is never finer)."""


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


Rate = Annotated[
    _DecimalInput, Field(max_digits=12, decimal_places=8), AfterValidator(_non_negative)
]
"""A fraction as a decimal string: ``"0.16"`` is 16 %."""

Quantity = Annotated[
    _DecimalInput, Field(max_digits=15, decimal_places=6), AfterValidator(_positive)
]
"""A positive quantity below 10⁹, at most 6 decimals."""


def _in_years(value: date) -> Any:
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValueError(f"must fall between the years {YEAR_MIN} and {YEAR_MAX}")
    return value


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """A date is written YYYY-MM-DD: pydantic would otherwise read "-0" or "0" as a Unix
    time (1 January 1970)."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value.strip()):
        raise ValueError("must be a date written YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("must be a date written YYYY-MM-DD, not a number")
    return value


def _iso_moment(value: Any) -> Any:
    """A date and time starts with its date, YYYY-MM-DD."""
    if isinstance(value, str) and not _ISO_DAY.match(value.strip()):
        raise ValueError("must be a date and time written YYYY-MM-DDTHH:MM[:SS][±HH:MM]")
    if isinstance(value, int | float):
        raise ValueError("must be a date and time written YYYY-MM-DDTHH:MM, not a number")
    return value


Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_in_years)]
"""A calendar date between 1900 and 2199."""

Moment = Annotated[datetime, BeforeValidator(_iso_moment), AfterValidator(_in_years)]
"""A date and time between 1900 and 2199."""

_LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")  # the other breaks are unprintable


def _single_line(value: str) -> str:
    if _LINE_BREAKS.search(value):
        raise ValueError("must be on one line: it contains a line break")
    return value


Count = Annotated[int, Field(ge=-(10**9), le=10**9)]
"""A whole number, as a JSON number, of at most 9 digits."""

PlainText = Annotated[str, Field(max_length=TEXT_MAX)]
"""Text that is not prose in a language (a code, a note for a machine), possibly empty,
possibly over several lines. Prose the customer reads is :class:`Text`."""
NonEmpty = Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]
"""Free text, not empty."""
Label = Annotated[str, Field(min_length=1, max_length=LABEL_MAX), AfterValidator(_single_line)]
"""A short text on one line: a code, a label, a city, a phone number."""
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(_single_line)]
"""A person's or a company's name: one line (it may become an email header)."""
TaxId = Annotated[str, Field(min_length=1, max_length=TAX_ID_MAX), AfterValidator(_single_line)]
PolicyNumber = Annotated[
    str, Field(min_length=1, max_length=POLICY_NUMBER_MAX), AfterValidator(_single_line)
]
InvoiceNumber = Annotated[
    str, Field(min_length=1, max_length=INVOICE_NUMBER_MAX), AfterValidator(_single_line)
]
Reference = Annotated[
    str, Field(min_length=1, max_length=REFERENCE_MAX), AfterValidator(_single_line)
]


def _currency(code: str) -> str:
    if code not in known_currencies():
        raise ValueError(f"unknown currency {code!r}: use an ISO 4217 code such as MXN or EUR")
    return code


CurrencyCode = Annotated[str, Field(max_length=3), AfterValidator(_currency)]
Locale = Literal["es-MX", "es-ES", "en-GB", "en-US"]
Jurisdiction = Literal["MX", "ES"]
CountryCode = Annotated[str, Field(max_length=2, pattern=r"^[A-Z]{2}$")]


@lru_cache(maxsize=4096)
def _normalized_email(value: str) -> str:
    """pydantic's verdict on an address, for :class:`Email`: the normalized form of a
    valid one (kept); an invalid one raises pydantic's error, and nothing is kept. The
    same few addresses come in every payload (the account executive's, the insurer's
    complaint desks), and email-validator checks an address character by character in
    Python: 12 % of validating a document, before this."""
    return validate_email(value)[1]


if TYPE_CHECKING:
    Email = EmailStr
else:

    class Email(EmailStr):
        """pydantic's ``EmailStr`` (the same checks, messages and JSON schema), with each
        valid address's normalized form kept (at most 4,096, least recently used dropped);
        an invalid one is checked again each time, and refused with pydantic's message."""

        @classmethod
        def _validate(cls, input_value: str, /) -> str:
            return _normalized_email(input_value)
