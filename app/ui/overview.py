"""The Overview page: the state of everything at a glance, refreshed every few seconds while it is shown.

Server, identities, each target's queue, alerts and incidents with their 72-hour clock, the policy in force,
and the last verification of the audit trail (with progress, and a Cancel while it runs). Every read runs in a
worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget
from sqlalchemy import func, select

from app.audit.query import EventFilter, count
from app.dsr.register import DsrRegister
from app.erasure.tombstones import refused_recently
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.policy.outside import not_held_by, summary
from app.scim.server import ScimServer
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.status import health
from app.ui.audit.verification import VerificationControl
from app.ui.audit.view import trail_verdict
from app.ui.incidents.view import state_text
from app.ui.requests.summary import read_overview_line
from app.ui.workers import submit

REFRESH_MS = 3000


@dataclass(frozen=True)
class Overview:
    users: int
    groups: int
    targets: list[str]
    alerts_today: int
    incidents: list[str]
    policy: str
    returned: list[str] = field(default_factory=list)  # erased people the IdP sent again (refused), newest first
    outside: str = ""  # the "Outside the policy" line: attributes, clients, requests refused or stripped
    requests: str = ""  # open data subject requests and the nearest deadline


def read_overview(vault: Vault, policy: PolicyInForce) -> Overview:
    active = policy.get()
    now = datetime.now(UTC)
    with vault.read_connection() as conn:
        counts = dict(
            conn.execute(select(ScimResource.resource_type, func.count()).group_by(ScimResource.resource_type)).all()
        )
        targets = [
            f"{t.config.name}: {t.state}, {t.pending:,} queued, {t.failed:,} failed, {t.held:,} held"
            for t in health(conn, active.policy)
        ]
        since = now.replace(hour=0, minute=0, second=0, microsecond=0)
        alerts = count(conn, EventFilter(kind_prefix="alert.", since=since))
        returned = [_returned_line(state) for state in refused_recently(conn, limit=5)]
        outside = summary(conn, not_held_by(active.minimiser)).sentence()
    incidents = [
        f"#{v.id} {v.title}: {state_text(v)}; {v.clock(now).describe()}"  # as the Incidents page says it
        for v in IncidentRegister(vault).list()
        if v.state != "closed"
    ]
    record = active.record
    policy_text = (
        f"v{record.version} ({record.sha256[:12]}), applied {record.applied_at:%Y-%m-%d %H:%M} UTC by {record.operator}"
    )
    requests = read_overview_line(DsrRegister(vault))
    return Overview(
        counts.get("User", 0), counts.get("Group", 0), targets, alerts, incidents, policy_text, returned, outside,
        requests,
    )


def _returned_line(state: object) -> str:
    """One erased person the IdP tried to send again: by request id only (the person is never named)."""
    from app.erasure.tombstones import TombstoneState

    assert isinstance(state, TombstoneState)
    last = f"{state.last_refused:%Y-%m-%d %H:%M} UTC" if state.last_refused else "unknown"
    if state.released is not None:
        return f"{state.request_id}: {state.refused} refused, released by {state.released_by}"
    return (
        f"{state.request_id}: {state.refused} re-creation(s) refused, last {last}; remove or block the person at "
        "the identity provider, or release a rehire with `custos erase release`"
    )


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
