"""The Art. 12(3) clock: one month from receipt, counted as the EDPB (Guidelines 01/2022 on the right of access,
§ 5.3) and the ICO do, after Regulation (EEC, Euratom) No 1182/71.

- Art. 3(2)(c) of the Regulation: a period in months ends on the day of the last month with the same date as the
  day of receipt; where that month has no such day, on its last day.
- Art. 3(4): where the last day is a Saturday, a Sunday or a public holiday, the period ends on the next working
  day.

The deadline is a calendar date in the controller's time zone (the request is received "on a day" where the
controller is), so a request received at 23:30 in Paris on 31 January counts from 31 January, whatever UTC says.
Public holidays are those of the controller's country (and region, where given) from the ``holidays`` package.

Art. 12(6): where the controller asks for more information to confirm the requester's identity, the EDPB accepts
that the period is suspended until that information arrives. The days it waited (from the day asked to the day
the information came, in the controller's zone) are added to the period before the working-day rule applies, and
while it waits the clock stands still: it is neither counting down nor overdue.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

MAX_MONTHS = 3  # Art. 12(3): one month, extendable by two further months


def add_months(day: date, months: int) -> date:
    """The corresponding date ``months`` later; the last day of that month where it has no such date."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class WorkingDays:
    """Monday to Friday minus the public holidays of ``country`` (ISO 3166-1 alpha-2; "" = weekends only)."""

    country: str = ""
    subdivision: str = ""
    _cache: dict[int, holidays.HolidayBase] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _supported(self) -> bool:
        return bool(self.country) and self.country in holidays.list_supported_countries()

    def holiday(self, day: date) -> str | None:
        """The name of the public holiday on ``day``, or None."""
        if not self._supported:
            return None
        table = self._cache.get(day.year)
        if table is None:
            table = holidays.country_holidays(self.country, subdiv=self.subdivision or None, years=day.year)
            self._cache[day.year] = table
        return table.get(day)

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def next_working(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working(day):
            day += timedelta(days=1)
        return day


def controller_time(moment: datetime, zone: str) -> datetime:
    """The one rule for a time given without a zone, wherever it was typed (``dsr open``, the New request dialog,
    an export): it is the wall-clock time where the controller is, never the workstation's, so the same input
    gives the same day of receipt and the same deadline."""
    return moment.replace(tzinfo=ZoneInfo(zone)) if moment.tzinfo is None else moment


def received_day(received: datetime, zone: str) -> date:
    """The day of receipt where the controller is."""
    if received.tzinfo is None:
        raise ValueError("the time of receipt must carry its time zone")
    return received.astimezone(ZoneInfo(zone)).date()


def due_date(received: datetime, zone: str, working: WorkingDays, months: int = 1, paused_days: int = 0) -> date:
    """The last day to answer a request received at ``received``, ``months`` (1 to 3) after receipt, the period
    lengthened by the ``paused_days`` it stood still waiting for the requester's identity (Art. 12(6))."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError("a request is answered within one month, extended to three at most (Art. 12(3))")
    if paused_days < 0:
        raise ValueError("a pause lasts zero days or more")
    end = add_months(received_day(received, zone), months) + timedelta(days=paused_days)
    return working.next_working(end)


def in_force(due: date, extended_due: date | None, refused: bool) -> date:
    """The deadline an answer is held to. An extension (Art. 12(3)) lengthens the time to act on a request, not the
    time to say no: Art. 12(4) wants a refusal "without delay and at the latest within one month of receipt". So a
    request with a right refused is due on the one-month date (``due``, which includes any Art. 12(6) wait), however
    it was extended; the register counted a refusal sent in month three as "in time"."""
    return due if refused else (extended_due or due)


def end_of_day(day: date, zone: str) -> datetime:
    """The last moment of ``day`` where the controller is: an answer sent then is still in time."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone)) - timedelta(microseconds=1)


def long_date(day: date) -> str:
    """``28 December 2026``: a date no reader takes for another (2026-12-03 reads as 12 March to some), in English
    whatever the machine's locale."""
    return f"{day.day} {calendar.month_name[day.month] if day.month else ''} {day.year}"


@dataclass(frozen=True)
class DueDay:
    """The day an answer is due, where the controller is. A person reads the day and its zone; a machine may take
    the last instant of that day in UTC (``last_instant``), which alone reads as a time of day: "answer by
    2026-12-28T22:59:59.999999Z" was read as 22:59 although the whole of 28 December in Berlin is in time."""

    day: date
    zone: str

    @property
    def last_instant(self) -> datetime:
        return end_of_day(self.day, self.zone)

    def text(self) -> str:
        """``by the end of 28 December 2026, Europe/Berlin (22:59:59 UTC)``; the UTC date is added when it is
        another day (west of Greenwich: ``(29 December 2026, 04:59:59 UTC)``)."""
        said = f"by the end of {long_date(self.day)}, {self.zone}"
        if self.zone.upper().removeprefix("ETC/") in _UTC:
            return said  # "UTC (23:59:59 UTC)" would say it twice
        last = self.last_instant.astimezone(UTC)
        other_day = f"{long_date(last.date())}, " if last.date() != self.day else ""
        return f"{said} ({other_day}{last:%H:%M:%S} UTC)"


_UTC = frozenset({"UTC", "UCT", "GMT", "ZULU", "UNIVERSAL"})


def today_in(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def days_left(due: date, zone: str, now: datetime) -> int:
    """Whole days from today (in the controller's zone) to the due date: 0 on the day itself, negative after."""
    return (due - today_in(zone, now)).days


@dataclass(frozen=True)
class Clock:
    # running | due_soon (7 days or fewer) | overdue | paused | answered_in_time | answered_late | no_deadline (a
    # request recorded as not a GDPR request: Art. 12(3) does not apply; ``due`` and ``days_left`` mean nothing then)
    state: str
    due: date
    days_left: int  # negative when overdue; while paused, the days that were left on the day it stopped
    paused_since: date | None = None

    def describe(self) -> str:
        if self.state == "no_deadline":
            return NO_DEADLINE
        if self.state == "paused":
            left = f"{self.days_left} day{'s' if self.days_left != 1 else ''}"
            return (f"paused since {self.paused_since.isoformat() if self.paused_since else '?'} waiting for the "
                    f"identity information asked for (Art. 12(6)); {left} left when it arrives")  # fmt: skip
        if self.state == "answered_in_time":
            return f"answered in time (due {self.due.isoformat()})"
        if self.state == "answered_late":
            return f"answered late (was due {self.due.isoformat()})"
        if self.state == "overdue":
            late = -self.days_left
            return f"OVERDUE by {late} day{'s' if late != 1 else ''} (was due {self.due.isoformat()})"
        if self.days_left == 0:
            return f"due today ({self.due.isoformat()})"
        return f"{self.days_left} day{'s' if self.days_left != 1 else ''} left (due {self.due.isoformat()})"


SOON_DAYS = 7
NO_DEADLINE = "not a data subject request: no GDPR deadline"


def clock(
    due: date, zone: str, now: datetime, answered: date | None = None, paused_since: date | None = None
) -> Clock:
    """Where the clock stands at ``now``; ``paused_since``: the day more information was asked for, still awaited."""
    if answered is not None:
        return Clock("answered_in_time" if answered <= due else "answered_late", due, (due - answered).days)
    if paused_since is not None:
        return Clock("paused", due, (due - paused_since).days, paused_since)
    left = days_left(due, zone, now)
    state = "overdue" if left < 0 else ("due_soon" if left <= SOON_DAYS else "running")
    return Clock(state, due, left)
