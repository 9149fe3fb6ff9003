"""The status bar's messages at the default size and at 640×480: before, the permanent vault line left a notice a
third of the bar and cut it mid-word ("Custos: 72-hour clock running out: Incident ‡Vault: SQLCipher…"). Now the
vault line is brief (its details in its tooltip), and a message that still does not fit is elided to the room left,
whole in the tooltip and in View → Recent messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStatusBar
from pytestqt.qtbot import QtBot
from test_ui_small_screens import make_window

from app.incidents.register import IncidentRegister
from app.notices.notice import Notice
from app.store.vault import Vault
from app.ui.main_window import MainWindow


@pytest.fixture
def window(vault: Vault, data_dir: Path, qtbot: QtBot) -> Iterator[MainWindow]:
    main = make_window(vault, data_dir, qtbot)
    main.tray.available = lambda: False  # no tray: notices are said in the status bar (a bare X server, some desktops)
    main.tray.icon.showMessage = lambda *_args: None  # type: ignore[method-assign]
    yield main
    main.shutdown()


def breach_clock_notice(window: MainWindow, qtbot: QtBot) -> str:
    """A real 72-hour clock notice, as the notifier reads it from the register; returns what it says."""
    now = datetime.now(UTC)
    register = IncidentRegister(window.vault)
    incident = register.open_incident("Misdirected payslips", "dpo", detected_at=now - timedelta(hours=51))
    register.set_aware(incident, "dpo", "confirmed by the recipient", at=now - timedelta(hours=50))
    said: list[Notice] = []
    window.notifier.shown.connect(said.append)
    window.notifier.check_deadlines()
    qtbot.waitUntil(lambda: len(said) == 1, timeout=5000)
    notice = said[0]
    return f"{notice.title}: {notice.text}"


def drawn_within_its_room(window: MainWindow) -> None:
    bar: QStatusBar = window.statusBar()
    message = bar.currentMessage()
    needed = bar.fontMetrics().horizontalAdvance(message)
    room = window.vault_status.geometry().left() - 12  # QStatusBar draws 6 px in from each side
    assert needed <= room, (message, needed, room)


@pytest.mark.parametrize("size", [(1100, 750), (640, 480)])
def test_a_notice_in_the_status_bar_is_never_cut_by_the_vault_line(
    window: MainWindow, qtbot: QtBot, size: tuple[int, int]
) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size)
    whole = breach_clock_notice(window, qtbot)
    assert whole.startswith("Custos: 72-hour clock running out: Incident #") and "(Art. 33(1))" in whole
    bar = window.statusBar()
    drawn_within_its_room(window)
    shown = bar.currentMessage()
    if shown != whole:  # elided, never cut: the whole text is one hover and one click away
        assert shown.endswith("…") and whole.startswith(shown[:-1])
        assert bar.toolTip().startswith(f"<p>{escape(whole)}</p>")
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(20, bar.height() // 2))
        recent = window.status_line.dialog
        assert recent is not None and recent.isVisible()
        assert whole in recent.view.toPlainText()
        recent.close()
    assert window.vault_status.text().startswith("Vault: SQLCipher 4.")
    assert "256,000 iterations" in window.vault_status.toolTip()  # every setting SQLCipher reports, one hover away

    window.resize(size[0] + 300, size[1])  # wider: the same message, elided to the new room (or whole)
    qtbot.waitUntil(lambda: window.width() == size[0] + 300)
    drawn_within_its_room(window)
    assert len(bar.currentMessage()) >= len(shown)


def test_every_message_of_the_session_is_in_recent_messages(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(640, 480)
    whole = breach_clock_notice(window, qtbot)
    window.status_line.say("The endpoint moved: update the address in your identity provider.", 15_000)
    window.messages_action.trigger()
    recent = window.status_line.dialog
    assert recent is not None and recent.isVisible()
    lines = recent.view.toPlainText().splitlines()
    assert lines[0].endswith("The endpoint moved: update the address in your identity provider.")
    assert lines[1].endswith(whole)
    window.lock()  # a dialog is closed on lock, as every other
    assert not recent.isVisible()
