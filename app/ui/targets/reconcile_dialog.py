"""Reconcile one target in the app, as ``target reconcile [--repair]``: what the target holds compared with what it
should hold (pseudonymous counts and attribute names, never a value), then, if asked, the repair queued."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QVBoxLayout, QWidget

from app.core.wording import counted
from app.services.policy import PolicyInForce
from app.services.targets import Drift, reconcile
from app.store.vault import Vault
from app.ui.policy.common import plain_label, user_message
from app.ui.times import local_time
from app.ui.workers import submit


class ReconcileDialog(QDialog):
    def __init__(self, vault: Vault, policy: PolicyInForce, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault, self.policy, self.name_ = vault, policy, name
        self.drift: Drift | None = None
        self.setWindowTitle(f"Reconcile {name}")
        self.report = plain_label(f"Reading every account {name} holds…", wrap=True)
        self.report.setAccessibleName("Reconciliation report")
        self.repair_button = QPushButton("&Repair")
        self.repair_button.setEnabled(False)
        self.repair_button.setToolTip("Queue pushes for the missing and differing accounts (and those holding more "
                                      "than the mapping). Accounts unknown to Custos are left for you to decide.")
        self.repair_button.clicked.connect(self.repair)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.repair_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self._run(repair=False)

    def _run(self, repair: bool) -> None:
        vault, policy, name = self.vault, self.policy, self.name_
        submit(lambda: reconcile(vault, policy, name, repair=repair), lambda d: self._done(d, repair), self._failed)

    def _done(self, drift: Drift, repaired: bool) -> None:
        self.drift = drift
        # The report stays open while pushes change the target: it says when the target was read.
        when = f" at {local_time(drift.started)}" if drift.started else ""
        lines = [f"{drift.target}: {counted(drift.checked, 'account')} checked{when}."]
        lines += [f"• {line}" for line in drift.lines(repaired=repaired)]
        if drift.unknown_at_target and not repaired:
            lines.append("Accounts unknown to Custos are never deleted by a repair: check them at the target.")
        self.report.setText("\n".join(lines))
        self.adjustSize()  # the report grows with what was found; never clipped
        self.repair_button.setEnabled(not repaired and drift.repairable > 0)
        if not repaired and drift.repairable:
            self.repair_button.setText(f"&Repair ({counted(drift.repairable, 'push', 'pushes')})")

    def repair(self) -> None:
        self.repair_button.setEnabled(False)
        self.report.setText(self.report.text() + "\nQueuing the repair…")
        self._run(repair=True)

    def _failed(self, exc: Exception) -> None:
        self.report.setText(user_message(exc, "The reconciliation could not run."))
        self.adjustSize()
