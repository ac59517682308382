"""Calendar arithmetic: calendar days, business days with holidays, month-end clamps."""

from datetime import date

import pytest

from correspondence.calendar import (
    add_business_days,
    add_calendar_days,
    add_months,
    is_business_day,
)


def test_calendar_days_cross_month_and_year() -> None:
    """Días naturales count every day."""
    assert add_calendar_days(date(2027, 1, 1), 30) == date(2027, 1, 31)
    assert add_calendar_days(date(2026, 12, 15), 30) == date(2027, 1, 14)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2027, 1, 15), 12, date(2028, 1, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    """31 January + 1 month is the last day of February, never 3 March."""
    assert add_months(start, months) == expected


def test_mexican_moved_holidays_are_not_business_days() -> None:
    """MX federal holidays move to Mondays: 2 Feb, 16 Mar and 16 Nov 2026."""
    for day in (date(2026, 2, 2), date(2026, 3, 16), date(2026, 11, 16)):
        assert not is_business_day(day, "MX")
    assert is_business_day(date(2026, 2, 3), "MX")


def test_spanish_regional_holidays_need_the_subdivision() -> None:
    """2 May is a Madrid holiday, not a national one (it is a Saturday in 2026, so use 2 April)."""
    assert is_business_day(date(2026, 4, 2), "ES") is True
    assert is_business_day(date(2026, 4, 2), "ES", "MD") is False


def test_business_days_skip_weekends_and_holidays() -> None:
    """Ten business days from Friday 13 Nov 2026 in MX skip two weekends and 16 Nov."""
    assert add_business_days(date(2026, 11, 13), 10, country="MX") == date(2026, 11, 30)
    assert add_business_days(date(2026, 11, 13), 1, country="MX") == date(2026, 11, 17)


def test_business_days_from_a_holiday_start_the_next_business_day() -> None:
    """The start day never counts, even when it is a holiday."""
    assert add_business_days(date(2026, 12, 24), 1, country="ES", subdivision="MD") == date(
        2026, 12, 28
    )
