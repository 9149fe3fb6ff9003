"""The Overview page: the state of everything at a glance, refreshed every few seconds while it is shown.

On top a dashboard (app/ui/dashboard.py): tiles for users, groups, targets, open requests, open incidents and
refusals, each opening its page, and charts of requests per hour and erasures per day (pandas, in
app/audit/timeseries.py), read again when the trail grows (at most every ``DASHBOARD_BUSY_SECONDS``) and every
``DASHBOARD_IDLE_SECONDS``. Below, the lines: server, each target's queue, alerts and incidents with their 72-hour
clock, the policy in force, and the last verification of the audit trail (with progress, and a Cancel while it
runs), with how many entries were added since that check; while the page is shown and entries keep coming, the
trail is verified again every ``REVERIFY_SECONDS``. Every read runs in a worker.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Connection

from app.audit.query import total
from app.audit.verify import Cancelled, Progress
from app.core.wording import counted
from app.dashboard.figures import Dashboard, read_dashboard, trail_length
from app.scim.server import ScimServer
from app.services.overview import Overview, read_overview
from app.store.vault import Vault
from app.ui.audit.verification import VerificationControl, Verifier
from app.ui.audit.view import trail_verdict
from app.ui.dashboard import DashboardView
from app.ui.workers import submit

REFRESH_MS = 3000
# The dashboard's read scans a week of request entries: again when the trail has grown (at most every
# DASHBOARD_BUSY_SECONDS) and, for the clocks, every DASHBOARD_IDLE_SECONDS; never on every 3-second refresh.
DASHBOARD_BUSY_SECONDS = 10.0
DASHBOARD_IDLE_SECONDS = 60.0
REVERIFY_SECONDS = 300.0


def counting_verdict(counted: list[int]) -> Verifier:
    """The trail's verdict, counting the entries first into ``counted``: entries added between the count and the
    check are then said to be new, never said to be checked."""

    def verdict(conn: Connection, *, progress: Progress | None = None, cancelled: Cancelled | None = None) -> str:
        counted[:] = [total(conn)]
        return trail_verdict(conn, progress=progress, cancelled=cancelled)

    return verdict


class OverviewPage(QWidget):
    review_outside = Signal()  # "Review…" on the Outside the policy line: the main window shows that page
    open_page = Signal(str)  # a dashboard tile was activated: the main window shows that page

    def __init__(self, vault: Vault, server: ScimServer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.server = server
        names = ("server", "identities", "targets", "alerts", "returned", "incidents", "requests", "tokens", "backups",
                 "policy", "outside", "audit")  # fmt: skip
        self.fields = {name: QLabel("…") for name in names}
        for label in self.fields.values():
            label.setWordWrap(True)
        form = QFormLayout()
        for title, name in (("SCIM endpoint", "server"), ("Identities", "identities"), ("Targets", "targets"),
                            ("Alerts today (UTC)", "alerts"), ("Erased people sent again", "returned"),
                            ("Open incidents", "incidents"), ("Data subject requests", "requests"),
                            ("Tokens", "tokens"), ("Backups", "backups"), ("Policy in force", "policy"),
                            ("Audit trail", "audit")):  # fmt: skip
            form.addRow(title, self.fields[name])
        self.review_button = QPushButton("Revie&w…")
        self.review_button.setToolTip("Which attributes, from which client, and what to decide")
        self.review_button.clicked.connect(self.review_outside)
        outside_row = QHBoxLayout()
        outside_row.addWidget(self.fields["outside"], 1)
        outside_row.addWidget(self.review_button, 0, Qt.AlignmentFlag.AlignTop)
        form.insertRow(form.rowCount() - 1, "Outside the policy", outside_row)
        self.verify_button = QPushButton("Verify the audit trail &now")
        self.verify_progress = QProgressBar()
        # Connects the button (Verify, or Cancel while running), the bar and the audit line.
        self._counted: list[int] = []  # the trail's length as the running verification counted it (plain Python)
        self.verification = VerificationControl(
            vault, counting_verdict(self._counted), self.verify_button, self.verify_progress, self.fields["audit"],
            self,
        )  # fmt: skip
        self.verification.verified.connect(self._verified)
        self.audit_news = QLabel("")  # entries added since the verdict above: the line follows the trail
        self.audit_news.setWordWrap(True)
        form.addRow("", self.audit_news)
        verify_row = QHBoxLayout()
        verify_row.addWidget(self.verify_button)
        verify_row.addWidget(self.verify_progress, 1)
        self.dashboard = DashboardView()
        self.dashboard.open_page.connect(self.open_page)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.addWidget(self.dashboard)
        inner.addLayout(form)
        inner.addLayout(verify_row)
        inner.addStretch(1)
        self.scroll_area = QScrollArea()  # at 640×480 or 200 % the page scrolls instead of squeezing its rows
        self.scroll_area.setWidget(content)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._dashboard_read_at: tuple[int, float] | None = None  # (trail length, monotonic time) of the last read
        self.reverify_seconds = REVERIFY_SECONDS
        self.clock = lambda: datetime.now(UTC)  # the dashboard's "now" (tests give their own)
        self._verified_once = False
        self._checked: tuple[int, float] | None = None  # (trail length, monotonic time) of the last verdict

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.refresh_dashboard()
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
            certificate = self.server.tls.cert_path if self.server.tls is not None else None
            submit(lambda: read_overview(vault, policy, certificate=certificate), self._loaded, self._failed)
            submit(lambda: trail_length(vault), self._trail_counted, self._ignore)

    def refresh_dashboard(self) -> None:
        if self.vault.is_open:
            vault, active, now = self.vault, self.server.policy.get().policy, self.clock()
            self._dashboard_read_at = (self._dashboard_read_at or (0, 0.0))[0], time.monotonic()
            submit(lambda: read_dashboard(vault, active, now), self._dashboard_read, self._ignore)

    def _dashboard_read(self, dashboard: Dashboard) -> None:
        self._dashboard_read_at = (dashboard.entries, time.monotonic())
        self.dashboard.show_dashboard(dashboard)

    def _dashboard_due(self, entries: int) -> bool:
        if self._dashboard_read_at is None:
            return True
        read_entries, at = self._dashboard_read_at
        waited = time.monotonic() - at
        return waited >= DASHBOARD_IDLE_SECONDS or (entries != read_entries and waited >= DASHBOARD_BUSY_SECONDS)

    def _ignore(self, _exc: Exception) -> None:
        """The lines below say when the vault cannot be read; a chart is not worth a second message."""

    def _trail_counted(self, entries: int) -> None:
        """Every refresh: how far the trail has grown since the verdict, and a new check when it is due; the
        dashboard again when the trail has grown since it was read."""
        if self.isVisible() and self._dashboard_due(entries):
            self.refresh_dashboard()
        if self.verification.running or self._checked is None:
            self.audit_news.setText(f"{counted(entries, 'entry', 'entries')} in the trail")
            return
        checked, at = self._checked
        added = entries - checked
        if added <= 0:
            self.audit_news.setText(f"{counted(entries, 'entry', 'entries')} in the trail; none added since this check")
            return
        added_text = counted(added, "entry", "entries")
        self.audit_news.setText(f"{added_text} added since this check ({entries:,} in the trail now)")
        if time.monotonic() - at >= self.reverify_seconds and self.isVisible():
            self.verify()

    def _verified(self) -> None:
        if self._counted:
            self._checked = (self._counted[0], time.monotonic())
        if self.vault.is_open:  # the line under the verdict says at once what the check covered
            vault = self.vault
            submit(lambda: trail_length(vault), self._trail_counted, self._ignore)

    def _loaded(self, overview: Overview) -> None:
        self.fields["identities"].setText(f"{counted(overview.users, 'user')}, {counted(overview.groups, 'group')}")
        self.fields["targets"].setText("\n".join(overview.targets) or "none configured")
        self.fields["alerts"].setText(str(overview.alerts_today))
        self.fields["returned"].setText("\n".join(overview.returned) or "none")
        self.fields["incidents"].setText("\n".join(overview.incidents) or "none open")
        self.fields["requests"].setText(overview.requests)
        self.fields["tokens"].setText(overview.tokens)
        self.fields["backups"].setText(overview.backups)
        running = self.server.running
        endpoint = f"{'running at ' + self.server.base_url if running else 'stopped'}"
        self.fields["server"].setText("\n".join(filter(None, (endpoint, overview.certificate))))
        self.fields["policy"].setText(overview.policy)
        self.fields["outside"].setText(overview.outside)

    def _failed(self, _exc: Exception) -> None:
        self.fields["identities"].setText("could not be read (is the vault closed?)")

    def verify(self) -> None:
        """Start a verification (nothing happens while one is running)."""
        self.verification.start()

    def cancel_verification(self) -> None:
        self.verification.cancel()
