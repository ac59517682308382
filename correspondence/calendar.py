"""Calendar arithmetic for deadlines: calendar days, business days and months.

Statutes say which kind of day applies (brief §2.4), so each is a separate helper.
Business days use the ``holidays`` package for a country plus an optional subdivision
(Spain needs one: Madrid adds its own days). A deadline that lands on a weekend is not
moved: the letter prints the exact date.
"""

from __future__ import annotations

import calendar as _cal
from datetime import date, timedelta
from functools import lru_cache

import holidays


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
    return holidays.country_holidays(country, subdiv=subdivision)


def is_business_day(day: date, country: str, subdivision: str | None = None) -> bool:
    """Monday to Friday and not a public holiday in ``country`` (and ``subdivision``)."""
    return day.weekday() < 5 and day not in _holiday_calendar(country, subdivision)


def add_business_days(
    start: date, days: int, *, country: str, subdivision: str | None = None
) -> date:
    """The ``days``-th business day (día hábil) after ``start``; ``start`` never counts."""
    if days < 0:
        raise ValueError("business days are counted forwards only")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current, country, subdivision):
            remaining -= 1
    return current
