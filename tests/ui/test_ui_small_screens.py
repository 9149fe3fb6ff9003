"""Small screens (issue 14 §7): the Incidents clock readable at 640×480, and the SCIM endpoint panel collapsible
(remembered) so that "Outside the policy" shows its rows at 200 % (960×540 logical pixels)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QThreadPool
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.core.actor import current_actor
from app.core.events import EventBus
from app.directory.errors import ScimError
from app.incidents.register import IncidentRegister
from app.scim.server import ScimServer
from app.scim.service import ScimService
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.incidents.view import CLOCK
from app.ui.main_window import MainWindow, opening_size
from app.ui.outside_policy.view import OutsidePolicyPage
from tests.entra_support import entra_default_user

ROOT = Path(__file__).resolve().parents[2]


def settle(qtbot: QtBot) -> None:
    for _ in range(3):
        QThreadPool.globalInstance().waitForDone(10_000)
        qtbot.wait(50)


def refuse_entra_defaults(vault: Vault, count: int) -> None:
    """Entra ID's default users, refused by the shipped policy as at the endpoint: rows of "Outside the policy"."""
    service = ScimService(vault, "https://localhost/scim/v2")
    marker = current_actor.set("token:Microsoft Entra ID")
    try:
        for index in range(count):
            with contextlib.suppress(ScimError):
                service.create("User", entra_default_user(index))
    finally:
        current_actor.reset(marker)
        service.close()


def make_window(vault: Vault, data_dir: Path, qtbot: QtBot) -> MainWindow:
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)  # a real fingerprint
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(vault: Vault, data_dir: Path, qtbot: QtBot) -> Iterator[MainWindow]:
    main = make_window(vault, data_dir, qtbot)
    yield main
    main.shutdown()


def full_rows(table: QTableView) -> int:
    """Rows drawn whole in the table's viewport."""
    height = table.verticalHeader().defaultSectionSize()
    return table.viewport().height() // height if table.model().rowCount() else 0


# -- Incidents at 640×480 -----------------------------------------------------------------------------------
def test_at_640_by_480_the_incident_clock_is_on_screen_and_whole(
    window: MainWindow, vault: Vault, qtbot: QtBot
) -> None:
    """Before: the clock was the seventh column, off-screen to the right, under a table one row high."""
    register = IncidentRegister(vault)
    aware = register.open_incident("Laptop with a mirror copy reported stolen", "dpo")
    register.set_aware(aware, "dpo", "Theft confirmed by the police report")
    register.open_candidate_from_alert(0, "auth_failures", "25 failed authentications within 5 min")
    assert not window.server_panel.collapsed  # as a new user sees it
    window.resize(640, 480)
    window.pages.setCurrentWidget(window.incidents_page)
    settle(qtbot)
    assert window.size().toTuple() == (640, 480)
    page = window.incidents_page
    table = page.table
    viewport = table.viewport().rect()
    for row in range(table.rowCount()):
        if table.visualItemRect(table.item(row, 0)).bottom() > viewport.bottom():
            continue  # a row scrolled below: its clock is as far left as this one's
        cell = table.item(row, CLOCK)
        rect = table.visualItemRect(cell)
        assert viewport.contains(rect), (row, rect.getRect(), viewport.getRect())
        needed = table.fontMetrics().horizontalAdvance(cell.text())
        assert rect.width() > needed, (cell.text(), rect.width(), needed)  # not elided
    assert table.visualItemRect(table.item(0, CLOCK)).bottom() <= viewport.bottom()  # the first row is whole
    texts = {table.item(row, CLOCK).text() for row in range(table.rowCount())}
    assert "not started (no awareness recorded)" in texts and any(text.endswith(" left") for text in texts)
    for button in page.findChildren(QToolButton):  # the commands: whole labels, or in the » menu
        if button.isVisible() and button.defaultAction() is not None and button.text():
            assert button.width() >= button.sizeHint().width(), button.text()


def test_every_incident_command_keeps_its_alt_key_even_in_the_overflow_menu(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(640, 480)
    window.pages.setCurrentWidget(window.incidents_page)
    settle(qtbot)
    page = window.incidents_page
    assert not page.communication_button.isVisible()  # at 640 px it waits in the » menu
    opened: list[str] = []
    page.run_dialog = lambda dialog: opened.append(dialog.windowTitle()) is not None and False
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)  # Open an incident…
    assert len(opened) == 1
    tips = [b.toolTip() for b in (page.open_button, page.communication_button)]
    assert tips == ["Open an incident… (Alt+O)", "Communication to data subjects… (Alt+C)"]


# -- the endpoint panel, collapsed and remembered ----------------------------------------------------------------
def test_collapsing_the_endpoint_panel_gives_outside_the_policy_its_rows_and_is_remembered(
    vault: Vault, data_dir: Path, qtbot: QtBot
) -> None:
    refuse_entra_defaults(vault, 12)
    window = make_window(vault, data_dir, qtbot)
    window.resize(960, 540)  # 1920×1080 at 200 %
    window.pages.setCurrentWidget(window.outside_page)
    settle(qtbot)
    table = window.outside_page.table
    assert table.model().rowCount() >= 7
    expanded = full_rows(table)

    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot)
    collapsed = full_rows(table)
    panel = window.server_panel
    assert panel.collapsed and not panel.details.isVisible() and panel.compact.isVisible()
    assert panel.compact.text().startswith("Stopped · ") and "per minute" in panel.compact.text()
    assert not window.endpoint_details_action.isChecked()
    # Expanded, the page keeps three rows and scrolls to its Decide box (it used to squash both, test below);
    # collapsed, the rows get the room.
    assert expanded >= 3 and collapsed >= 4 and collapsed > expanded, (expanded, collapsed)
    window.shutdown()

    again = make_window(vault, data_dir, qtbot)  # the next start: as it was left
    try:
        assert again.server_panel.collapsed and not again.endpoint_details_action.isChecked()
        again.server_panel.collapse_button.click()
        assert not again.server_panel.collapsed and again.server_panel.details.isVisible()
    finally:
        again.shutdown()
    third = make_window(vault, data_dir, qtbot)
    try:
        assert not third.server_panel.collapsed
    finally:
        third.shutdown()


_AT_200 = """
import contextlib, json, sys
from pathlib import Path
from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QApplication
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.main_window import MainWindow, opening_size
from app.ui.outside_policy.view import OutsidePolicyPage
from tests.ui.test_ui_small_screens import refuse_entra_defaults

app = QApplication(sys.argv[:1])
folder = Path(sys.argv[1])
QSettings("Custos", "Custos").setValue("layout/endpoint_panel_collapsed", sys.argv[2] == "collapsed")
vault = Vault.create(folder, "a passphrase for the scaled run", "a passphrase for the scaled run")
refuse_entra_defaults(vault, 12)
bus, tokens = EventBus(), TokenStore(vault)
window = MainWindow(vault, ScimServer(vault, tls=ensure_self_signed(folder), bus=bus, tokens=tokens), bus, tokens)
window.resize(960, 540)
window.show()
window.pages.setCurrentWidget(window.outside_page)
for _ in range(5):
    QThreadPool.globalInstance().waitForDone(10_000)
    app.processEvents()
table = window.outside_page.table
print(json.dumps({"ratio": window.devicePixelRatio(), "rows": table.model().rowCount(),
                  "full": table.viewport().height() // table.verticalHeader().defaultSectionSize()}))
window.shutdown()
QThreadPool.globalInstance().waitForDone()
vault.close()
"""


def test_at_200_percent_outside_the_policy_shows_its_rows_once_the_panel_is_collapsed(tmp_path: Path) -> None:
    """In a Python started with QT_SCALE_FACTOR=2, as on a 1920×1080 screen at 200 %: before, 1–2 rows."""
    seen = {}
    for state in ("expanded", "collapsed"):
        folder = tmp_path / state
        folder.mkdir(mode=0o700)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("QT_", "CUSTOS_"))}
        env |= {
            "QT_QPA_PLATFORM": "offscreen",
            "QT_SCALE_FACTOR": "2",
            "XDG_CONFIG_HOME": str(tmp_path / f"config-{state}"),  # never the developer's settings
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "ui")]),
        }
        done = subprocess.run(
            [sys.executable, "-c", _AT_200, str(folder), state],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        seen[state] = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["collapsed"]["ratio"] == 2 and seen["collapsed"]["rows"] >= 7
    assert seen["expanded"]["full"] >= 3 and seen["collapsed"]["full"] >= 4, seen
    assert seen["collapsed"]["full"] > seen["expanded"]["full"], seen


def test_tab_reaches_the_incident_commands(window: MainWindow, qtbot: QtBot) -> None:
    window.pages.setCurrentWidget(window.incidents_page)
    settle(qtbot)
    page = window.incidents_page
    assert page.open_button.focusPolicy() & Qt.FocusPolicy.TabFocus
    page.open_button.setFocus()
    opened: list[str] = []
    page.run_dialog = lambda dialog: opened.append(dialog.windowTitle()) is not None and False
    qtbot.keyClick(page.open_button, Qt.Key.Key_Space)
    assert len(opened) == 1


# -- Outside the policy at 640×480, the endpoint panel expanded -------------------------------------------------
def squashed(page: OutsidePolicyPage) -> list[str]:
    """The page's controls drawn smaller than they need (buttons cut in half, a label cut off), by name."""
    found = []
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page) or not isinstance(widget, QPushButton | QComboBox | QLabel):
            continue
        hint = widget.sizeHint()
        wraps = isinstance(widget, QLabel) and widget.wordWrap()
        if wraps:  # as many lines as its width needs
            hint.setHeight(widget.heightForWidth(widget.width()))
        if widget.height() < hint.height() or (isinstance(widget, QLabel) and not wraps
                                               and widget.width() < hint.width()):  # fmt: skip
            name = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            found.append(f"{type(widget).__name__} {name!r} {widget.size().toTuple()} < {hint.toTuple()}")
    if page.instruction.height() < page.instruction.minimumHeight():
        found.append(f"instruction {page.instruction.height()} px")
    body = page.scroll_area.widget()  # and nothing past the end of the page, where no scrolling reaches
    bottom = page.instruction.mapTo(body, QPoint(0, page.instruction.height())).y()
    if bottom > body.height():
        found.append(f"instruction ends at {bottom} px, the page at {body.height()} px")
    return found


def test_at_640_by_480_with_the_endpoint_panel_open_outside_the_policy_keeps_every_control_whole(
    vault: Vault, data_dir: Path, qtbot: QtBot
) -> None:
    """Before: the Decide box squashed to a third of its height (buttons cut in half, "ask the IdP to stop send"),
    the table one row. Now the page scrolls, and Tab brings each control into view."""
    refuse_entra_defaults(vault, 12)
    window = make_window(vault, data_dir, qtbot)
    try:
        assert not window.server_panel.collapsed  # as a new user sees it
        window.resize(640, 480)
        window.pages.setCurrentWidget(window.outside_page)
        settle(qtbot)
        assert window.size().toTuple() == (640, 480)
        page = window.outside_page
        assert squashed(page) == []
        assert full_rows(page.table) >= 3
        assert page.scroll_area.verticalScrollBar().maximum() > 0  # the rest is a scroll away, not cut
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        page.table.setFocus()
        for _ in range(12):  # Tab on from the table: each control scrolls into view as it gets the focus
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            focused = QApplication.focusWidget()
            if focused is page.copy_button:
                break
        assert QApplication.focusWidget() is page.copy_button
        assert page.copy_button.visibleRegion().boundingRect() == page.copy_button.rect()
    finally:
        window.shutdown()


_OUTSIDE_AT_200 = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.main_window import MainWindow, opening_size
from app.ui.outside_policy.view import OutsidePolicyPage
from tests.ui.test_ui_small_screens import full_rows, refuse_entra_defaults, squashed

app = QApplication(sys.argv[:1])
folder = Path(sys.argv[1])
vault = Vault.create(folder, "a passphrase for the scaled run", "a passphrase for the scaled run")
refuse_entra_defaults(vault, 12)
bus, tokens = EventBus(), TokenStore(vault)
window = MainWindow(vault, ScimServer(vault, tls=ensure_self_signed(folder), bus=bus, tokens=tokens), bus, tokens)
seen = {"ratio": window.devicePixelRatio()}
window.show()
window.pages.setCurrentWidget(window.outside_page)
for size in ((640, 480), (960, 540)):
    window.resize(*size)
    for _ in range(5):
        QThreadPool.globalInstance().waitForDone(10_000)
        app.processEvents()
    page = window.outside_page
    seen[f"{size[0]}x{size[1]}"] = {"squashed": squashed(page), "rows": full_rows(page.table),
                                    "size": window.size().toTuple()}
print(json.dumps(seen))
window.shutdown()
QThreadPool.globalInstance().waitForDone()
vault.close()
"""


def test_at_200_percent_outside_the_policy_with_the_panel_open_keeps_every_control_whole(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("QT_", "CUSTOS_"))}
    env |= {"QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2", "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "ui")])}  # fmt: skip
    folder = tmp_path / "vault"
    folder.mkdir(mode=0o700)
    done = subprocess.run([sys.executable, "-c", _OUTSIDE_AT_200, str(folder)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ratio"] == 2
    for size in ("640x480", "960x540"):
        assert seen[size]["squashed"] == [] and seen[size]["rows"] >= 3, seen


# -- every page at 640×480, the endpoint panel open ---------------------------------------------------------------
def test_at_640_by_480_every_page_gets_its_minimum_size_and_the_window_scrolls_to_the_rest(
    window: MainWindow, qtbot: QtBot
) -> None:
    """Before: the window's 640×480 minimum was set by hand and overrode its layout's (695×514): the Audit trail's
    filter row cut the Subject field off at the right, and Policy, Targets and Requests were squeezed below their
    minimum height (tables with no row, the request's details cut)."""
    assert not window.server_panel.collapsed
    window.resize(640, 480)
    settle(qtbot)
    for index in range(window.pages.count()):
        window.pages.setCurrentIndex(index)
        settle(qtbot)
        page = window.pages.widget(index)
        minimum = page.minimumSizeHint()
        assert page.width() >= minimum.width() and page.height() >= minimum.height(), (
            window.pages.tabText(index), page.size().toTuple(), minimum.toTuple())  # fmt: skip
    area = window.centralWidget()
    assert isinstance(area, QScrollArea) and area.verticalScrollBar().maximum() > 0  # a scroll away, not cut
    assert area.horizontalScrollBar().maximum() == 0  # every page fits 640 px wide
    assert not area.focusPolicy() & Qt.FocusPolicy.TabFocus  # no extra Tab stop: Tab brings the fields into view


def test_the_audit_filters_wrap_rather_than_cut_the_subject_field(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(640, 480)
    window.pages.setCurrentWidget(window.audit_page)
    settle(qtbot)
    page = window.audit_page
    assert page.width() < window.width()  # before: 673 px, past the window's right edge
    subject = QRect(page.subject.mapTo(page, QPoint(0, 0)), page.subject.size())
    assert page.rect().contains(subject), (subject.getRect(), page.rect().getRect())
    assert page.subject.width() >= page.subject.minimumWidth()
    window.resize(1100, 750)
    settle(qtbot)
    assert page.subject.parentWidget().y() == page.kind.parentWidget().y()  # wide: one line again


def test_the_window_opens_within_a_small_screen(window: MainWindow) -> None:
    """Before: 1100×750 whatever the screen, so on a 640×480 one the tabs and the status bar were off-screen."""
    assert opening_size(QSize(640, 480)) == QSize(640, 480)
    assert opening_size(QSize(1920, 1080)) == QSize(1100, 750)
    available = window.screen().availableGeometry().size()
    assert window.width() <= available.width() and window.height() <= available.height()


def squeezed(page: QWidget) -> list[str]:
    """Visible boxes given less height than their layout needs: their children are drawn over one another."""
    return [
        f"{type(widget).__name__} {widget.size().toTuple()} < {widget.minimumSizeHint().toTuple()}"
        for widget in page.findChildren(QWidget)
        if widget.isVisibleTo(page)
        and widget.layout() is not None
        and not widget.objectName().startswith("qt_scrollarea")  # a scroll bar's own parts
        and widget.height() < widget.minimumSizeHint().height()
    ]


def test_at_640_by_480_no_page_draws_its_controls_over_one_another(window: MainWindow, qtbot: QtBot) -> None:
    """Before: the Policy page's header wrapped to five lines beside its buttons, the layout counted two, and the
    Version history box lost the difference: Show the text and Compare were drawn over the history's row."""
    window.resize(640, 480)
    for index in range(window.pages.count()):
        window.pages.setCurrentIndex(index)
        settle(qtbot)
        assert squeezed(window.pages.widget(index)) == [], window.pages.tabText(index)
    page = window.policy_page
    history = QRect(page.history_table.mapTo(page, QPoint(0, 0)), page.history_table.size())
    compare = QRect(page.compare_button.mapTo(page, QPoint(0, 0)), page.compare_button.size())
    assert not history.intersects(compare)


# -- the first-run assistant on a 640×480 screen --------------------------------------------------------------------
_ASSISTANT_AT_640 = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app.ui.first_run.wizard import FirstRunWizard

app = QApplication(sys.argv[:1])
wizard = FirstRunWizard(Path(sys.argv[1]), "dpo")
wizard.show()
sizes = {}
for page_id in wizard.pageIds():
    wizard.setStartId(page_id)
    wizard.restart()
    for _ in range(3):
        app.processEvents()
    sizes[wizard.currentPage().title()] = wizard.minimumSize().expandedTo(wizard.size()).toTuple()
screen = wizard.screen().availableGeometry()
print(json.dumps({"screen": [screen.width(), screen.height()], "sizes": sizes}))
"""


def on_a_640_by_480_screen(script: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run ``script`` in a Python whose Qt sees one 640×480 screen (offscreen); its last line of output is JSON."""
    return on_a_screen(script, tmp_path, (640, 480), *args)


def on_a_screen(script: str, tmp_path: Path, size: tuple[int, int], *args: str) -> dict[str, Any]:
    """Run ``script`` in a Python whose Qt sees one screen of ``size`` (offscreen); its last line of output is JSON."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "small", "x": 0, "y": 0, "width": size[0], "height": size[1],
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    env = {key: value for key, value in os.environ.items() if not key.startswith(("QT_", "CUSTOS_"))}
    env |= {"QT_QPA_PLATFORM": f"offscreen:configfile={config}", "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "ui")])}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_first_run_assistant_fits_a_640_by_480_screen(tmp_path: Path) -> None:
    """Before: the endpoint page made the assistant 505 px tall, so on a 640×480 screen Back and Next were below
    its edge. Now a page's questions scroll where the screen is short (in a Qt started on a 640×480 screen)."""
    folder = tmp_path / "empty"
    folder.mkdir(mode=0o700)
    seen = on_a_640_by_480_screen(_ASSISTANT_AT_640, tmp_path, str(folder))
    assert seen["screen"] == [640, 480]
    too_big = {title: size for title, size in seen["sizes"].items() if size[0] > 640 or size[1] > 440}
    assert too_big == {}, seen  # 440: room left for the window's title bar


_NEW_REQUEST_AT_640 = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication, QScrollArea
from app.services.dsr import DsrRegister
from app.store.vault import Vault
from app.ui.requests.intake import NewRequestDialog

app = QApplication(sys.argv[:1])
vault = Vault.create(Path(sys.argv[1]), "a passphrase for the small screen", "a passphrase for the small screen")
dialog = NewRequestDialog(DsrRegister(vault))
dialog.show()
for _ in range(3):
    app.processEvents()
form = dialog.findChild(QScrollArea)
print(json.dumps({"size": dialog.size().toTuple(), "sideways": form.horizontalScrollBar().maximum(),
                  "received": dialog.received.displayFormat()}))
dialog.close()
vault.close()
"""


def test_a_new_request_shows_every_right_on_a_640_by_480_screen(tmp_path: Path) -> None:
    """Before: the dialog opened two thirds of the screen wide (426 px) and the rights' second column
    (Rectification, Restriction, Objection) was behind a horizontal scroll bar; the received time had no zone."""
    folder = tmp_path / "vault"
    folder.mkdir(mode=0o700)
    seen = on_a_640_by_480_screen(_NEW_REQUEST_AT_640, tmp_path, str(folder))
    assert seen["sideways"] == 0 and seen["size"][0] <= 640 and seen["size"][1] <= 480, seen
    assert seen["received"] == "yyyy-MM-dd HH:mm t"  # the zone is shown


_DIALOGS_AT_640 = """
import json, sys
from PySide6.QtWidgets import QApplication
from app.core.log_buffer import RecentLogRecords
from app.policy.loader import load_policy
from app.policy.versions import default_policy_text
from app.ui.help import AboutDialog, UserGuideDialog
from app.ui.log_view import LogViewDialog
from app.ui.targets.dialog import TargetDialog

app = QApplication(sys.argv[:1])
sizes = {}
for dialog in (TargetDialog(load_policy(default_policy_text())), LogViewDialog(RecentLogRecords()), AboutDialog(),
               UserGuideDialog()):
    dialog.show()
    for _ in range(3):
        app.processEvents()
    sizes[type(dialog).__name__] = dialog.size().toTuple()
    dialog.close()
print(json.dumps(sizes))
"""


def test_dialogs_open_within_a_640_by_480_screen(tmp_path: Path) -> None:
    """Before: a target's dialog had a fixed 720 px minimum and the log and user guide opened at 900×520, their
    right-hand columns and buttons beyond the screen's edges."""
    sizes = on_a_640_by_480_screen(_DIALOGS_AT_640, tmp_path)
    assert {name: size for name, size in sizes.items() if size[0] > 640 or size[1] > 480} == {}, sizes


def test_at_640_by_480_a_full_audit_verdict_is_whole_and_the_page_fits(
    window: MainWindow, vault: Vault, qtbot: QtBot
) -> None:
    """The verdict (root, checked at, entries and times covered) sat beside the page's buttons: its long words
    widened the page past the window (the buttons cut at the right edge, a horizontal scroll bar) and it was cut
    after two lines."""
    from app.ui.audit.view import trail_verdict

    window.resize(640, 480)
    window.pages.setCurrentWidget(window.audit_page)
    settle(qtbot)
    with vault.read_connection() as conn:
        verdict = trail_verdict(conn)
    assert "Covered:" in verdict  # the verdict as the Verify button writes it
    window.audit_page.verdict.setText(verdict)
    settle(qtbot)
    area = window.centralWidget()
    assert isinstance(area, QScrollArea) and area.horizontalScrollBar().maximum() == 0
    label = window.audit_page.verdict
    assert label.height() >= label.heightForWidth(label.width())  # every line of it shown
    assert window.audit_page.bundle_button.geometry().right() <= window.audit_page.width()
