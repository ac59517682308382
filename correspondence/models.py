"""Payload models shared by every kind: primitives (brief §2.1) and the envelope (§2.2).

Money and rates are decimal strings in JSON and ``Decimal`` in Python. JSON numbers are
refused for them: a float has already lost the cents before we could round them.
Unknown fields are refused too, so a misspelt field never silently disappears.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from correspondence.money import known_currencies, minor_unit

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

_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Control characters other than tab and line breaks, lone surrogates and the two
non-characters: nothing a letter can print, and what XML 1.0 (which our documents are
parsed as, ``pdf.parse_xml``) does not allow."""


FONTS_DIR = Path(__file__).parent / "assets" / "fonts"


@cache
def drawable() -> frozenset[str]:
    """The characters every packaged face draws (regular, bold and italic: any text may be
    set in any of them), and the white space a text may hold. Read once, with fontTools."""
    from fontTools.ttLib import TTFont

    faces = []
    for path in sorted(FONTS_DIR.glob("*.ttf")):
        with TTFont(path, lazy=True) as font:
            faces.append(set(font.getBestCmap()))
    common = set.intersection(*faces)
    return frozenset(chr(c) for c in common) | frozenset("\t\n\r")


def _texts(value: Any) -> list[str]:
    if isinstance(value, Text):
        return [value, *value.translations.values()]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.items() for text in _texts(item)]
    return []  # numbers, dates, and nested models (checked by their own validator)


# -- free text and its language ---------------------------------------------------------

Language = Literal["es", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "en")

_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre|january|february|march|april|may|june|july|august|september|"
    "october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|ene|abr|ago|dic"
)
_FIGURES = (
    ("an amount", re.compile(r"[$€£]\s?\d|\d\s?[€£]|\b(?:MXN|EUR|USD|GBP|M\.N\.)\s?\d", re.I)),
    (
        "an amount",
        re.compile(r"\d\s?(?:MXN|EUR|USD|GBP|M\.N\.|pesos|euros|dollars|dólares)\b", re.I),
    ),
    (
        "an amount",
        re.compile(r"\b\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?\b|\b\d+[.,]\d{2}\b(?![.,]\d)"),
    ),
    ("a date", re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")),
    ("a date", re.compile(rf"\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTHS})\b", re.I)),
    ("a date", re.compile(rf"\b(?:{_MONTHS})\.?\s+(?:de\s+)?\d{{1,4}}\b", re.I)),
)
"""What a free text must not state: a figure the customer reads is a typed field the
service formats in the reader's locale (an amount, a date)."""


def _no_figures(text: str) -> str:
    for what, pattern in _FIGURES:
        found = pattern.search(text)
        if found:
            raise ValueError(
                f"free text must not state {what} ({found.group().strip()!r}): give it as a "
                "typed field, which the service formats in the reader's locale"
            )
    return text


class Text(str):
    """Free text the customer reads. As a string it is the text in the payload's text
    language (``document.text_language``); ``translations`` holds it in every language
    the payload gives when the field is written ``{"es": "…", "en": "…"}``."""

    translations: Mapping[str, str]
    max_length = TEXT_MAX
    """Each language's text is at most this long (the bounds sweep reads it)."""
    schema_description = "free text (docs/language.md)"

    def __new__(cls, value: str, translations: Mapping[str, str] | None = None) -> Text:
        text = super().__new__(cls, value)
        text.translations = dict(translations or {})
        return text

    def available_in(self, language: str, text_language: str) -> bool:
        """Whether this text can be printed in ``language``."""
        return language in self.translations or (
            not self.translations and language == text_language
        )

    def in_language(self, language: str) -> Text:
        """The same text in ``language`` (which :meth:`available_in` said it has)."""
        if not self.translations:
            return self
        return Text(self.translations[language], self.translations)

    @classmethod
    def _validate(cls, value: object, info: ValidationInfo) -> Text:
        language = (info.context or {}).get("text_language")
        if isinstance(value, str):
            return cls(_no_figures(_non_empty(_bounded(value))))
        if not isinstance(value, dict) or not value:
            raise ValueError('must be a text, or the text per language: {"es": "…", "en": "…"}')
        texts: dict[str, str] = {}
        for key, each in value.items():
            if key not in LANGUAGES:
                raise ValueError(f"{key!r} is not a language; use {' or '.join(LANGUAGES)}")
            if not isinstance(each, str):
                raise ValueError(f"the {key!r} text must be a string")
            texts[key] = _no_figures(_non_empty(_bounded(each)))
        if language is None:
            return cls(next(iter(texts.values())), texts)
        if language not in texts:
            raise ValueError(f"has no {language!r} text, the language of the payload's text")
        return cls(texts[language], texts)

    @staticmethod
    def _serialize(value: Text) -> str | dict[str, str]:
        return dict(value.translations) if value.translations else str(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: type[Any], _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(cls._serialize),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        text = {"type": "string", "minLength": 1, "maxLength": cls.max_length}
        per_language = {
            "type": "object",
            "properties": {lang: text for lang in LANGUAGES},
            "additionalProperties": False,
            "minProperties": 1,
        }
        return {"anyOf": [text, per_language], "description": cls.schema_description}


def _bounded(text: str) -> str:
    if len(text) > TEXT_MAX:
        raise ValueError(f"must be at most {TEXT_MAX} characters, not {len(text)}")
    return text


def _non_empty(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be empty")
    return stripped


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
            fonts = drawable()
            missing = [c for c in dict.fromkeys(text) if c not in fonts]
            if missing:
                codes = ", ".join(f"U+{ord(c):04X}" for c in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                raise ValueError(
                    f"contains characters the documents' fonts cannot draw: {codes}{more}"
                )
        return value


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


Day = Annotated[date, AfterValidator(_in_years)]
"""A calendar date between 1900 and 2199."""

Moment = Annotated[datetime, AfterValidator(_in_years)]
"""A date and time between 1900 and 2199."""

_LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")  # the other breaks are unprintable


def _single_line(value: str) -> str:
    if _LINE_BREAKS.search(value):
        raise ValueError("must be on one line: it contains a line break")
    return value


class TextLine(Text):
    """A short free text on one line that the customer reads in a language, such as the
    place of issue ("Ciudad de México" / "Mexico City"): a string in the payload's text
    language, or ``{"es": "…", "en": "…"}``."""

    max_length = LABEL_MAX
    schema_description = "free text on one line (docs/language.md)"

    @classmethod
    def _validate(cls, value: object, info: ValidationInfo) -> Text:
        text = super()._validate(value, info)
        for each in [str(text), *text.translations.values()]:
            _single_line(each)
            if len(each) > LABEL_MAX:
                raise ValueError(f"must be at most {LABEL_MAX} characters, not {len(each)}")
        return text


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


class Money(Model):
    """An amount in a currency; never more decimals than the currency's minor unit."""

    amount: AmountStr
    currency: CurrencyCode

    @model_validator(mode="after")
    def _fits_minor_unit(self) -> Money:
        exponent = self.amount.as_tuple().exponent
        assert isinstance(exponent, int)  # finite, checked by DecimalStr
        if exponent < minor_unit(self.currency).as_tuple().exponent:  # type: ignore[operator]
            raise ValueError(f"{self.amount} has more decimals than {self.currency} allows")
        if abs(self.amount) >= AMOUNT_LIMIT:
            raise ValueError(
                f"{self.amount} is too large: an amount has at most "
                f"{AMOUNT_INTEGER_DIGITS} digits before the decimal point"
            )
        return self


class Period(Model):
    """A span of days, both ends included."""

    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"ends ({self.end}) before it starts ({self.start})")
        return self


class Address(Model):
    """A postal address; ``neighbourhood`` is the Mexican colonia."""

    street: NonEmpty
    ext_number: Label | None = None
    int_number: Label | None = None
    neighbourhood: Label | None = None
    city: Label
    region: Label
    postal_code: Label
    country: CountryCode


class AddressAs(Model):
    """How a letter greets the person (docs/language.md): ``{"gender": "female",
    "surname": "Ficticia"}`` gives "Estimada Sra. Ficticia:" and "Dear Ms Ficticia,";
    ``title`` adds a professional title (Dr., and the Mexican Lic., Ing., C.P.)."""

    gender: Literal["female", "male"]
    surname: NonEmpty
    title: Literal["dr", "lic", "ing", "cp"] | None = None


class Person(Model):
    """A named person; contact details optional. ``title`` is the job title."""

    name: Name
    title: Text | None = None
    address_as: AddressAs | None = None
    email: EmailStr | None = None
    phone: Label | None = None


class Party(Model):
    """A company as it appears in master data."""

    legal_name: Name
    tax_id: TaxId
    tax_regime: Label | None = None
    address: Address


class TimeLimit(Model):
    """A statutory time limit: ``{"value": 2, "unit": "months"}``."""

    value: int = Field(ge=1, le=365)
    unit: Literal["months", "business_days", "calendar_days"]


class UNE(Model):
    """Mexico's first-level complaints unit (Unidad Especializada de Atención a Usuarios)."""

    name: Text
    email: EmailStr
    phone: Label | None = None
    postal: Address | None = None
    max_response: TimeLimit | None = None  # not printed: the legal rule in force is (legal.py)


class SAC(Model):
    """Spain's first-level complaints service (Servicio de Atención al Cliente)."""

    name: Text
    email: EmailStr
    phone: Label | None = None
    postal: Address | None = None
    max_response: TimeLimit | None = None  # not printed: the legal rule in force is (legal.py)


class ComplaintRoutes(Model):
    """Statutory complaint routes: ES is SAC then DGSFP; MX is UNE then CONDUSEF."""

    sac: SAC | None = None
    une: UNE | None = None
    second_level: Text | None = None  # not printed: the legal rule in force is (legal.py)


class Insurer(Party):
    """The insurer: letterhead, registry footer and complaint routes."""

    trade_name: Name | None = None
    registry_footer: Text
    complaints: ComplaintRoutes


class Policyholder(Party):
    """The customer, addressed in its legal name from master data."""

    contact: Person | None = None
    display_name: Name | None = None
    cfdi_use: Label | None = None

    @property
    def name_on_letters(self) -> str:
        """The letterhead form of the name (MX keeps the SAT form for the CFDI block)."""
        return self.display_name or self.legal_name


class AccountExecutive(Model):
    """The single point of contact [CHARTER]: name, email and phone are all required."""

    name: Name
    title: Text | None = None
    email: EmailStr
    phone: Label
    languages: list[Label] = Field(default_factory=list, max_length=10)


class Policy(Model):
    """The policy the document belongs to."""

    number: PolicyNumber
    product_name: Text
    currency: CurrencyCode
    period: Period
    payment_terms_days: int | None = Field(default=None, ge=0, le=365)


class Broker(Party):
    """The intermediary, copied on correspondence when present."""

    contact: Person | None = None


DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")


class DocumentHeader(Model):
    """``document``: what is being issued, for whom, in which language and jurisdiction."""

    id: Label
    type: Label
    locale: Locale
    text_language: Language | None = None
    jurisdiction: Jurisdiction
    issue_date: Day
    issue_place: TextLine  # a city's name differs by language
    our_reference: Reference
    customer_reference: Label | None = None
    confidential: bool = True

    @property
    def language_of_text(self) -> Language:
        """The language the payload's free text is written in: ``text_language``, else
        the language of ``locale``."""
        if self.text_language is not None:
            return self.text_language
        return "es" if self.locale.startswith("es") else "en"


class Envelope(Model):
    """The common envelope every kind carries (brief §2.2)."""

    document: DocumentHeader
    insurer: Insurer
    policyholder: Policyholder
    account_executive: AccountExecutive
    policy: Policy
    broker: Broker | None = None
