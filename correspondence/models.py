"""Payload models shared by every kind (brief §2.1) and the envelope (§2.2); their scalar
types are in ``bounds.py``, free text and the base model in ``free_text.py``.

Money and rates are decimal strings in JSON and ``Decimal`` in Python. JSON numbers are
refused for them: a float has already lost the cents before we could round them.
Unknown fields are refused too, so a misspelt field never silently disappears.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from correspondence.bounds import (
    AMOUNT_INTEGER_DIGITS,
    AMOUNT_LIMIT,
    LINES_MAX,
    LIST_MAX,
    SERIES_MAX,
    AmountStr,
    Count,
    CountryCode,
    CurrencyCode,
    Day,
    DecimalStr,
    Email,
    InvoiceNumber,
    Jurisdiction,
    Label,
    Locale,
    Moment,
    Name,
    NonEmpty,
    PlainText,
    PolicyNumber,
    Quantity,
    Rate,
    Reference,
    TaxId,
)
from correspondence.free_text import Language, Model, Text, TextLine
from correspondence.money import minor_unit

# The kinds import their field types from here as well as these models (kinds/*.py are
# being split apart in another change, so their imports stay as they are).
__all__ = [
    "AMOUNT_LIMIT",
    "DOCUMENT_NUMBER",
    "LINES_MAX",
    "LIST_MAX",
    "SAC",
    "SERIES_MAX",
    "UNE",
    "AccountExecutive",
    "Address",
    "AddressAs",
    "Broker",
    "ComplaintRoutes",
    "Count",
    "CountryCode",
    "Day",
    "DecimalStr",
    "DocumentHeader",
    "Envelope",
    "Insurer",
    "InvoiceNumber",
    "Label",
    "Model",
    "Moment",
    "Money",
    "NonEmpty",
    "Party",
    "Period",
    "Person",
    "PlainText",
    "Policy",
    "Policyholder",
    "Quantity",
    "Rate",
    "Text",
    "TextLine",
    "TimeLimit",
]


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
    email: Email | None = None
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
    email: Email
    phone: Label | None = None
    postal: Address | None = None
    max_response: TimeLimit | None = None  # not printed: the legal rule in force is (legal.py)


class SAC(Model):
    """Spain's first-level complaints service (Servicio de Atención al Cliente)."""

    name: Text
    email: Email
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
    email: Email
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
