"""The audit timeline: every entry of the trail, filterable, newest first, with a chart of activity.

Subjects appear only as the pseudonyms the trail holds. Verification of the trail's integrity runs in a worker
when asked, with a progress bar and a Cancel (app/ui/audit/verification.py), and its result stays visible above
the table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Connection

from app.audit.query import EventFilter, actors, kinds, total
from app.audit.timeseries import TimeSeries, events_by_type
from app.audit.verify import Cancelled, Progress
from app.core.wording import counted
from app.store.vault import Vault
from app.ui.audit.bundle_dialog import BundleExportDialog
from app.ui.audit.model import COLUMN_SAMPLES, EVENT_COLUMN, HEADERS, AuditTableModel
from app.ui.audit.timeline_dialog import TimelineExportDialog
from app.ui.audit.verification import VerificationControl, Verifier
from app.ui.charts import StackedBarChart
from app.ui.flow_layout import FlowLayout
from app.ui.table_model import size_columns
from app.ui.times import local_time
from app.ui.workers import submit

WINDOWS = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
}
CHART_BUCKETS = 48


def trail_verdict(conn: Connection, *, progress: Progress | None = None, cancelled: Cancelled | None = None) -> str:
    """The real verifier: chain, Merkle roots, signed checkpoints (app/audit/verify.py), in one line."""
    from app.audit.verify import verify_trail

    report = verify_trail(conn, progress=progress, cancelled=cancelled)
    covered = report.covered(when=_stored_time)
    span = f"\nCovered: {covered}" if covered else ""  # which entries, and how far a checkpoint signs them
    return f"{report.summary()} (checked {local_time(datetime.now(UTC))}){span}"


def _stored_time(stored: str | None) -> str:
    """An entry's stored ISO time as every other time on the page is written: a raw "…T10:48:52.428413Z" beside
    "11:21:21 UTC" reads as a different clock."""
    if stored is None:
        return "unknown"
    try:
        return local_time(datetime.fromisoformat(stored))
    except ValueError:  # not ours to reinterpret: say it as stored
        return stored


def _kind_prefixes(all_kinds: list[str]) -> list[str]:
    families = sorted({kind.split(".")[0] + "." for kind in all_kinds})
    return families + all_kinds


def _labelled(text: str, widget: QWidget) -> QWidget:
    """A filter and its label, kept on one line together."""
    pair = QWidget()
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text)
    label.setBuddy(widget)
    row.addWidget(label)
    row.addWidget(widget, 1)
    return pair


class AuditPage(QWidget):
    def __init__(self, vault: Vault, verifier: Verifier | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.verifier = verifier
        self.model = AuditTableModel(vault, parent=self)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # read-only: Tab leaves the table (it walked every cell)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Audit trail entries")
        self._size_columns()

        self.kind = QComboBox()
        self.kind.setAccessibleName("Event type")
        self.actor = QComboBox()
        self.actor.setAccessibleName("Actor")
        self.outcome = QComboBox()
        self.outcome.addItems(["Any outcome", "success", "failure"])
        self.window_choice = QComboBox()
        self.window_choice.addItems(list(WINDOWS))
        self.window_choice.setCurrentText("All time")
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("Subject pseudonym")
        self.subject.setClearButtonEnabled(True)
        self.subject.setMinimumWidth(self.subject.fontMetrics().horizontalAdvance("Subject pseudonym") + 40)
        for combo in (self.kind, self.actor, self.outcome, self.window_choice):
            combo.currentIndexChanged.connect(self.apply_filter)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # items arrive after sizing
        self.subject.returnPressed.connect(self.apply_filter)

        self.verdict = QLabel("Integrity not verified yet.")
        self.verdict.setWordWrap(True)  # beside the buttons in a narrow window: two lines rather than cut
        self.verify_button = QPushButton("Verif&y integrity")
        self.verify_progress = QProgressBar()
        self.verify_progress.setMaximumWidth(220)
        # The control connects the button (Verify, or Cancel while running) and shows progress.
        self.verification = (
            VerificationControl(vault, verifier, self.verify_button, self.verify_progress, self.verdict, self)
            if verifier is not None
            else None
        )
        self._verdict_is_a_count = True  # "N entries … not verified yet" until a verification says more
        if self.verification is not None:
            self.verification.verified.connect(lambda: setattr(self, "_verdict_is_a_count", False))
        self.verify_progress.setVisible(False)
        self.verify_button.setEnabled(verifier is not None)
        self.count_label = QLabel("")
        self.chart = StackedBarChart("Events over time by type")
        self.export_button = QPushButton("E&xport timeline…")
        self.export_button.setToolTip("The selected entries, or every entry the filter matches, as CSV or XLSX")
        self.export_button.clicked.connect(self.export_timeline)
        self.timeline_dialog: TimelineExportDialog | None = None
        self.bundle_button = QPushButton("Evidence &bundle…")
        self.bundle_button.setToolTip("A verifiable bundle of a time range or of the selected entries")
        self.bundle_button.clicked.connect(self.export_bundle)
        self.bundle_dialog: BundleExportDialog | None = None

        self.filters = QWidget()  # wraps onto a second line in a narrow window (one line cut Subject at 640 px)
        filters = FlowLayout(self.filters)
        for label, widget in (
            ("Type", self.kind),
            ("Actor", self.actor),
            ("Outcome", self.outcome),
            ("When", self.window_choice),
            ("Subject", self.subject),
        ):
            filters.addWidget(_labelled(label, widget))
        # The verdict on a line of its own, the page's width to wrap in: beside the buttons, a verdict with its
        # root, its span and its times widened the page past a 640 px window and was cut after two lines.
        top = QHBoxLayout()
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(self.verify_progress)
        top.addWidget(self.verify_button)
        top.addWidget(self.export_button)
        top.addWidget(self.bundle_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(self.chart)
        layout.addWidget(self.table, 1)
        self._choices_loaded = False
        self._chart_generation = 0
        self.model.loaded.connect(lambda n: self.count_label.setText(f"{n:,} shown"))
        self.model.failed.connect(self.count_label.setText)

    # -- loading ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if not self.vault.is_open:
            return
        # Every refresh: the count beside "not verified yet" follows the trail (an export adds its own entry).
        submit(self._read_choices, self._choices_read, self._ignore)
        self.apply_filter()

    def _read_choices(self) -> tuple[list[str], list[str], int]:
        with self.vault.read_connection() as conn:
            return kinds(conn), actors(conn), total(conn)

    def _choices_read(self, result: tuple[list[str], list[str], int]) -> None:
        all_kinds, all_actors, entries = result
        self._choices_loaded = True
        self._fit_event_column(all_kinds)
        if self._verdict_is_a_count:
            self.verdict.setText(f"{counted(entries, 'entry', 'entries')} in the trail. Integrity not verified yet.")
        for combo, first, values in (
            (self.kind, "Any type", _kind_prefixes(all_kinds)),
            (self.actor, "Any actor", all_actors),
        ):
            combo.blockSignals(True)
            current = combo.currentText()
            combo.clear()
            combo.addItem(first)
            combo.addItems(values)
            if current:
                combo.setCurrentText(current)
            combo.blockSignals(False)

    def current_filter(self) -> EventFilter:
        window = WINDOWS[self.window_choice.currentText()]
        now = datetime.now(UTC)
        return EventFilter(
            kind_prefix=self.kind.currentText() if self.kind.currentIndex() > 0 else None,
            actor=self.actor.currentText() if self.actor.currentIndex() > 0 else None,
            outcome=self.outcome.currentText() if self.outcome.currentIndex() > 0 else None,
            subject=self.subject.text().strip() or None,
            since=now - window if window else None,
        )

    def apply_filter(self) -> None:
        where = self.current_filter()
        self.model.set_filter(where)
        self._chart_generation += 1
        generation = self._chart_generation
        submit(lambda: (generation, self._read_chart(where)), self._chart_read, self._ignore)

    def _read_chart(self, where: EventFilter) -> tuple[TimeSeries, str]:
        end = datetime.now(UTC)
        with self.vault.read_connection() as conn:
            last = conn.exec_driver_sql("SELECT at FROM audit_events ORDER BY seq DESC LIMIT 1").scalar()
            if last:
                end = max(end, datetime.fromisoformat(last.replace("Z", "+00:00")))
            if where.since is not None:
                start = where.since
            else:
                first = conn.exec_driver_sql("SELECT at FROM audit_events ORDER BY seq LIMIT 1").scalar()
                start = datetime.fromisoformat(first.replace("Z", "+00:00")) if first else end - timedelta(hours=1)
            series = events_by_type(conn, where, start, end + timedelta(seconds=1), CHART_BUCKETS)
        return series, f"Events by type, {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"

    def _ignore(self, _exc: Exception) -> None:
        """A chart or a choice list that cannot be read is not worth a dialog; the table reports errors."""

    def _chart_read(self, answer: tuple[int, tuple[TimeSeries, str]]) -> None:
        generation, result = answer
        if generation == self._chart_generation:  # an answer to an older filter arrives late: drop it
            self.chart.set_series(*result)

    def _size_columns(self) -> None:
        size_columns(self.table, COLUMN_SAMPLES, HEADERS)

    def _fit_event_column(self, all_kinds: list[str]) -> None:
        """Widen the Event column to the longest kind on the trail (a later release's, or a long one the sample
        misses), so that two kinds sharing a beginning are never cut to the same text; never narrower than it is
        (the operator may have widened it), and at most 60 characters wide."""
        metrics = self.table.fontMetrics()
        longest = max((metrics.horizontalAdvance(kind[:60]) for kind in all_kinds), default=0)
        wanted = longest + 3 * metrics.averageCharWidth()
        if wanted > self.table.columnWidth(EVENT_COLUMN):
            self.table.setColumnWidth(EVENT_COLUMN, wanted)

    def clear_for_lock(self) -> None:
        self.cancel_verification()  # it reads the vault that is about to close
        self.model.clear()
        self.subject.clear()
        self._chart_generation += 1
        self.chart.clear()

    # -- exports ---------------------------------------------------------------------------------------------
    def selected_seqs(self) -> list[int]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return sorted(self.model.event_at(row).seq for row in rows)

    def export_timeline(self) -> TimelineExportDialog:
        """Ask what (the selection or the filtered timeline), the format and where; the dialog does the rest."""
        dialog = TimelineExportDialog(self.vault, self.current_filter(), self.selected_seqs(), parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self.refresh)  # the export is on the trail: the page shows it at once
        self.timeline_dialog = dialog
        dialog.open()
        return dialog

    def export_bundle(self) -> BundleExportDialog:
        """A time range (from the When filter) or the selection; the dialog says exactly which entries."""
        dialog = BundleExportDialog(self.vault, self.selected_seqs(), self.current_filter().since, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self.refresh)
        self.bundle_dialog = dialog
        dialog.open()
        return dialog

    # -- verification ------------------------------------------------------------------------------------
    def verify(self) -> None:
        """Start a verification (nothing happens while one is running)."""
        if self.verification is not None:
            self.verification.start()

    def cancel_verification(self) -> None:
        if self.verification is not None:
            self.verification.cancel()
