"""Formatting through Babel, bound to an explicit locale: the exact strings of the brief."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from correspondence.formatting import Formatter

NBSP = "\u00a0"


def fmt(locale: str) -> Formatter:
    return Formatter(locale, "Europe/Madrid")


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "expected"),
    [
        ("es-MX", "76067", "MXN", f"$76,067.00{NBSP}MXN"),
        ("es-MX", "1234.5", "USD", f"USD{NBSP}1,234.50"),
        ("es-MX", "1234.5", "EUR", f"EUR{NBSP}1,234.50"),
        ("en-GB", "76067", "MXN", f"MXN{NBSP}76,067.00"),
        ("en-US", "76067", "MXN", f"MXN{NBSP}76,067.00"),
        ("es-ES", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("es-ES", "76067", "MXN", f"76.067,00{NBSP}MXN"),
        ("en-GB", "1234.5", "EUR", "€1,234.50"),
        ("en-US", "1234.5", "USD", "$1,234.50"),
        ("en-GB", "1234.5", "USD", f"USD{NBSP}1,234.50"),
        ("es-ES", "1234567.89", "EUR", f"1.234.567,89{NBSP}€"),
    ],
)
def test_money(locale: str, amount: str, currency: str, expected: str) -> None:
    """Each locale writes each currency the way the brief pins it."""
    assert fmt(locale).money(Decimal(amount), currency) == expected


def test_money_rounds_half_up_before_babel() -> None:
    """Babel alone would print 0,00 € for half a cent (half-even)."""
    assert fmt("es-ES").money(Decimal("0.005"), "EUR") == f"0,01{NBSP}€"
    assert fmt("en-GB").money(Decimal("2.345"), "EUR") == "€2.35"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("es-MX", "31 de enero de 2027"),
        ("es-ES", "31 de enero de 2027"),
        ("en-GB", "31 January 2027"),
        ("en-US", "January 31, 2027"),
    ],
)
def test_long_dates(locale: str, expected: str) -> None:
    """Long dates: lowercase Spanish months, day-first en-GB, month-first en-US."""
    assert fmt(locale).date_long(date(2027, 1, 31)) == expected


def test_spanish_date_lines() -> None:
    """es-MX puts 'a' before the date; es-ES does not; English prints the date alone."""
    day = date(2026, 12, 15)
    assert fmt("es-MX").date_line("Ciudad de México", day) == (
        "Ciudad de México, a 15 de diciembre de 2026"
    )
    assert fmt("es-ES").date_line("Madrid", day) == "Madrid, 15 de diciembre de 2026"
    assert fmt("en-GB").date_line("London", day) == "15 December 2026"


@pytest.mark.parametrize(
    ("locale", "rate", "expected"),
    [
        ("es-ES", "0.16", f"16{NBSP}%"),
        ("es-MX", "0.16", "16%"),
        ("en-GB", "0.16", "16%"),
        ("en-US", "0.16", "16%"),
        ("es-ES", "0.00185", f"0,185{NBSP}%"),
        ("en-GB", "0.00185", "0.185%"),
    ],
)
def test_percent(locale: str, rate: str, expected: str) -> None:
    """Rates are fractions; es-ES puts a no-break space before %; decimals are kept."""
    assert fmt(locale).percent(Decimal(rate)) == expected


def test_time_is_shown_in_the_formatters_zone() -> None:
    """Noon in Mexico City is 19:00 in Madrid in January."""
    noon_mx = datetime(2027, 1, 31, 12, 0, tzinfo=timezone(timedelta(hours=-6)))
    assert Formatter("es-ES", "Europe/Madrid").time(noon_mx) == "19:00"
    assert (
        Formatter("es-MX", "America/Mexico_City").time(noon_mx) == "12:00\u202fp.m."
    )  # CLDR: narrow no-break space


def test_unsupported_locale_is_refused() -> None:
    """Only the four locales we write in are accepted."""
    with pytest.raises(ValueError, match="unsupported locale"):
        Formatter("fr-FR", "Europe/Paris")
