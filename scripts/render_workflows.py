"""The workflow dialogs for render_screenshots.py: adding and editing a target, reconciling, each step of the breach
process, the erasure dialog naming the person, and the erasure history. Called with the sample vault and window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QDialog, QWidget

from app.erasure.requests import request_erasure
from app.incidents.register import IncidentRegister
from app.store.vault import Vault
from app.targets.config import get_target
from app.ui.erasure.dialog import ErasureDialog
from app.ui.erasure.history import ErasureHistoryDialog, NoteDialog
from app.ui.incidents.scope_dialog import ScopeDialog
from app.ui.incidents.steps import (
    CloseDialog,
    CommunicationDialog,
    ContainmentDialog,
    DismissDialog,
    NotificationDialog,
    OpenDialog,
    RiskDialog,
)
from app.ui.main_window import MainWindow
from app.ui.targets.dialog import TargetDialog
from app.ui.targets.reconcile_dialog import ReconcileDialog


def read_ids(vault: Vault, statement: str) -> list[str]:
    """Ids for the sample data, read in a connection that is closed at once. A connection left to the garbage
    collector keeps its read snapshot until the collector runs, which the app does on the GUI thread only: an
    erasure's WAL checkpoint on that thread then waits for it forever (the render hung there)."""
    with vault.read_connection() as conn:
        return [row[0] for row in conn.exec_driver_sql(statement)]

def _shot(dialog: QWidget, path: Path, wait: Callable[[int], None], settle: int = 400) -> None:
    dialog.show()
    wait(settle)
    dialog.grab().save(str(path))
    dialog.close()
    if isinstance(dialog, QDialog):
        dialog.deleteLater()


def render(window: MainWindow, vault: Vault, out: Path, wait: Callable[[int], None]) -> None:
    policy = window.server.policy
    active = policy.get().policy
    with vault.read_connection() as conn:
        wiki = get_target(conn, "wiki")
    _shot(TargetDialog(active, None, window), out / "dialog-target-add.png", wait)
    if wiki is not None:
        _shot(TargetDialog(active, wiki, window), out / "dialog-target-edit.png", wait)
        _shot(ReconcileDialog(vault, policy, "wiki", window), out / "dialog-target-reconcile.png", wait, 2500)

    register = IncidentRegister(vault)
    view = next(v for v in register.list() if v.aware_at is not None)
    candidate = next((v for v in register.list() if v.state == "candidate"), view)
    now = datetime.now(UTC)
    for name, dialog in (
        ("open", OpenDialog(now, window)),
        ("dismiss", DismissDialog(candidate, window)),
        ("risk", RiskDialog(view, window)),
        ("containment", ContainmentDialog(view, now, window)),
        ("scope", ScopeDialog(vault, policy, view, now, window)),
        ("notify", NotificationDialog(view, now, window)),
        ("art34", CommunicationDialog(view, now, window)),
        ("close", CloseDialog(view, window)),
    ):
        _shot(dialog, out / f"dialog-incident-{name}.png", wait)

    subjects = read_ids(vault, "SELECT id FROM scim_resources WHERE resource_type = 'User' ORDER BY id LIMIT 2")
    _shot(ErasureDialog(vault, subjects[:1], None, None, window), out / "dialog-erasure.png", wait, 1200)
    request_erasure(vault, subjects[1:2], "art17-1a", "dpo", "ticket 4711")
    history = ErasureHistoryDialog(vault, window)
    history.show()
    wait(1200)
    history.line_table.selectRow(1)
    wait(600)
    history.grab().save(str(out / "dialog-erasure-history.png"))
    history.close()
    _shot(NoteDialog("Recipient payroll (no SCIM target)", window), out / "dialog-erasure-attest.png",
          wait)  # fmt: skip
