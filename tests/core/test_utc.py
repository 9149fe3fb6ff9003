"""Times as the vault hands them back (naive, UTC) and as Custos states them (naming UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.core.utc import as_utc, utc_text

PARIS_WINTER = timezone(timedelta(hours=1))


def test_a_naive_time_from_the_vault_is_utc_whatever_the_machine_zone(monkeypatch: object) -> None:
    import os
    import time

    monkeypatch.setenv("TZ", "Pacific/Auckland")  # type: ignore[attr-defined]
    time.tzset()
    try:
        assert os.environ["TZ"] == "Pacific/Auckland"
        stored = datetime(2026, 12, 2, 9, 30)
        assert as_utc(stored) == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
        assert utc_text(stored) == "2026-12-02 09:30 UTC"  # astimezone() on it would have read it as Auckland time
    finally:
        monkeypatch.undo()  # type: ignore[attr-defined]
        time.tzset()


def test_an_aware_time_is_brought_to_utc_and_said_so() -> None:
    moment = datetime(2026, 12, 2, 10, 30, 15, tzinfo=PARIS_WINTER)
    assert utc_text(moment) == "2026-12-02 09:30 UTC"
    assert utc_text(moment, seconds=True) == "2026-12-02 09:30:15 UTC"
    assert as_utc(None) is None
