"""The bridge recognises events by their type from app/core/events.py, never by a class name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pytestqt.qtbot import QtBot

from app.core.events import AlertRaised, EventBus, PolicyApplied, RetentionPurged
from app.ui.bridge import EventBridge


@pytest.fixture
def bridge(qtbot: QtBot) -> Iterator[tuple[EventBus, EventBridge]]:
    bus = EventBus()
    bridge = EventBridge(bus, interval_ms=10)
    yield bus, bridge
    bridge.close()
    bridge.deleteLater()


def _from_another_thread(bus: EventBus, event: object) -> None:
    thread = threading.Thread(target=bus.publish, args=(event,))
    thread.start()
    thread.join()


def test_an_alert_reaches_the_gui_thread_and_a_look_alike_does_not(bridge, qtbot: QtBot) -> None:
    bus, events = bridge

    @dataclass(frozen=True)
    class AlertRaisedLookAlike:
        summary: str

    AlertRaisedLookAlike.__name__ = "AlertRaised"  # the old bridge matched on this string
    received: list[object] = []
    events.alert_raised.connect(received.append)
    _from_another_thread(bus, AlertRaisedLookAlike("not an alert"))
    real = AlertRaised(7, "mass_deletion", 120, "120 deletions in 5 minutes")
    _from_another_thread(bus, real)
    qtbot.waitUntil(lambda: len(received) >= 1)
    qtbot.wait(50)
    assert received == [real]


def test_purges_without_ids_tell_the_views_to_read_again(bridge, qtbot: QtBot) -> None:
    bus, events = bridge
    with qtbot.waitSignals([events.data_changed, events.data_changed], timeout=2000):
        _from_another_thread(bus, PolicyApplied(2, 5, 0))
        _from_another_thread(bus, RetentionPurged(1, 3))
