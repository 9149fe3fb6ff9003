"""The register's retention from the Requests page's Deadline settings… dialog. Before: only ``custos dsr settings
--retention`` could set how long a closed request is kept; the dialog had country, region and time zone, and a DPO
without a terminal could not change it. Now the dialog shows the retention in force and saves a change through the
same service, on the record (``dsr.settings_changed``, before and after), and refuses a period it cannot read."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audit.trail import of_kind
from app.dsr import settings
from app.store.vault import Vault
from app.ui.requests.settings_dialog import DeadlineSettingsDialog


def test_the_dialog_sets_how_long_closed_requests_are_kept(qtbot: QtBot, vault: Vault) -> None:
    folder = vault.path.parent
    dialog = DeadlineSettingsDialog(vault)
    qtbot.addWidget(dialog)
    dialog.show()
    assert hasattr(dialog, "retention"), "the dialog has no retention field"
    assert dialog.retention.text() == settings.load(folder, None).retention.iso() == "P3Y"  # the default, shown
    dialog.retention.selectAll()
    qtbot.keyClicks(dialog.retention, "forever")
    qtbot.keyClick(dialog.retention, Qt.Key.Key_Return)  # refused by the service: the dialog stays and says why
    assert dialog.isVisible() and "'forever' is not a period" in dialog.error.text()
    assert settings.load(folder, None).retention_source == "default"  # nothing saved
    dialog.retention.selectAll()
    qtbot.keyClicks(dialog.retention, "p5y")
    qtbot.keyClick(dialog.retention, Qt.Key.Key_Return)
    assert dialog.result() == DeadlineSettingsDialog.DialogCode.Accepted
    saved = settings.load(folder, None)
    assert (saved.retention.iso(), saved.retention_source, saved.zone) == ("P5Y", settings.FILE, "UTC")
    with vault.read_connection() as conn:
        changed = of_kind(conn, "dsr.settings_changed")
    assert len(changed) == 1
    assert changed[0].details["before"]["retention"] == "3 years"
    assert changed[0].details["after"]["retention"] == "5 years"


def test_an_unchanged_retention_stays_where_it_came_from(qtbot: QtBot, vault: Vault) -> None:
    """Saving a new country leaves the retention unset in the file: it keeps following the policy or the default."""
    dialog = DeadlineSettingsDialog(vault)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.country.setText("FR")
    dialog.accept()
    saved = settings.load(vault.path.parent, None)
    assert (saved.country, saved.retention_source) == ("FR", "default")
