"""A resource's times stored as whole microseconds since 1970 UTC (decision 0033).

SQLAlchemy keeps a SQLite DATETIME as the text ``2026-12-01 07:15:32.123456``: 26 bytes, in the row and again in
each index on the column. A resource's created and lastModified times are in its row and in one sort index each,
so at 10,000 users the text took about 72 bytes a user where an 8-byte integer takes 32. The integer orders as the
time does (the sort and range filters on meta.created / meta.lastModified read the same indexes), and it is exact:
a microsecond is what the text held.

Python sees what it saw before: a naive datetime in UTC (SQLite's DATETIME kept no offset; every writer passes
UTC). A value read back as text (a row written by hand, in a test) is parsed as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = EPOCH.replace(tzinfo=None)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Whole microseconds since the epoch (a naive time is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The naive UTC datetime of a stored number."""
    return _NAIVE_EPOCH + timedelta(microseconds=micros)  # 0.4 µs, read twice for every row served


def _bound(value: Any) -> Any:
    return to_micros(value) if isinstance(value, datetime) else value


def _read(value: Any) -> Any:
    if isinstance(value, int):
        return from_micros(value)
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
    return value


class EpochMicros(TypeDecorator[datetime]):
    """A DATETIME column (so declared, as before: no table rebuilt) holding an integer; Python reads and binds
    ``datetime``. The processors replace DateTime's own (which would turn the number into text), not wrap them."""

    impl = DateTime
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _bound

    def literal_processor(self, dialect: Dialect) -> Callable[[Any], str]:
        return lambda value: "NULL" if value is None else str(int(_bound(value)))

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        return _read
