"""Exports from the Audit page: the selection or the filtered timeline as CSV/XLSX, then Open / Show in folder."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
from PySide6.QtCore import QDateTime, QItemSelectionModel, QSize, Qt, QTimeZone, QUrl
from pytestqt.qtbot import QtBot

from app.audit.bundle import verify_bundle
from app.audit.query import EventFilter
from app.audit.trail import Event, append
from app.store.vault import Vault
from app.ui.audit.bundle_dialog import BundleExportDialog
from app.ui.audit.timeline_dialog import TimelineExportDialog
from app.ui.audit.view import AuditPage
from app.ui.widgets import documents_dir

SCREEN_AT_200 = QSize(960, 540)


def seed(vault: Vault, n: int) -> None:
    start = datetime.now(UTC)
    with vault.write_transaction() as conn:
        for i in range(n):
            failed = i % 5 == 0
            append(
                conn,
                Event(
                    "scim.auth.failed" if failed else "scim.request",
                    "anonymous" if failed else "token:entra",
                    "failure" if failed else "success",
                    details={"status": 401 if failed else 200},
                    at=start + timedelta(seconds=i),
                ),
            )


def loaded_page(qtbot: QtBot, vault: Vault) -> AuditPage:
    page = AuditPage(vault, verifier=None)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    return page


def select_rows(page: AuditPage, rows: list[int]) -> list[int]:
    selection = page.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        selection.select(page.model.index(row, 0), flags)
    return sorted(page.model.event_at(row).seq for row in rows)


def last_entry(vault: Vault) -> tuple[str, dict[str, object]]:
    with vault.read_connection() as conn:
        kind, details = conn.exec_driver_sql("SELECT kind, details FROM audit_events ORDER BY seq DESC LIMIT 1").one()
    return kind, json.loads(details)


def run_export(qtbot: QtBot, dialog: TimelineExportDialog, out: Path, fmt: str) -> None:
    dialog.set_format(fmt)
    dialog.path.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None or "could not" in dialog.status.text(), timeout=10_000)
    assert dialog.outcome is not None, dialog.status.text()


def test_the_selection_exports_as_xlsx_and_offers_open_and_show_in_folder(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    seed(vault, 40)
    page = loaded_page(qtbot, vault)
    chosen = select_rows(page, [0, 2, 7])

    dialog = page.export_timeline()
    assert dialog.use_selection.isChecked() and dialog.use_selection.text() == "The 3 selected entries"
    assert Path(dialog.path.text()).suffix == ".csv"
    run_export(qtbot, dialog, tmp_path / "selected.xlsx", "xlsx")

    frame = pd.read_excel(tmp_path / "selected.xlsx", dtype=str)
    assert [int(seq) for seq in frame["seq"]] == chosen
    assert "Exported 3 entries" in dialog.status.text() and dialog.outcome is not None
    # a selection passed for the whole trail: the dialog says what was left out, as the file's About sheet does
    assert dialog.outcome.scope is not None and dialog.outcome.scope.trail.entries > 3
    assert f"Left out: {dialog.outcome.scope.trail.entries - 3} of the trail's" in dialog.status.text()
    assert "(not selected); the trail was not verified." in dialog.status.text()
    assert openpyxl.load_workbook(tmp_path / "selected.xlsx").sheetnames == ["Audit timeline", "About this export"]
    assert dialog.outcome.sha256 in dialog.written.text()
    opened: list[QUrl] = []
    dialog.exported_actions.opener = lambda url: opened.append(url) or True
    assert dialog.exported_actions.isVisible()
    dialog.exported_actions.open_button.click()
    dialog.exported_actions.folder_button.click()
    assert [url.toLocalFile() for url in opened] == [str(tmp_path / "selected.xlsx"), str(tmp_path)]
    kind, details = last_entry(vault)
    assert kind == "export.audit_timeline" and details["selection"] == "selection" and details["format"] == "xlsx"


def test_the_whole_filtered_timeline_exports_as_csv(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    seed(vault, 700)  # more than one page of the table: the export reads the trail, not what is loaded
    page = loaded_page(qtbot, vault)
    page.outcome.setCurrentText("failure")
    qtbot.waitUntil(lambda: page.model.rowCount() == 140, timeout=5000)

    dialog = page.export_timeline()
    assert not dialog.use_selection.isEnabled() and dialog.use_filter.isChecked()
    qtbot.waitUntil(lambda: "(140)" in dialog.use_filter.text(), timeout=5000)
    run_export(qtbot, dialog, tmp_path / "failures.csv", "csv")

    with (tmp_path / "failures.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 140 and {row["outcome"] for row in rows} == {"failure"}
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)  # oldest first
    _kind, details = last_entry(vault)
    assert details["selection"] == "filter" and json.loads(str(details["filter"])) == {"outcome": "failure"}


def test_the_file_dialog_starts_in_documents_and_a_bad_folder_is_told(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    seed(vault, 5)
    asked: list[Path] = []
    dialog = TimelineExportDialog(
        vault, EventFilter(), [], choose_path=lambda _p, suggested, _f: asked.append(suggested) or None
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert Path(dialog.path.text()).parent == Path(documents_dir())
    dialog.browse()
    assert asked and asked[0].parent == Path(documents_dir())
    dialog.path.setText(str(tmp_path / "nowhere" / "x.csv"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "does not exist" in dialog.status.text(), timeout=5000)
    assert not dialog.exported_actions.isVisible() and dialog.export_button.isEnabled()
    assert dialog.minimumSizeHint().width() <= SCREEN_AT_200.width()
    assert dialog.sizeHint().height() <= SCREEN_AT_200.height()


def test_a_bundle_of_the_selection_holds_the_span_it_announced_and_verifies_in_the_viewer(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    seed(vault, 40)
    page = loaded_page(qtbot, vault)
    chosen = select_rows(page, [2, 7])  # newest first: seqs chosen[1] and chosen[0], four entries between

    dialog = page.export_bundle()
    assert dialog.by_selection.isChecked()
    assert dialog.by_selection.text() == (
        f"Entries {chosen[0]} to {chosen[1]}: the 2 selected and the 4 between them (6 in all), "
        "so that their chain can be checked"
    )
    assert Path(dialog.path.text()).parent == Path(documents_dir())
    dialog.path.setText(str(tmp_path / "selection.zip"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None or "could not" in dialog.status.text(), timeout=10_000)

    assert dialog.outcome is not None, dialog.status.text()
    assert (dialog.outcome.first_seq, dialog.outcome.last_seq, dialog.outcome.entries) == (chosen[0], chosen[1], 6)
    report = verify_bundle(tmp_path / "selection.zip")
    assert report.ok and report.proved[0].startswith(f"entries {chosen[0]}–{chosen[1]} (6) are unchanged")
    kind, details = last_entry(vault)
    assert kind == "export.audit_bundle" and (details["first_seq"], details["entries"]) == (chosen[0], 6)
    assert dialog.exported_actions.isVisible() and dialog.view_button.isVisible()

    dialog.view_button.click()
    viewer = dialog.viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: "intact" in viewer.verdict.text(), timeout=10_000)  # type: ignore[attr-defined]
    assert "Not proved: the content of" in viewer.verdict_more.text()  # type: ignore[attr-defined]
    # The window has no trusted key id: its verdict says the signatures were checked against the bundle's own key.
    assert "Not proved: that key " in viewer.verdict_more.text()  # type: ignore[attr-defined]
    viewer.close()


def test_a_bundle_of_a_time_range_and_one_with_no_entries(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    moment = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    dialog = BundleExportDialog(vault, [], None, now=lambda: moment)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.by_time.isChecked() and not dialog.by_selection.isEnabled()
    assert dialog.minimumSizeHint().width() <= SCREEN_AT_200.width()
    assert dialog.sizeHint().height() <= SCREEN_AT_200.height()

    set_range(dialog, datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))
    dialog.path.setText(str(tmp_path / "empty.zip"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "no audit entries in that time range" in dialog.status.text(), timeout=10_000)
    assert not (tmp_path / "empty.zip").exists() and not dialog.exported_actions.isVisible()

    seed(vault, 10)
    set_range(dialog, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(minutes=5))
    dialog.path.setText(str(tmp_path / "all.zip"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=10_000)
    report = verify_bundle(tmp_path / "all.zip")
    # the signing key's announcement, made by the export's own first checkpoint, came after the range was read
    assert report.ok and report.proved[0].startswith("entries 1–11 (11) are unchanged")
    assert report.proved[-1] == "not the whole trail: the content of entry 12 is not in this bundle and was not checked"


def set_range(dialog: BundleExportDialog, start: datetime, end: datetime) -> None:
    dialog.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp()), QTimeZone.utc()))
    dialog.end.setDateTime(QDateTime.fromSecsSinceEpoch(int(end.timestamp()), QTimeZone.utc()))


def test_the_exports_by_keyboard_alone(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    seed(vault, 12)
    page = loaded_page(qtbot, vault)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=2000)
    page.table.setFocus()
    qtbot.keyClick(page.subject, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)  # E&xport timeline…
    qtbot.waitUntil(lambda: page.timeline_dialog is not None, timeout=2000)  # a mnemonic animates its click
    dialog = page.timeline_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.path.setText(str(tmp_path / "keys.csv"))
    dialog.path.setFocus()
    qtbot.keyClick(dialog.path, Qt.Key.Key_Return)  # Enter exports (Close is not the default)
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=10_000)
    assert (tmp_path / "keys.csv").exists()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)

    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=2000)
    qtbot.keyClick(page.subject, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # Evidence &bundle…
    qtbot.waitUntil(lambda: page.bundle_dialog is not None, timeout=2000)
    bundle = page.bundle_dialog
    assert bundle is not None and bundle.isVisible() and bundle.by_time.isChecked()


def test_for_all_time_the_range_starts_at_the_first_entry(qtbot: QtBot, vault: Vault) -> None:
    from app.ui.audit.bundle_dialog import first_entry_time

    seed(vault, 3)
    first = first_entry_time(vault)
    assert first is not None
    dialog = BundleExportDialog(vault, [], None)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.start.dateTime().toSecsSinceEpoch() == int(first.timestamp()), timeout=5000)
    assert not dialog.start_chosen and dialog.by_time.isChecked()


def test_after_an_export_the_page_shows_its_entry_and_counts_it(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    """The export is on the trail: closing the dialog shows it, and the count beside "not verified yet" follows
    (it said 93 entries beside 94 shown)."""
    seed(vault, 10)
    page = loaded_page(qtbot, vault)
    qtbot.waitUntil(lambda: "entries in the trail" in page.verdict.text(), timeout=5000)
    dialog = page.export_timeline()
    run_export(qtbot, dialog, tmp_path / "all.csv", "csv")
    dialog.reject()  # its Close button
    with vault.read_connection() as conn:
        entries = int(conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar() or 0)
        newest = conn.exec_driver_sql("SELECT kind FROM audit_events ORDER BY seq DESC LIMIT 1").scalar()
    assert newest == "export.audit_timeline"
    qtbot.waitUntil(lambda: page.model.rowCount() == entries, timeout=5000)  # no filter: every entry is listed
    qtbot.waitUntil(lambda: page.verdict.text().startswith(f"{entries:,} entries in the trail"), timeout=5000)


def test_every_export_dialog_reaches_its_fields_by_alt_key(qtbot: QtBot, vault: Vault) -> None:
    """"Format", "Records" and "Save as" had no Alt key (and "Save as" labels a row of two widgets, so a plain
    mnemonic would have had no field to go to): reached only by Tab. Now Alt+M, Alt+R, Alt+S, each letter once."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication
    from ui_keyboard import mnemonics

    from app.ui.exports.ropa_dialog import RopaExportDialog

    alt = Qt.KeyboardModifier.AltModifier
    dialogs = [TimelineExportDialog(vault, EventFilter(), []), BundleExportDialog(vault, [], None),
               RopaExportDialog(vault)]  # fmt: skip
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(lambda d=dialog: QApplication.activeWindow() is d, timeout=2000)
        keys = [(Qt.Key.Key_S, dialog.path)]
        if getattr(dialog, "format", None) is not None:
            keys.append((Qt.Key.Key_M, dialog.format))
        if isinstance(dialog, RopaExportDialog):
            keys.append((Qt.Key.Key_R, dialog.record))
        for letter, field in keys:
            qtbot.keyClick(QApplication.focusWidget() or dialog, letter, alt)
            assert QApplication.focusWidget() is field, (dialog.windowTitle(), letter)
        assert len(set(mnemonics(dialog))) == len(mnemonics(dialog)), mnemonics(dialog)
        dialog.close()


def test_the_outcome_grows_the_dialog_instead_of_squeezing_the_choices_above_it(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    """Was (seen in Xvfb at 1280x800): after an export the four lines of outcome and the Open / Show in folder
    buttons were fitted into the height the dialog opened at, and the two "Entries" choices were drawn into each
    other, cut to half their height. Now the dialog grows to what its layout needs."""
    seed(vault, 5)
    dialog = TimelineExportDialog(vault, EventFilter(), [])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "(5)" in dialog.use_filter.text() or "(6)" in dialog.use_filter.text(), timeout=10_000)
    opened_at = dialog.height()
    run_export(qtbot, dialog, tmp_path / "timeline.xlsx", "xlsx")
    qtbot.waitUntil(dialog.exported_actions.isVisible, timeout=5000)
    layout = dialog.layout()
    assert layout is not None
    layout.activate()
    assert dialog.height() > opened_at
    assert dialog.height() >= layout.totalHeightForWidth(dialog.width())
    for choice in (dialog.use_selection, dialog.use_filter):
        assert choice.height() >= choice.sizeHint().height(), choice.text()  # not cut
    assert dialog.use_filter.geometry().top() >= dialog.use_selection.geometry().bottom()  # not drawn into each other
    assert dialog.status.height() >= dialog.status.heightForWidth(dialog.status.width())  # every line of the outcome


def test_the_about_sheet_names_the_apps_own_way_to_verify_the_trail(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    """Was: the XLSX's 'About this export' said the trail was not verified and sent the reader to `custos audit
    verify` and `verify-bundle` only, though the DPO who exported it from the app has no terminal. Now it names the
    app's button too, and that button is there, on that page, with that name."""
    seed(vault, 5)
    page = loaded_page(qtbot, vault)
    dialog = page.export_timeline()
    run_export(qtbot, dialog, tmp_path / "timeline.xlsx", "xlsx")
    about = pd.read_excel(tmp_path / "timeline.xlsx", sheet_name="About this export", header=None, dtype=str)
    integrity = dict(zip(about[0], about[1], strict=True))["Integrity"]
    assert "in the app, Verify integrity on the Audit trail page." in integrity
    assert page.verify_button.text().replace("&", "") == "Verify integrity"
