""" "Export an evidence bundle" from the Audit page: the entries of a time range, or the selected entries.

A bundle holds a contiguous run of entries, so that their chain can be checked; for a selection that is every
entry from the first selected to the last, and the dialog says how many that is before anything is written. The
work is app.audit.bundle_export's (the same as ``custos audit export``, on the trail the same way); afterwards the
dialog offers Open in the bundle viewer (which verifies it), Open, and Show in folder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.audit.bundle import BundleInfo
from app.audit.bundle_export import export_recorded_bundle
from app.store.vault import Vault
from app.ui.audit.bundle_window import open_bundle_window
from app.ui.exports.dialog import ExportDialog, ask_save_path
from app.ui.policy.common import login_name, plain_label
from app.ui.widgets import documents_dir
from app.ui.workers import submit

ChoosePath = Callable[[QWidget, Path], Path | None]
_UTC = QTimeZone.utc()


def choose_bundle_path(parent: QWidget, suggested: Path) -> Path | None:
    return ask_save_path(parent, "Export an evidence bundle", suggested, "Evidence bundles (*.zip)")


def default_bundle_path(now: datetime | None = None) -> Path:
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%d-%H%M")
    return Path(documents_dir()) / f"custos-evidence-{moment}.zip"


def first_entry_time(vault: Vault) -> datetime | None:
    """When the trail's first entry was written (whole seconds, rounded down: the range's start is included)."""
    with vault.read_connection() as conn:
        first = conn.exec_driver_sql("SELECT at FROM audit_events ORDER BY seq LIMIT 1").scalar()
    return datetime.fromisoformat(first.replace("Z", "+00:00")).replace(microsecond=0) if first else None


def _edit(moment: datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(moment.timestamp()), _UTC))
    edit.setTimeZone(_UTC)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
    edit.setCalendarPopup(True)
    return edit


def _moment(edit: QDateTimeEdit) -> datetime:
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)


class BundleExportDialog(ExportDialog):
    busy_text = "Signing a checkpoint and writing the bundle…"
    failure_text = "The evidence bundle could not be exported."
    what = "the bundle"

    def __init__(
        self,
        vault: Vault,
        selected: list[int],
        since: datetime | None,
        choose_path: ChoosePath = choose_bundle_path,
        operator: Callable[[], str] = login_name,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Export an evidence bundle", default_bundle_path(now()), parent)
        self.vault, self.choose_path, self.operator = vault, choose_path, operator
        self.selected = sorted(selected)
        self.outcome: BundleInfo | None = None
        self.viewer: QDialog | None = None

        end = now().replace(microsecond=0) + timedelta(seconds=1)  # the range's end is excluded: take this second
        self.by_time = QRadioButton("Entries timed in a range (UTC)")
        self.start = _edit(since or end - timedelta(days=1))
        self.end = _edit(end)
        self.by_selection = QRadioButton(self._selection_text())
        self.by_selection.setEnabled(bool(self.selected))
        (self.by_selection if self.selected else self.by_time).setChecked(True)
        self.start_chosen = False  # the user (or a caller) set the start: a default read later does not replace it
        for edit in (self.start, self.end):
            edit.dateTimeChanged.connect(lambda _value: self.by_time.setChecked(True))
        self.start.dateTimeChanged.connect(lambda _value: setattr(self, "start_chosen", True))
        self.note = plain_label(
            "A bundle can be verified anywhere, without the vault: each entry with its proof in the signed tree, "
            "and the chain from the entry before it. It is recorded on the audit trail.",
            wrap=True,
        )
        self.view_button = QPushButton("Open in the bundle &viewer")
        self.view_button.setToolTip("Verify the bundle and read it, as its recipient will")
        self.view_button.setAutoDefault(False)
        self.view_button.clicked.connect(self.view)
        self.exported_actions.row.insertWidget(0, self.view_button)

        times = QGridLayout()
        times.addWidget(QLabel("From"), 0, 0)
        times.addWidget(self.start, 0, 1)
        times.addWidget(QLabel("to (excluded)"), 1, 0)
        times.addWidget(self.end, 1, 1)
        times.setColumnStretch(2, 1)
        entries = QVBoxLayout()
        entries.addWidget(self.by_time)
        entries.addLayout(times)
        entries.addWidget(self.by_selection)
        form = QFormLayout()
        form.addRow("Entries", entries)
        self.lay_out(form, self.note, 640)
        if since is None:  # "All time": from the first entry (a primary-key lookup, in a worker)
            submit(lambda: first_entry_time(vault), self._first_entry_read, lambda _exc: None)

    def _first_entry_read(self, first: datetime | None) -> None:
        if first is None or self.start_chosen:
            return
        self.start.blockSignals(True)  # a default, not the user's choice of a time range
        self.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(first.timestamp()), _UTC))
        self.start.blockSignals(False)

    def _selection_text(self) -> str:
        if not self.selected:
            return "The selected entries (select rows in the timeline first)"
        first, last = self.selected[0], self.selected[-1]
        span = last - first + 1
        if span == 1:
            return f"The selected entry, {first:,}"
        if span == len(self.selected):
            return f"The {span:,} selected entries: {first:,} to {last:,}"
        between = span - len(self.selected)
        return (
            f"Entries {first:,} to {last:,}: the {len(self.selected):,} selected and the {between:,} between them "
            f"({span:,} in all), so that their chain can be checked"
        )

    def browse(self) -> None:
        self.output.choose(lambda start: self.choose_path(self, start), default_bundle_path())

    def job_for(self, out: Path) -> Callable[[], BundleInfo]:
        """A missing folder is refused by the export itself ("The folder … does not exist."), as the CLI's is."""
        actor, vault = f"operator:{self.operator()}", self.vault
        if self.by_selection.isChecked():
            seqs = (self.selected[0], self.selected[-1])
            return lambda: export_recorded_bundle(vault, out, actor, seqs=seqs)
        start, end = _moment(self.start), _moment(self.end)
        return lambda: export_recorded_bundle(vault, out, actor, start=start, end=end)

    def inputs(self) -> list[QWidget]:
        return [self.start, self.end, self.by_time, self.by_selection]

    def usable(self, widget: QWidget) -> bool:
        return widget is not self.by_selection or bool(self.selected)

    def exported(self, info: BundleInfo) -> None:
        self.outcome = info
        said = (f"Exported entries {info.first_seq:,} to {info.last_seq:,} ({info.entries:,}), with checkpoint "
                f"{info.checkpoint.fingerprint}; recorded on the audit trail.")  # fmt: skip
        self.show_written(said, info.path, info.sha256)

    def view(self) -> None:
        if self.outcome is not None:
            self.viewer = open_bundle_window(self, self.outcome.path)
