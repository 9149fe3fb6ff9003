"""The in-app log view: earlier and new lines (from any thread), filters, copy, and no personal data anywhere."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.core.log_buffer import RecentLogRecords, install_log_capture, uninstall_log_capture
from app.ui.log_view import HEADERS, LogViewDialog, open_log_view

pytestmark = pytest.mark.ui

EMAIL = "mallory.private@example.org"
LOGGER = "app.tests.log_view"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    named = logging.getLogger(LOGGER)
    named.setLevel(logging.DEBUG)
    named.propagate = False
    yield named
    for handler in list(named.handlers):
        named.removeHandler(handler)
    named.propagate = True


@pytest.fixture
def records(logger: logging.Logger) -> RecentLogRecords:
    buffer = RecentLogRecords()
    logger.addHandler(buffer)
    return buffer


@pytest.fixture
def parent(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def log_from_thread(logger: logging.Logger, *lines: tuple[int, str]) -> None:
    def work() -> None:
        for level, text in lines:
            logger.log(level, "%s (from %s)", text, EMAIL)

    thread = threading.Thread(target=work, name="log-view-test-worker")
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def all_cells(dialog: LogViewDialog) -> list[str]:
    model = dialog.model
    cells = [str(model.headerData(c, Qt.Orientation.Horizontal)) for c in range(model.columnCount())]
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.EditRole):
                value = model.data(model.index(row, column), role)
                if value is not None:
                    cells.append(str(value))
    return cells


def messages(dialog: LogViewDialog) -> list[str]:
    proxy = dialog.proxy
    return [str(proxy.data(proxy.index(row, HEADERS.index("Message")))) for row in range(proxy.rowCount())]


def test_earlier_and_new_lines_from_any_thread(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.info("vault opened for %s", EMAIL)
    logger.warning("target okta-prod slow from 203.0.113.9")
    dialog = open_log_view(parent, records)
    assert dialog.isVisible() and dialog.windowTitle() == "Log" and not dialog.isModal()
    assert messages(dialog) == ["vault opened for <email>", "target okta-prod slow from <ip>"]
    assert [dialog.model.data(dialog.model.index(r, 1)) for r in range(2)] == ["INFO", "WARNING"]
    assert dialog.model.data(dialog.model.index(0, 2)) == LOGGER
    assert len(str(dialog.model.data(dialog.model.index(0, 0)))) == len("12:34:56")

    logger.error("on the GUI thread")
    log_from_thread(logger, (logging.INFO, "worker line"), (logging.ERROR, "worker failure"))
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 5)
    assert messages(dialog)[2:] == [
        "on the GUI thread",
        "worker line (from <email>)",
        "worker failure (from <email>)",
    ]
    assert dialog.count_label.text() == "5 lines"
    assert records.subscriber_count() == 1
    assert open_log_view(parent, records) is dialog  # View → Log again brings the open window forward
    assert records.subscriber_count() == 1
    dialog.close()


def test_filters_by_level_and_text(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.debug("debug detail")
    logger.info("user created")
    logger.warning("target okta-prod retrying")
    logger.error("target entra failed")
    dialog = open_log_view(parent, records)
    assert len(messages(dialog)) == 4

    dialog.level_combo.setCurrentIndex(dialog.level_combo.findText("Info and above"))
    assert messages(dialog) == ["user created", "target okta-prod retrying", "target entra failed"]
    dialog.level_combo.setCurrentIndex(dialog.level_combo.findText("Warnings and errors"))
    assert messages(dialog) == ["target okta-prod retrying", "target entra failed"]

    qtbot.keyClicks(dialog.filter_edit, "OKTA")
    assert messages(dialog) == ["target okta-prod retrying"]
    assert dialog.count_label.text() == "1 of 4 lines"

    logger.warning("okta again")  # new lines go through the same filters
    logger.info("okta but only info")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 6)
    assert messages(dialog) == ["target okta-prod retrying", "okta again"]

    dialog.filter_edit.setText(LOGGER.split(".")[-1])  # the source matches too
    assert len(messages(dialog)) == 3
    dialog.filter_edit.clear()
    dialog.level_combo.setCurrentIndex(dialog.level_combo.findText("All"))
    assert len(messages(dialog)) == 6
    dialog.close()


def test_copy_puts_only_the_visible_redacted_lines_on_the_clipboard(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.info("token %s created for %s", "cst_" + "A1b2-C3d4_" * 4, EMAIL)
    logger.warning("login from %s", "198.51.100.77")
    try:
        raise ValueError(f"no user {EMAIL}")
    except ValueError:
        logger.exception("lookup failed")
    dialog = open_log_view(parent, records)
    dialog.filter_edit.setText("o")
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    lines = copied.split("\n")
    assert lines[0].endswith(f"INFO {LOGGER}: token <token> created for <email>")
    assert lines[1].endswith(f"WARNING {LOGGER}: login from <ip>")
    assert lines[2].endswith(f"ERROR {LOGGER}: lookup failed")
    assert "Traceback (most recent call last):" in copied and copied.endswith("ValueError")
    assert "mallory" not in copied and "198.51.100.77" not in copied and "A1b2" not in copied

    dialog.filter_edit.setText("login")
    dialog.copy_visible()
    assert QGuiApplication.clipboard().text().count("\n") == 0
    assert QGuiApplication.clipboard().text().endswith("login from <ip>")
    QGuiApplication.clipboard().clear()
    dialog.close()


def test_no_part_of_a_logged_email_reaches_any_cell_or_the_details(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.info("plain %s", EMAIL)
    logger.info("quoted '%s' and url-encoded %s", EMAIL, EMAIL.replace("@", "%40"))
    logger.warning("%s", EMAIL)
    try:
        raise KeyError(EMAIL)
    except KeyError:
        logger.exception("failed for %s", EMAIL)
    dialog = open_log_view(parent, records)
    log_from_thread(logger, (logging.INFO, "thread"))
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 5)
    for row in range(dialog.proxy.rowCount()):
        dialog.table.setCurrentIndex(dialog.proxy.index(row, 0))
        assert "mallory" not in dialog.details.toPlainText()
        assert "example.org" not in dialog.details.toPlainText()
    dialog.table.setCurrentIndex(dialog.proxy.index(3, 0))
    assert "Traceback (most recent call last):" in dialog.details.toPlainText()
    assert dialog.details.toPlainText().endswith("\nKeyError")
    for cell in all_cells(dialog):
        assert "mallory" not in cell and "private" not in cell and "example.org" not in cell
    assert messages(dialog)[3] == "failed for <email> …"  # the traceback is in the details, not the row
    dialog.close()


def test_follow_keeps_the_newest_line_in_view(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    dialog = open_log_view(parent, records)
    qtbot.waitExposed(dialog)
    log_from_thread(logger, *[(logging.INFO, f"line {i}") for i in range(300)])
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 300)
    bar = dialog.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())

    dialog.follow_check.setChecked(False)
    bar.setValue(0)
    logger.info("one more")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 301)
    assert bar.value() == 0  # not following: the operator's place is kept
    dialog.follow_check.setChecked(True)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    dialog.close()


def test_the_view_is_bounded_like_the_buffer(qtbot: QtBot, parent: QWidget, logger: logging.Logger) -> None:
    small = RecentLogRecords(capacity=50)
    logger.addHandler(small)
    dialog = open_log_view(parent, small)
    log_from_thread(logger, *[(logging.INFO, f"n{i}") for i in range(500)])
    qtbot.waitUntil(lambda: "n499 (from <email>)" in messages(dialog))
    assert dialog.model.rowCount() == 50
    assert messages(dialog)[0] == "n450 (from <email>)"
    dialog.close()


def test_clear_empties_the_view_and_the_buffer(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.info("old line")
    dialog = open_log_view(parent, records)
    qtbot.mouseClick(dialog.clear_button, Qt.MouseButton.LeftButton)
    assert dialog.model.rowCount() == 0 and records.entries() == []
    logger.info("new line")
    qtbot.waitUntil(lambda: messages(dialog) == ["new line"])
    dialog.close()


def test_keyboard_filter_first_and_escape_closes(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.info("alpha")
    logger.info("beta")
    dialog = open_log_view(parent, records)
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.filter_edit
    qtbot.keyClicks(dialog.filter_edit, "bet")
    qtbot.keyClick(dialog.filter_edit, Qt.Key.Key_Return)  # Enter presses no button
    assert dialog.isVisible() and messages(dialog) == ["beta"]
    assert records.entries() != []
    qtbot.keyClick(dialog.filter_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert records.subscriber_count() == 0


def test_after_closing_logging_does_not_touch_the_deleted_dialog(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    dialog = open_log_view(parent, records)
    logger.info("while open")
    assert records.subscriber_count() == 1
    log_from_thread(logger, (logging.INFO, "queued as it closes"))  # may still be in the event queue
    dialog.close()
    assert records.subscriber_count() == 0
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog))  # WA_DeleteOnClose
    logger.info("after close %s", EMAIL)
    log_from_thread(logger, *[(logging.WARNING, f"after {i}") for i in range(50)])
    QApplication.processEvents()
    qtbot.wait(3 * 100)  # longer than the dialog's flush interval
    assert records.subscriber_count() == 0
    assert len(records.entries()) == 53

    again = open_log_view(parent, records)
    assert again is not dialog and again.model.rowCount() == 53
    again.close()


def test_destroyed_without_closing_unsubscribes(
    qtbot: QtBot, logger: logging.Logger, records: RecentLogRecords
) -> None:
    owner = QWidget()
    dialog = LogViewDialog(records, owner)  # never shown, never closed: only its parent goes away
    assert records.subscriber_count() == 1
    shiboken6.delete(owner)
    assert not shiboken6.isValid(dialog)
    assert records.subscriber_count() == 0
    log_from_thread(logger, (logging.INFO, "nobody listens"))
    QApplication.processEvents()


def test_a_dialog_shown_again_catches_up(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    dialog = LogViewDialog(records, parent)  # kept by its owner rather than deleted on close
    dialog.show()
    logger.info("first")
    qtbot.waitUntil(lambda: messages(dialog) == ["first"])
    dialog.close()
    logger.info("while hidden")
    assert records.subscriber_count() == 0 and messages(dialog) == ["first"]
    dialog.show()
    assert messages(dialog) == ["first", "while hidden"]
    assert records.subscriber_count() == 1
    dialog.close()


def test_with_the_root_capture_installed(qtbot: QtBot, parent: QWidget) -> None:
    records = install_log_capture()
    try:
        dialog = open_log_view(parent, records)
        logging.getLogger("app.scim.server").warning("refused request from %s", "192.0.2.44")
        qtbot.waitUntil(lambda: "refused request from <ip>" in messages(dialog))
        dialog.close()
        assert records.subscriber_count() == 0
    finally:
        uninstall_log_capture()


def test_selecting_an_invalid_index_clears_the_details(
    qtbot: QtBot, parent: QWidget, logger: logging.Logger, records: RecentLogRecords
) -> None:
    logger.info("only")
    dialog = open_log_view(parent, records)
    dialog.table.setCurrentIndex(dialog.proxy.index(0, 0))
    assert dialog.details.toPlainText().endswith("only")
    dialog.table.setCurrentIndex(QModelIndex())
    assert dialog.details.toPlainText() == ""
    dialog.close()
