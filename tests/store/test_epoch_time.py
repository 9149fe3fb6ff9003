"""Resource times as microseconds since 1970 UTC (decision 0033): exact to the microsecond, in time order, read
back as the naive UTC datetime SQLAlchemy's text gave, and text from before the migration still read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.store.epoch_time import EpochMicros, from_micros, to_micros

MOMENTS = [
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 12, 1, 7, 15, 32, 123_456, tzinfo=UTC),
    datetime(2026, 12, 1, 7, 15, 32, 123_457, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


def test_times_round_trip_exactly_and_keep_their_order() -> None:
    numbers = [to_micros(moment) for moment in MOMENTS]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert [from_micros(number) for number in numbers] == [moment.replace(tzinfo=None) for moment in MOMENTS]


def test_an_offset_is_converted_to_utc_and_a_naive_time_is_utc() -> None:
    berlin = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    noon = to_micros(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    assert to_micros(berlin) == noon == to_micros(datetime(2026, 6, 1, 12))


def test_the_column_type_reads_numbers_and_the_text_written_before() -> None:
    read = EpochMicros().result_processor(None, None)  # type: ignore[arg-type]  # the processor needs no dialect
    moment = datetime(2026, 6, 1, 0, 0, 0, 5)
    assert read(to_micros(moment)) == moment
    assert read("2026-06-01 00:00:00.000005") == moment  # SQLAlchemy's DATETIME text
    assert read("2026-06-01 02:00:00.000005+02:00") == moment  # the sqlite3 adapter's, with an offset
    assert read(None) is None
