"""Tray notifications (issue 14 §6): alerts and deadlines as rate-limited notices without personal data; a click
opens the page; Settings switches them off. The offscreen platform has no tray, so the icon's showMessage is
recorded instead of drawn; everything else is the real window, bus, bridge and vault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from app.core.events import AlertRaised
from app.incidents.register import IncidentRegister
from app.scim.server import ScimServer
from app.ui import settings
from app.ui.main_window import MainWindow
from tests.dsr.dsr_support import Clock

Shown = list[tuple[str, str, QSystemTrayIcon.MessageIcon]]


def recorded(window: MainWindow, start: datetime) -> tuple[Shown, Clock]:
    shown: Shown = []
    window.tray.icon.showMessage = lambda title, text, icon, _ms: shown.append((title, text, icon))  # type: ignore[method-assign]
    clock = Clock(start)
    window.notifier.clock = clock
    return shown, clock


def test_alerts_are_rate_limited_notices_and_a_click_opens_their_page(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, server = running
    shown, clock = recorded(window, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    for n in range(30):  # a flood of failed authentications: one notice now, the rest folded
        server.bus.publish(AlertRaised(n + 1, "auth_failures", 21 + n, f"jane.doe@example.org {n}", 20, 5))
    server.bus.publish(AlertRaised(99, "schema_rejections", 12, "12 …", 10, 60, configuration=True))
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=5000)
    (title, text, icon), (config_title, config_text, _icon) = shown
    assert title == "Custos: alert" and text.startswith("21 authentication failures within 5 min (threshold 20).")
    assert icon == QSystemTrayIcon.MessageIcon.Information
    assert config_title == "Custos: data outside the policy" and "nothing was stored" in config_text
    assert all("jane" not in t + x for t, x, _i in shown)
    window.tray.icon.messageClicked.emit()  # the last notice: the configuration alert
    assert window.pages.currentWidget() is window.outside_page and window.isVisible()
    window.notifier.flush()
    assert len(shown) == 2  # the interval has not ended
    clock.advance(minutes=5)
    window.notifier.flush()
    assert len(shown) == 3 and shown[2][0] == "Custos: alert (29)"
    assert shown[2][1].startswith("29 operator alerts since ") and "50 authentication failures" in shown[2][1]
    window.tray.icon.messageClicked.emit()
    assert window.pages.currentWidget() is window.incidents_page


def test_a_breach_clock_is_said_once_and_notices_can_be_switched_off(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, _server = running
    now = datetime.now(UTC)
    register = IncidentRegister(window.vault)
    incident = register.open_incident("Misdirected payslips of Ottoline", "dpo", detected_at=now - timedelta(hours=51))
    register.set_aware(incident, "dpo", "confirmed by the recipient", at=now - timedelta(hours=50))
    shown, clock = recorded(window, now)
    window.notifier.check_deadlines()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    title, text, _icon = shown[0]
    assert title == "Custos: 72-hour clock running out" and text.startswith(f"Incident #{incident}: 2")
    assert "min left (deadline" in text
    assert "Ottoline" not in text
    window.notifier.check_deadlines()  # the same level again: nothing new
    clock.advance(hours=23)
    window.notifier.check_deadlines()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=5000)
    assert shown[1][0] == "Custos: breach notification overdue" and shown[1][2] == QSystemTrayIcon.MessageIcon.Warning
    window.pages.setCurrentWidget(window.overview_page)
    window.tray.icon.messageClicked.emit()
    assert window.pages.currentWidget() is window.incidents_page

    window.open_settings()
    dialog = window.settings_dialog
    assert dialog is not None and dialog.notifications.isChecked()
    dialog.notifications.setChecked(False)
    dialog.buttons.accepted.emit()
    assert settings.notifications_enabled() is False
    window.notifier.alert(AlertRaised(5, "auth_failures", 40, "", 20, 5))
    clock.advance(hours=30)
    window.notifier.flush()
    window.notifier.check_deadlines()  # not even read while off
    qtbot.wait(200)
    assert len(shown) == 2


def test_without_a_tray_a_notice_is_said_in_the_status_bar(running: tuple[MainWindow, ScimServer]) -> None:
    window, _server = running
    shown, _clock = recorded(window, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    window.tray.available = lambda: False
    window.notifier.alert(AlertRaised(4, "mass_deprovisioning", 120, "", 100, 10))
    assert len(shown) == 1
    assert window.statusBar().currentMessage() == (
        "Custos: alert: 120 SCIM deletes within 10 min (threshold 100)."
    )
