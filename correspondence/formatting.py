"""Locale-bound formatting through Babel, and the Jinja filters that use it.

A :class:`Formatter` is built for one explicit locale and time zone; nothing here reads
the machine's environment. Amounts are quantised half-up before Babel sees them.

Conventions (brief §2.3, pinned by tests):

* es-MX pesos ``$76,067.00 MXN``; other currencies in es-MX ``USD 1,234.50``;
* English pesos ``MXN 76,067.00``; en-GB euros ``€1,234.50``; en-US dollars ``$1,234.50``;
* es-ES ``1.234,50 €`` and ``76.067,00 MXN``;
* percentages ``16 %`` in es-ES, ``16%`` elsewhere;
* es-ES four-digit amounts: ``4.860,00 €`` (Babel) where amounts stand in columns
  (invoices, the renewal pack, calculation and case tables), ``4860,00 €`` (CLDR
  ``minimumGroupingDigits=2`` and the RAE) in prose letters; each kind says which
  (``Kind.group_four_digits``; the decision is in docs/rules/README.md).

The space between an amount and an ISO code is a no-break space (U+00A0) everywhere, so an
amount never wraps away from its currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent, get_currency_precision

from correspondence.money import quantize

NBSP = "\u00a0"

SUPPORTED_LOCALES = ("es-MX", "es-ES", "en-GB", "en-US")

# Currencies whose own symbol is unambiguous for the reader of each locale; every other
# currency is written with its ISO code.
_OWN_SYMBOL = {
    "es-MX": {"MXN": "$"},
    "es-ES": {"EUR": "€"},
    "en-GB": {"GBP": "£", "EUR": "€"},
    "en-US": {"USD": "$", "EUR": "€"},
}

# Business time zone of each jurisdiction (brief §2.3).
JURISDICTION_TZ = {"MX": "America/Mexico_City", "ES": "Europe/Madrid"}


def babel_locale(locale: str) -> str:
    """``es-MX`` → ``es_MX``."""
    return locale.replace("-", "_")


@dataclass(frozen=True)
class Formatter:
    """Formats numbers, money, dates and percentages for one locale and one time zone."""

    locale: str
    tz: str
    group_four_digits: bool = True

    def __post_init__(self) -> None:
        if self.locale not in SUPPORTED_LOCALES:
            raise ValueError(f"unsupported locale {self.locale!r}")
        Locale.parse(babel_locale(self.locale))
        ZoneInfo(self.tz)

    @property
    def language(self) -> str:
        """``es`` or ``en``."""
        return self.locale.split("-")[0]

    def _number(self, amount: Decimal, currency: str) -> str:
        digits = get_currency_precision(currency)
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        if self._ungrouped(amount):
            pattern = pattern.replace("#,##", "")
        return format_decimal(
            quantize(amount, currency), format=pattern, locale=babel_locale(self.locale)
        )

    def money(self, amount: Decimal, currency: str) -> str:
        """An amount with its currency, as a reader of this locale expects it."""
        sign = "-" if amount < 0 else ""
        number = self._number(abs(amount), currency)
        symbol = _OWN_SYMBOL[self.locale].get(currency)
        if self.locale == "es-ES":
            return f"{sign}{number}{NBSP}{symbol or currency}"
        if self.locale == "es-MX" and currency == "MXN":
            return f"{sign}${number}{NBSP}MXN"
        if symbol:
            return f"{sign}{symbol}{number}"
        return f"{sign}{currency}{NBSP}{number}"

    def _ungrouped(self, amount: Decimal | int) -> bool:
        """es-ES prose writes four-digit numbers without a group separator (RAE, CLDR)."""
        return (
            not self.group_four_digits and self.locale == "es-ES" and abs(Decimal(amount)) < 10_000
        )

    def number(self, value: Decimal | int) -> str:
        """A plain number with the locale's separators, keeping its own decimals."""
        if self._ungrouped(value):
            return format_decimal(
                value, format="0.###", locale=babel_locale(self.locale), decimal_quantization=False
            )
        return format_decimal(value, locale=babel_locale(self.locale), decimal_quantization=False)

    def percent(self, rate: Decimal) -> str:
        """A rate given as a fraction (``0.16``) as a percentage, keeping its decimals."""
        return format_percent(rate, locale=babel_locale(self.locale), decimal_quantization=False)

    def date_long(self, day: date) -> str:
        """``31 de enero de 2027``, ``31 January 2027``, ``January 31, 2027``."""
        return format_date(day, "long", locale=babel_locale(self.locale))

    def date_medium(self, day: date) -> str:
        """A compact unambiguous date for tables: ``1 ene 2027``, ``1 Jan 2027``."""
        return format_date(day, "medium", locale=babel_locale(self.locale))

    def date_line(self, place: str, day: date) -> str:
        """The letter's date line: ``Ciudad de México, a 15 de diciembre de 2026``."""
        long = self.date_long(day)
        if self.locale == "es-MX":
            return f"{place}, a {long}"
        if self.locale == "es-ES":
            return f"{place}, {long}"
        return long

    def time(self, moment: datetime) -> str:
        """Local time of ``moment`` in this formatter's zone (``12:00``, ``12:00 PM``)."""
        local = moment.astimezone(ZoneInfo(self.tz))
        return format_time(local, "short", locale=babel_locale(self.locale))

    def datetime_long(self, moment: datetime) -> str:
        """Long date and time in this formatter's zone."""
        local = moment.astimezone(ZoneInfo(self.tz))
        return f"{self.date_long(local.date())}, {self.time(local)}"


@lru_cache(maxsize=32)
def formatter(locale: str, tz: str, group_four_digits: bool = True) -> Formatter:
    """A shared Formatter for ``locale`` and ``tz`` (formatters are immutable)."""
    return Formatter(locale, tz, group_four_digits)
