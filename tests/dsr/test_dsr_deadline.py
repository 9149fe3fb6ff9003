"""The Art. 12(3) clock counted as the EDPB and the ICO do (Regulation 1182/71): corresponding date, last day of
the month, next working day after weekends and public holidays, extensions, and the controller's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.dsr.deadline import WorkingDays, add_months, clock, due_date

FR = WorkingDays("FR")
GB = WorkingDays("GB", "ENG")
NONE = WorkingDays()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_received_saturday_31_january_is_due_monday_2_march() -> None:
    # 28 February 2026 is a Saturday: the last day of February, then the next working day.
    assert due_date(at("2026-01-31T10:00+00:00"), "Europe/London", GB) == date(2026, 3, 2)


def test_corresponding_date_and_last_day_of_the_month() -> None:
    assert add_months(date(2026, 3, 15), 1) == date(2026, 4, 15)
    assert add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)  # April has no 31st
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


def test_leap_years() -> None:
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)  # 2028 is a leap year
    assert add_months(date(2027, 1, 29), 1) == date(2027, 2, 28)
    # Received Tuesday 29 February 2028: due 29 March 2028, a Wednesday.
    assert due_date(at("2028-02-29T09:00+01:00"), "Europe/Paris", FR) == date(2028, 3, 29)


def test_due_on_a_weekend_moves_to_monday() -> None:
    # 14 March 2026 is a Saturday → Monday 16 March 2026.
    assert due_date(at("2026-02-14T12:00+00:00"), "UTC", NONE) == date(2026, 3, 16)
    # 15 March 2026 is a Sunday → Monday 16.
    assert due_date(at("2026-02-15T12:00+00:00"), "UTC", NONE) == date(2026, 3, 16)


def test_due_on_a_public_holiday_moves_to_the_next_working_day() -> None:
    # 1 May 2026 (Friday) is Labour Day in France: received 1 April → due Monday 4 May.
    assert due_date(at("2026-04-01T10:00+02:00"), "Europe/Paris", FR) == date(2026, 5, 4)
    # Without France's holidays the same request would be due on Friday 1 May.
    assert due_date(at("2026-04-01T10:00+02:00"), "Europe/Paris", NONE) == date(2026, 5, 1)
    # Christmas and Boxing Day in England: received 25 November 2026 → 25 Dec (Fri, holiday), 28 Dec (Mon,
    # substitute for Boxing Day on a Saturday) → Tuesday 29 December.
    assert due_date(at("2026-11-25T10:00+00:00"), "Europe/London", GB) == date(2026, 12, 29)


def test_regional_holidays_count_when_the_region_is_set() -> None:
    # 6 January (Epiphany) is a holiday in Bavaria, not in Germany as a whole: received 6 Dec 2027 (a Monday).
    received = at("2027-12-06T10:00+01:00")
    assert due_date(received, "Europe/Berlin", WorkingDays("DE")) == date(2028, 1, 6)
    assert due_date(received, "Europe/Berlin", WorkingDays("DE", "BY")) == date(2028, 1, 7)


def test_extensions_count_three_months_from_receipt_by_the_same_rule() -> None:
    received = at("2026-01-31T10:00+00:00")
    assert due_date(received, "Europe/London", GB, 2) == date(2026, 3, 31)
    # 30 April 2026 is a Thursday: the last day of April, a working day.
    assert due_date(received, "Europe/London", GB, 3) == date(2026, 4, 30)
    with pytest.raises(ValueError):
        due_date(received, "Europe/London", GB, 4)


def test_late_on_the_last_day_of_a_month_counts_in_the_controllers_zone() -> None:
    # 23:30 in Paris on 31 March 2026 is 21:30 UTC the same day; 00:30 in Paris on 1 April is still 31 March in UTC.
    assert due_date(at("2026-03-31T23:30+02:00"), "Europe/Paris", FR) == date(2026, 4, 30)
    assert due_date(at("2026-03-31T22:30+00:00"), "Europe/Paris", FR) == date(2026, 5, 4)  # 1 April in Paris
    assert due_date(at("2026-03-31T22:30+00:00"), "UTC", FR) == date(2026, 4, 30)
    # New York: 02:00 UTC on 1 February is still 31 January there.
    assert due_date(at("2026-02-01T02:00+00:00"), "America/New_York", WorkingDays("US")) == date(2026, 3, 2)


def test_the_clock_counts_days_in_the_controllers_zone() -> None:
    due = date(2026, 3, 2)
    assert clock(due, "Europe/Paris", datetime(2026, 2, 23, 12, tzinfo=UTC)).state == "due_soon"  # 7 days left
    assert clock(due, "Europe/Paris", datetime(2026, 2, 22, 12, tzinfo=UTC)).state == "running"  # 8 days
    assert clock(due, "Europe/Paris", datetime(2026, 3, 2, 23, 30, tzinfo=UTC)).state == "overdue"  # 3 March in Paris
    assert clock(due, "UTC", datetime(2026, 3, 2, 23, 30, tzinfo=UTC)).days_left == 0
    assert clock(due, "UTC", datetime(2026, 4, 1, tzinfo=UTC), answered=date(2026, 3, 2)).state == "answered_in_time"
    assert clock(due, "UTC", datetime(2026, 4, 1, tzinfo=UTC), answered=date(2026, 3, 3)).state == "answered_late"
