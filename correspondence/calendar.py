"""Calendar arithmetic for deadlines: calendar days, business days and months.

Statutes say which kind of day applies (brief §2.4), so each is a separate helper.
Business days use the ``holidays`` package for a country plus an optional subdivision
(Spain needs one: Madrid adds its own days). A deadline that lands on a weekend is not
moved: the letter prints the exact date.
"""

from __future__ import annotations

import calendar as _cal
import importlib.util
import sys
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import holidays
from holidays.registry import COUNTRIES

_LOADING = threading.Lock()


def holiday_class(country: str) -> type[holidays.HolidayBase]:
    """The ``holidays`` package's class for ``country`` (ISO 3166-1 alpha-2), its module
    loaded alone. Importing any one country through the package (``holidays.ES``,
    ``country_holidays``, ``holidays.countries.spain``) runs ``holidays.countries``'
    ``__init__``, which imports all of its 250 countries: a quarter of a second of a cold
    ``correspondence render``. The module and class are the package's own; were the whole
    package imported later, it finds this module already loaded and uses it."""
    module = next(module for module, names in COUNTRIES.items() if names[1] == country)
    name = f"holidays.countries.{module}"
    with _LOADING:
        loaded = sys.modules.get(name)
        if loaded is None:
            path = Path(holidays.__file__).parent / "countries" / f"{module}.py"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[name] = loaded
            try:
                spec.loader.exec_module(loaded)
            except BaseException:
                del sys.modules[name]
                raise
    found: type[holidays.HolidayBase] = getattr(loaded, country)  # as ``holidays.ES`` is
    return found


def add_calendar_days(start: date, days: int) -> date:
    """``start`` plus ``days`` calendar days (días naturales)."""
    return start + timedelta(days=days)


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` months, clamped to the end of a shorter month.

    31 January + 1 month is 28 (or 29) February, never 3 March.
    """
    month_index = start.month - 1 + months
    year, month0 = divmod(month_index, 12)
    year += start.year
    last_day = _cal.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holiday_class(country)(subdiv=subdivision)


def is_business_day(day: date, country: str, subdivision: str | None = None) -> bool:
    """Monday to Friday and not a public holiday in ``country`` (and ``subdivision``)."""
    return day.weekday() < 5 and day not in _holiday_calendar(country, subdivision)


def add_business_days(
    start: date, days: int, *, country: str, subdivision: str | None = None
) -> date:
    """The ``days``-th business day (día hábil) after ``start``; ``start`` never counts."""
    return BusinessCalendar(country, subdivision).add(start, days)


def easter(year: int) -> date:
    """Easter Sunday of ``year`` (Gregorian; Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lr = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lr) // 451
    month, day = divmod(h + lr - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _mx_bank_closing(day: date) -> bool:
    """Days Mexican banks close besides the LFT art. 74 holidays (CNBV's yearly calendar):
    Holy Thursday and Good Friday, 2 November and 12 December."""
    holy_thursday = easter(day.year) - timedelta(days=3)
    return day in (holy_thursday, holy_thursday + timedelta(days=1)) or (day.month, day.day) in (
        (11, 2),
        (12, 12),
    )


@dataclass(frozen=True)
class BusinessCalendar:
    """The calendar a count of business days uses, named so each count states its own.

    * ``MX`` — LFT art. 74 mandatory rest days (the ``holidays`` package's Mexico);
    * ``MX`` with ``banking=True`` — the banking calendar (CNBV): LFT days plus Holy
      Thursday, Good Friday, 2 November and 12 December; money moves through banks on it;
    * ``ES`` with a subdivision — national plus the autonomous community's holidays.
    """

    country: str
    subdivision: str | None = None
    banking: bool = False

    @property
    def name(self) -> str:
        """``MX-LFT74``, ``MX-BANKING``, ``ES-MD``."""
        if self.country == "MX":
            return "MX-BANKING" if self.banking else "MX-LFT74"
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday and open in this calendar."""
        if not is_business_day(day, self.country, self.subdivision):
            return False
        return not (self.banking and self.country == "MX" and _mx_bank_closing(day))

    def add(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start``; ``start`` never counts."""
        if days < 0:
            raise ValueError("business days are counted forwards only")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current

    def between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        days = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_business_day(current):
                days += 1
        return days
