"""The Overview's charts say what their bars count: erasures requested and erasures closed are different things
counted on the same day, so they stand side by side; stacked, two erasures read 'tallest bar: 4 in a day'."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot

from app.audit.timeseries import TimeSeries
from app.ui.charts import StackedBarChart, slot_text
from app.ui.dashboard import DashboardView

DAY = timedelta(days=1)
START = datetime(2026, 11, 3, tzinfo=UTC)


def _two_erasures() -> TimeSeries:
    """Two erasures requested and both closed on the same day."""
    return TimeSeries(START, DAY, {"requested": [0] * 29 + [2], "closed": [0] * 29 + [2]})


def test_the_erasures_chart_does_not_add_requests_to_closures(qtbot: QtBot) -> None:
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    chart = view.erasures_chart
    chart.set_series(_two_erasures(), "Erasures per day, last 30 days")
    assert chart.scale_text() == "tallest bar: 2 in a day"
    assert not chart.grab().isNull()  # painted side by side


def test_parts_of_one_whole_still_stack(qtbot: QtBot) -> None:
    chart = StackedBarChart("SCIM requests per hour")
    qtbot.addWidget(chart)
    chart.resize(480, 160)
    chart.set_series(TimeSeries(START, timedelta(hours=1), {"served": [5, 1], "refused": [2, 0]}), "requests")
    assert chart.scale_text() == "tallest bar: 7 in an hour"
    assert not chart.grab().isNull()


def test_the_times_under_the_bars_name_their_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: "02 Dec 13:00" and "Mon 30 Nov", bare local times; in New York the UTC day starting on 1 December
    (how erasures are counted) was called Monday 30 November."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert slot_text(datetime(2026, 12, 1, tzinfo=UTC), DAY) == "Tue 01 Dec UTC"
        assert slot_text(datetime(2026, 12, 2, 18, tzinfo=UTC), timedelta(hours=1)) == "02 Dec 13:00 EST"
    finally:
        monkeypatch.undo()
        time.tzset()
