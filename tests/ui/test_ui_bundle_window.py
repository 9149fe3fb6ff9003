"""The evidence bundle window: verdict, facts and entries of a real bundle, with no vault open anywhere."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE

import app.ui.audit.bundle_window as bundle_window
from app.audit.bundle import export_bundle
from app.audit.bundle_read import SEALED_NOTE, read_bundle
from app.audit.trail import StoredEvent
from app.audit.vault_lifecycle import create_vault
from app.store.vault import Vault
from app.ui.audit.bundle_window import BundleWindow, choose_and_open_bundle, open_bundle_window
from tests.audit.conftest import random_trail

TIMEOUT = 4000


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole trail of 80 varied events (pseudonymous subjects, sealed parts), exported; the vault is then closed."""
    vault = create_vault(tmp_path_factory.mktemp("vault"), PASSPHRASE, PASSPHRASE)
    path = tmp_path_factory.mktemp("bundle") / "incident-7.zip"
    try:
        with vault.write_transaction() as conn:
            random_trail(conn, random.Random(7), 80)
            export_bundle(conn, None, None, path)
    finally:
        vault.close()
    return path


@pytest.fixture
def entries(bundle: Path) -> list[StoredEvent]:
    return list(read_bundle(bundle).entries())


@pytest.fixture(autouse=True)
def _no_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening, reading or verifying a bundle must never make a vault."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a vault was opened")

    monkeypatch.setattr(Vault, "__init__", refuse)


@pytest.fixture
def opened(qtbot: QtBot) -> Iterator[list[BundleWindow]]:
    """Windows opened by a test, closed at its end unless the test closed them (they delete themselves)."""
    from shiboken6 import isValid

    windows: list[BundleWindow] = []
    yield windows
    for window in windows:
        if isValid(window):
            window.close()


def rewritten_entries(source: Path, target: Path, seq: int) -> Path:
    """A copy whose entries.jsonl has one actor changed: the other members are copied as they are."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in original.namelist():
            data = original.read(name)
            if name == "entries.jsonl":
                lines = [json.loads(line) for line in data.splitlines()]
                for line in lines:
                    if line["seq"] == seq:
                        line["actor"] = "operator:someone-else"
                data = b"".join(
                    json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n" for line in lines
                )
            copy.writestr(name, data)
    return target


def shown_column(window: BundleWindow, column: int) -> list[str]:
    proxy = window.proxy
    return [proxy.data(proxy.index(row, column)) for row in range(proxy.rowCount())]


def test_a_good_bundle_is_intact_and_its_rows_are_its_entries(
    qtbot: QtBot, opened: list[BundleWindow], bundle: Path, entries: list[StoredEvent]
) -> None:
    window = open_bundle_window(None, bundle)
    opened.append(window)
    assert window.windowTitle() == "Evidence bundle — incident-7.zip"
    qtbot.waitUntil(lambda: window.report is not None, timeout=TIMEOUT)
    assert window.verdict.text().startswith(f"Evidence bundle intact: {len(entries)} entries, ")
    assert window.report is not None and window.report.ok
    qtbot.waitUntil(lambda: window.model.complete and window.model.rowCount() == len(entries), timeout=TIMEOUT)
    assert shown_column(window, 0) == [str(e.seq) for e in entries]
    assert shown_column(window, 2) == [e.kind for e in entries]
    assert shown_column(window, 5) == [e.subject or "" for e in entries]
    assert window.fact_labels["Entries"].text() == f"{len(entries)}"
    assert window.fact_labels["Sequence numbers"].text() == f"1 to {entries[-1].seq}"
    assert window.fact_labels["Signing key id"].text() == read_bundle(bundle).facts.key_id
    assert window.count_label.text() == f"{len(entries)} entries loaded"
    qtbot.waitUntil(window.kind_filter.hasFocus, timeout=TIMEOUT)  # the filter field comes first


def test_filters_by_kind_prefix_and_pseudonym(
    qtbot: QtBot, opened: list[BundleWindow], bundle: Path, entries: list[StoredEvent]
) -> None:
    window = open_bundle_window(None, bundle)
    opened.append(window)
    qtbot.waitUntil(lambda: window.model.complete and window.model.rowCount() == len(entries), timeout=TIMEOUT)

    qtbot.keyClicks(window.kind_filter, "SCIM.resource")  # any case
    expected = [str(e.seq) for e in entries if e.kind.startswith("scim.resource")]
    assert 0 < len(expected) < len(entries)
    assert shown_column(window, 0) == expected
    assert window.count_label.text() == f"{len(expected)} of {len(entries)} loaded entries match"

    pseudonym = next(e.subject for e in entries if e.subject)
    window.subject_filter.setText(pseudonym[3:12])
    both = [str(e.seq) for e in entries if e.kind.startswith("scim.resource") and e.subject == pseudonym]
    assert shown_column(window, 0) == both
    window.kind_filter.clear()
    assert shown_column(window, 0) == [str(e.seq) for e in entries if e.subject == pseudonym]
    window.subject_filter.clear()
    assert window.proxy.rowCount() == len(entries)


def test_detail_pane_follows_the_keyboard_and_keeps_sealed_parts_sealed(
    qtbot: QtBot, opened: list[BundleWindow], bundle: Path, entries: list[StoredEvent]
) -> None:
    window = open_bundle_window(None, bundle)
    opened.append(window)
    qtbot.waitUntil(lambda: window.model.rowCount() == len(entries), timeout=TIMEOUT)
    sealed_row = next(row for row, e in enumerate(entries) if "sealed" in e.details)
    window.table.setFocus()
    window.table.setCurrentIndex(window.proxy.index(sealed_row, 0))
    shown = window.detail.toPlainText()
    assert f"Seq: {entries[sealed_row].seq}" in shown and SEALED_NOTE in shown
    assert entries[sealed_row].details["sealed"]["ct"] not in shown
    assert "@example.org" not in shown  # the private part of the fixture's trail
    assert window.proxy.data(window.proxy.index(sealed_row, 6)).startswith("[sealed] ")
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    assert f"Seq: {entries[sealed_row + 1].seq}" in window.detail.toPlainText()


def test_a_tampered_bundle_is_broken_and_still_readable(
    qtbot: QtBot, opened: list[BundleWindow], bundle: Path, entries: list[StoredEvent], tmp_path: Path
) -> None:
    tampered = rewritten_entries(bundle, tmp_path / "tampered.zip", seq=12)
    window = open_bundle_window(None, tampered)
    opened.append(window)
    qtbot.waitUntil(lambda: window.report is not None, timeout=TIMEOUT)
    assert window.verdict.text() == "Evidence bundle BROKEN at seq 12: its content does not match its leaf hash"
    assert "entries.jsonl does not match the SHA-256 in the manifest" in window.verdict_more.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == len(entries), timeout=TIMEOUT)
    assert window.proxy.data(window.proxy.index(11, 3)) == "operator:someone-else"  # shown as it is in the file


def test_a_file_that_is_no_bundle_is_said_so(qtbot: QtBot, opened: list[BundleWindow], tmp_path: Path) -> None:
    junk = tmp_path / "holiday-photos.zip"
    junk.write_bytes(b"\x89PNG not a zip")
    window = open_bundle_window(None, junk)
    opened.append(window)
    qtbot.waitUntil(lambda: window.report is not None and "not" in window.reading.text(), timeout=TIMEOUT)
    assert window.reading.text() == (
        "holiday-photos.zip is not an evidence bundle: it is not a ZIP file, or the file is damaged."
    )
    assert window.verdict.text() == "Evidence bundle BROKEN: not a readable ZIP file (BadZipFile)"
    assert window.model.rowCount() == 0 and window.fact_labels == {}


def test_entries_load_a_page_at_a_time_and_a_filter_loads_on(
    qtbot: QtBot, opened: list[BundleWindow], bundle: Path, entries: list[StoredEvent]
) -> None:
    window = BundleWindow(bundle, page_size=10)
    opened.append(window)
    window.resize(900, 500)
    with qtbot.waitSignal(window.model.loaded, timeout=TIMEOUT) as first:
        window.show()
    assert first.args == [10]
    qtbot.waitUntil(lambda: not window.model._loading, timeout=TIMEOUT)
    assert window.model.rowCount() < len(entries) and not window.model.complete
    assert window.count_label.text().endswith(", more as you scroll")

    window.subject_filter.setText("no such pseudonym")  # hides every page: loading goes on to the end
    qtbot.waitUntil(lambda: window.model.complete, timeout=TIMEOUT)
    assert window.model.rowCount() == len(entries) and window.proxy.rowCount() == 0
    assert window.count_label.text() == f"0 of {len(entries)} loaded entries match"


def test_escape_closes_and_stops_reading_enter_does_not(qtbot: QtBot, opened: list[BundleWindow], bundle: Path) -> None:
    window = BundleWindow(bundle, page_size=5)
    opened.append(window)
    window.show()
    qtbot.waitUntil(lambda: window.report is not None and window.model.rowCount() >= 5, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.model._loading, timeout=TIMEOUT)
    reader = window.model._pages
    assert reader is not None and not reader.closed  # pages of 5: more to read when the window closes
    qtbot.keyClick(window.kind_filter, Qt.Key.Key_Return)
    assert window.isVisible()
    with qtbot.waitSignal(window.finished, timeout=TIMEOUT):
        qtbot.keyClick(window.kind_filter, Qt.Key.Key_Escape)
    assert reader.closed


def test_choose_and_open_bundle_asks_for_a_zip(
    qtbot: QtBot, opened: list[BundleWindow], bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    class Chooser:
        answer = str(bundle)

        @staticmethod
        def getOpenFileName(_parent: object, _caption: str, _folder: str, name_filter: str) -> tuple[str, str]:
            asked.append(name_filter)
            return Chooser.answer, name_filter

    monkeypatch.setattr(bundle_window, "QFileDialog", Chooser)
    window = choose_and_open_bundle(None)
    assert window is not None
    opened.append(window)
    assert window.windowTitle() == "Evidence bundle — incident-7.zip" and window.isVisible()
    assert asked == ["Evidence bundles (*.zip)"]
    qtbot.waitUntil(lambda: window.report is not None, timeout=TIMEOUT)
    Chooser.answer = ""  # cancelled
    assert choose_and_open_bundle(None) is None


def test_cli_view_bundle_runs_the_window_until_closed(bundle: Path) -> None:
    from app.cli import main

    seen: dict[str, str] = {}

    def step() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, BundleWindow) and w.isVisible()]
        if windows and windows[0].report is not None:
            seen["title"], seen["verdict"] = windows[0].windowTitle(), windows[0].verdict.text()
            windows[0].close()  # the timer is stopped below: a reference to it here would make a cycle

    timer = QTimer()
    timer.timeout.connect(step)
    timer.start(20)
    guard = QTimer()  # never hang the suite; stopped after, so that it cannot end a later test's event loop
    guard.setSingleShot(True)
    guard.timeout.connect(QApplication.quit)
    guard.start(TIMEOUT)
    try:
        assert main(["audit", "view-bundle", str(bundle)]) == 0
    finally:
        guard.stop()
        timer.stop()
    assert seen["title"] == "Evidence bundle — incident-7.zip"
    assert seen["verdict"].startswith("Evidence bundle intact: ")
