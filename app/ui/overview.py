"""The Overview page: the state of everything at a glance, refreshed every few seconds while it is shown.

Server, identities, each target's queue, alerts and incidents with their 72-hour clock, the policy in force,
and the last verification of the audit trail (with progress, and a Cancel while it runs). Every read runs in a
worker.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.scim.server import ScimServer
from app.services.overview import Overview, read_overview
from app.store.vault import Vault
from app.ui.audit.verification import VerificationControl
from app.ui.audit.view import trail_verdict
from app.ui.workers import submit

REFRESH_MS = 3000


class OverviewPage(QWidget):
    review_outside = Signal()  # "Review…" on the Outside the policy line: the main window shows that page

    def __init__(self, vault: Vault, server: ScimServer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.server = server
        names = ("server", "identities", "targets", "alerts", "returned", "incidents", "requests", "policy", "outside",
                 "audit")  # fmt: skip
        self.fields = {name: QLabel("…") for name in names}
        for label in self.fields.values():
            label.setWordWrap(True)
        form = QFormLayout()
        for title, name in (("SCIM endpoint", "server"), ("Identities", "identities"), ("Targets", "targets"),
                            ("Alerts today", "alerts"), ("Erased people sent again", "returned"),
                            ("Open incidents", "incidents"), ("Data subject requests", "requests"),
                            ("Policy in force", "policy"),
                            ("Audit trail", "audit")):  # fmt: skip
            form.addRow(title, self.fields[name])
        self.review_button = QPushButton("Re&view…")
        self.review_button.setToolTip("Which attributes, from which client, and what to decide")
        self.review_button.clicked.connect(self.review_outside)
        outside_row = QHBoxLayout()
        outside_row.addWidget(self.fields["outside"], 1)
        outside_row.addWidget(self.review_button, 0, Qt.AlignmentFlag.AlignTop)
        form.insertRow(form.rowCount() - 1, "Outside the policy", outside_row)
        self.verify_button = QPushButton("&Verify the audit trail now")
        self.verify_progress = QProgressBar()
        # Connects the button (Verify, or Cancel while running), the bar and the audit line.
        self.verification = VerificationControl(
            vault, trail_verdict, self.verify_button, self.verify_progress, self.fields["audit"], self
        )
        verify_row = QHBoxLayout()
        verify_row.addWidget(self.verify_button)
        verify_row.addWidget(self.verify_progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(verify_row)
        layout.addStretch(1)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._verified_once = False

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.timer.start()
        if not self._verified_once and self.vault.is_open:
            self._verified_once = True
            self.verify()  # the first look at the page says whether the trail is intact
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        running = self.server.running
        self.fields["server"].setText(f"{'running at ' + self.server.base_url if running else 'stopped'}")
        if self.vault.is_open:
            vault, policy = self.vault, self.server.policy
            submit(lambda: read_overview(vault, policy), self._loaded, self._failed)

    def _loaded(self, overview: Overview) -> None:
        self.fields["identities"].setText(f"{overview.users:,} users, {overview.groups:,} groups")
        self.fields["targets"].setText("\n".join(overview.targets) or "none configured")
        self.fields["alerts"].setText(str(overview.alerts_today))
        self.fields["returned"].setText("\n".join(overview.returned) or "none")
        self.fields["incidents"].setText("\n".join(overview.incidents) or "none open")
        self.fields["requests"].setText(overview.requests)
        self.fields["policy"].setText(overview.policy)
        self.fields["outside"].setText(overview.outside)

    def _failed(self, _exc: Exception) -> None:
        self.fields["identities"].setText("could not be read (is the vault closed?)")

    def verify(self) -> None:
        """Start a verification (nothing happens while one is running)."""
        self.verification.start()

    def cancel_verification(self) -> None:
        self.verification.cancel()
