"""Tray notifications (issue 14 §6): alerts and deadlines as rate-limited notices without personal data; a click
opens the page; Settings switches them off. The offscreen platform has no tray, so the icon's showMessage is
recorded instead of drawn; everything else is the real window, bus, bridge and vault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QTableWidget
from pytestqt.qtbot import QtBot

from app.core.events import AlertRaised
from app.dsr.register import DsrRegister
from app.dsr.retention import purge_expired
from app.incidents.register import IncidentRegister
from app.notices.notice import REQUEST_DEADLINE, Notice
from app.scim.server import ScimServer
from app.ui import settings
from app.ui.main_window import MainWindow
from tests.dsr.dsr_support import Clock, in_england

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


def _in_view(table: QTableWidget, row: int) -> bool:
    cell = table.visualItemRect(table.item(row, 0))
    return table.viewport().rect().contains(cell.center())


def _selected_row(table: QTableWidget) -> int | None:
    rows = table.selectionModel().selectedRows()
    return rows[0].row() if rows else None


def test_a_breach_clock_notice_click_selects_its_incident_and_says_when_it_was_closed(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    """The page alone left the DPO on another incident (the one selected before, or the newest): the click now
    selects, scrolls to, shows and focuses the incident the notice names."""
    window, _server = running
    now = datetime.now(UTC)
    register = IncidentRegister(window.vault)
    late = register.open_incident("Misdirected payslips", "dpo", detected_at=now - timedelta(hours=51))
    register.set_aware(late, "dpo", "confirmed by the recipient", at=now - timedelta(hours=50))
    for n in range(30):  # newer incidents: the late one is the last row, out of view
        register.open_incident(f"Lost badge {n}", "dpo")
    page = window.incidents_page
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 31, timeout=5000)
    page.table.selectRow(3)  # the DPO was looking at another incident
    late_row = next(r for r in range(31) if page.table.item(r, 0).text() == str(late))
    assert not _in_view(page.table, late_row)
    shown, _clock = recorded(window, now)
    window.notifier.check_deadlines()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    window.pages.setCurrentWidget(window.overview_page)
    window.tray.icon.messageClicked.emit()

    assert window.pages.currentWidget() is page
    qtbot.waitUntil(lambda: _selected_row(page.table) == late_row, timeout=5000)
    assert page.table.currentRow() == late_row and _in_view(page.table, late_row)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.table, timeout=5000)
    assert "Aware because: confirmed by the recipient" in page.detail.toPlainText()

    # Closed between the notice and the click: still selected (it is in the register), and said plainly.
    register.assess(late, "dpo", "none", "payslips recovered unopened")
    register.close(late, "dpo", "recovered unopened: unlikely to result in a risk")
    page.table.selectRow(0)
    window.tray.icon.messageClicked.emit()
    qtbot.waitUntil(lambda: _selected_row(page.table) == late_row, timeout=5000)
    assert window.statusBar().currentMessage() == f"Incident #{late} has been closed since the notice."


def test_a_request_deadline_notice_click_selects_its_request_even_behind_a_filter_or_the_lock(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, _server = running
    now = datetime.now(UTC)
    in_england(window.vault)
    register = DsrRegister(window.vault)
    late = register.open(["erasure"], "form", "dpo", now - timedelta(days=40))
    for days in range(2, 22):  # requests with time left: they come after the overdue one
        register.open(["access"], "email", "dpo", now - timedelta(days=days))
    page = window.requests_page
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 21, timeout=5000)
    page.type_filter.setCurrentIndex(page.type_filter.findData("access"))  # the overdue erasure is filtered out
    page.table.selectRow(12)
    shown, _clock = recorded(window, now)
    window.notifier.check_deadlines()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert shown[0][0] == "Custos: request deadline passed"
    window.lock()
    window.tray.icon.messageClicked.emit()
    assert window.locked and window.pages.currentWidget() is page
    window.unlock()  # as the lock screen does once the passphrase is given

    qtbot.waitUntil(lambda: page._selected() is not None and page._selected().id == late, timeout=5000)
    assert page.type_filter.currentData() is None  # the filter that hid it was lifted
    row = page.table.currentRow()
    assert page.table.item(row, 0).text() == late and _in_view(page.table, row)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.table, timeout=5000)
    qtbot.waitUntil(lambda: page.detail.toPlainText().startswith(f"{late} — "), timeout=5000)

    # Answered, closed and deleted by retention before the click: the page opens and says so.
    register.refuse(late, "art17-3b", "payroll records kept by law", "dpo")
    register.record_answer(late, "dpo", now.date(), [])
    register.close(late, "dpo")
    assert purge_expired(window.vault, now + timedelta(days=4 * 366)) == [late]
    page.table.selectRow(3)
    window.tray.icon.messageClicked.emit()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == f"Request {late} is no longer in the register.",
                    timeout=5000)  # fmt: skip
    assert page._selected() is not None and page._selected().id != late


def test_a_folded_notice_opens_the_page_only(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    """Several notices folded into one name no request: the page opens and the DPO's selection stays."""
    window, _server = running
    in_england(window.vault)
    register = DsrRegister(window.vault)
    first, _second = (register.open(["access"], "email", "dpo") for _ in range(2))
    page = window.requests_page
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    page.table.selectRow(1)
    chosen = page._selected()
    window.pages.setCurrentWidget(window.overview_page)
    notice = Notice(REQUEST_DEADLINE, "Custos: request due soon", f"Request {first}: 3 d left", first)
    folded = notice.folding(2, "9:00")
    assert folded.reference == ""
    window.open_notice(folded)
    assert window.pages.currentWidget() is page
    qtbot.wait(300)
    assert page._selected() == chosen


def test_a_token_expiry_notice_click_selects_the_token_whose_expiry_nears(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    """Decision 0057: the identity provider using a token is refused once it expires. The notice says so ahead of
    time, a click selects the token on the Tokens page, and its Expires column says how soon."""
    window, _server = running
    tokens = window.tokens_page.tokens
    tokens.create("okta-staging", 90)
    info, _secret = tokens.create("entra-production", 30)
    assert info.expires is not None
    moment = info.expires - timedelta(days=6)
    shown, _clock = recorded(window, moment)
    window.tokens_page.clock = lambda: moment
    window.notifier.check_deadlines()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert shown[0][0] == "Custos: token expires soon" and shown[0][1].startswith("Token 'entra-production' expires")
    window.tray.icon.messageClicked.emit()
    page = window.tokens_page
    assert window.pages.currentWidget() is page

    def selected() -> str:
        rows = page.table.selectionModel().selectedRows()
        cell = page.table.item(rows[0].row(), 0) if rows else None
        return cell.text() if cell is not None else ""

    qtbot.waitUntil(lambda: selected() == "entra-production", timeout=5000)
    row = page.table.currentRow()
    assert page.table.item(row, 4).text().endswith("(expires in 6 days)")
    other = next(r for r in range(page.table.rowCount()) if page.table.item(r, 0).text() == "okta-staging")
    assert "(" not in page.table.item(other, 4).text()  # 66 days left: no warning
