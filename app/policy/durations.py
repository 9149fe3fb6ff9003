"""Retention periods as a restricted ISO 8601 duration: ``P30D``, ``P6W``, ``P3M``, ``P1Y``, ``P1Y6M``.

Months and years are calendar months and years (a period that starts on 31 January and lasts one month ends on
the last day of February), which is how a retention schedule written by a lawyer is read.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_PATTERN = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Period:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PATTERN.match(text.strip().upper())
        if match is None or text.strip().upper() == "P":
            raise ValueError(f"'{text}' is not a period such as P30D, P6W, P3M or P1Y")
        years, months, weeks, days = (int(part or 0) for part in match.groups())
        return cls(years, months, weeks, days)

    def iso(self) -> str:
        parts = [(self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")]
        text = "".join(f"{n}{unit}" for n, unit in parts if n)
        return "P" + (text or "0D")

    def after(self, moment: datetime) -> datetime:
        """The moment this period after ``moment`` ends (calendar months and years)."""
        month_index = moment.month - 1 + self.months + 12 * self.years
        year, month = moment.year + month_index // 12, month_index % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + timedelta(weeks=self.weeks, days=self.days)

    def before(self, moment: datetime) -> datetime:
        """The earliest start from which this period has run out by ``moment`` (inverse of ``after``)."""
        shifted = moment - timedelta(weeks=self.weeks, days=self.days)
        month_index = shifted.month - 1 - self.months - 12 * self.years
        year, month = shifted.year + month_index // 12, month_index % 12 + 1
        day = min(shifted.day, calendar.monthrange(year, month)[1])
        return shifted.replace(year=year, month=month, day=day)

    def describe(self) -> str:
        names = [(self.years, "year"), (self.months, "month"), (self.weeks, "week"), (self.days, "day")]
        words = [f"{n} {name}{'s' if n != 1 else ''}" for n, name in names if n]
        return ", ".join(words) if words else "no time"

    def approx_days(self) -> int:
        return self.years * 365 + self.months * 30 + self.weeks * 7 + self.days
