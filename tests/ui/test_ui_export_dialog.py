"""The four export dialogs share one frame (app/ui/exports/dialog.py): while an export runs, every choice is locked,
Choose… included, Close and Escape do nothing, and afterwards the same choices come back. Before the frame, the
timeline, bundle and Article 30 dialogs left Choose… usable during an export (only the register dialog locked it):
a path picked then was shown as where the file went, though the export already running wrote elsewhere."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from app.audit.query import EventFilter
from app.store.vault import Vault
from app.ui.audit.bundle_dialog import BundleExportDialog
from app.ui.audit.timeline_dialog import TimelineExportDialog
from app.ui.exports.register_dialog import BREACHES, RegisterExportDialog
from app.ui.exports.ropa_dialog import RopaExportDialog


def dialogs(vault: Vault) -> list[QDialog]:
    return [TimelineExportDialog(vault, EventFilter(), []), BundleExportDialog(vault, [], None),
            RopaExportDialog(vault), RegisterExportDialog(vault, BREACHES)]  # fmt: skip


def test_every_export_dialog_locks_its_choices_while_it_runs_and_gives_them_back(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    for number, dialog in enumerate(dialogs(vault)):
        qtbot.addWidget(dialog)
        dialog.show()
        out = tmp_path / f"export-{number}{Path(dialog.path.text()).suffix}"
        dialog.path.setText(str(out))
        close = dialog.buttons.button(QDialogButtonBox.StandardButton.Close)
        dialog.export_button.click()  # the job runs in the pool; its outcome arrives through the event loop
        title = dialog.windowTitle()
        assert not dialog.output.browse_button.isEnabled(), title
        assert not dialog.path.isEnabled() and not dialog.export_button.isEnabled(), title
        assert not close.isEnabled() and dialog.progress.isVisibleTo(dialog), title
        if not isinstance(dialog, RopaExportDialog):  # whose Escape asks the export to stop (test_ui_export_cancel)
            dialog.reject()  # Escape: the dialog stays to say how the export ended
            assert dialog.isVisible(), title
        qtbot.waitUntil(lambda d=dialog: not d.progress.isVisibleTo(d), timeout=20_000)
        assert dialog.written.text().startswith("Written: "), (title, dialog.status.text())
        assert dialog.output.browse_button.isEnabled() and dialog.path.isEnabled() and close.isEnabled(), title
        assert not dialog.progress.isVisibleTo(dialog), title
        assert out.is_file(), title
        if isinstance(dialog, RopaExportDialog):
            assert dialog.sha256.text().startswith("SHA-256: ")
        else:
            assert "\nSHA-256: " in dialog.written.text(), title
        dialog.close()


def test_a_choice_with_nothing_to_choose_stays_off_after_an_export(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    """"The selected entries" with none selected is off before the export and stays off after it."""
    for dialog in dialogs(vault)[:2]:
        qtbot.addWidget(dialog)
        selection = dialog.use_selection if isinstance(dialog, TimelineExportDialog) else dialog.by_selection
        assert not selection.isEnabled()
        dialog.path.setText(str(tmp_path / f"{dialog.windowTitle()}{Path(dialog.path.text()).suffix}"))
        dialog.export_button.click()
        qtbot.waitUntil(lambda d=dialog: d.written.text().startswith("Written: "), timeout=20_000)
        assert not selection.isEnabled()
