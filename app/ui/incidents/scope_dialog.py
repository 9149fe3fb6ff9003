"""The Art. 33(3)(a) figures in the app, as ``breach scope --apply``: approximately how many people and records,
which categories, computed from the mirror and the trail for a time window and attributes, then stored on the
incident when the operator accepts them (labelled approximate)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QCheckBox, QLineEdit, QPushButton, QWidget

from app.services.incidents import IncidentView, Scope, scope
from app.services.policy import PolicyInForce
from app.store.vault import Vault
from app.ui.incidents.fields import StepDialog, moment_of, time_edit
from app.ui.policy.common import plain_label, user_message
from app.ui.workers import submit


def compute(vault: Vault, policy: PolicyInForce, since: datetime | None, until: datetime | None,
            attributes: tuple[str, ...]) -> Scope:  # fmt: skip
    return scope(vault, policy, since, until, attributes)


class ScopeDialog(StepDialog):
    def __init__(self, vault: Vault, policy: PolicyInForce, view: IncidentView, now: datetime,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(f"Incident {view.id}: who and what is concerned", "Approximate figures for the notification "
                         "(Art. 33(3)(a) allows approximate numbers): Users changed in the window that hold the "
                         "attributes concerned, and the subjects in audit events of the window. Compute, check, then "
                         "store them on the incident.", parent)  # fmt: skip
        self.vault, self.policy = vault, policy
        self.computed: Scope | None = None
        self.use_from = QCheckBox("From")
        self.use_from.setChecked(view.occurred_from is not None)
        self.since = time_edit(now, view.occurred_from)
        self.use_to = QCheckBox("To")
        self.use_to.setChecked(view.occurred_to is not None)
        self.until = time_edit(now, view.occurred_to)
        self.attributes = QLineEdit()
        self.attributes.setPlaceholderText("e.g. emails, phoneNumbers (empty: any attribute)")
        self.compute_button = QPushButton("&Compute")
        self.compute_button.clicked.connect(self.compute)
        self.figures = plain_label("Not computed yet.", wrap=True)
        self.form.addRow(self.use_from, self.since)
        self.form.addRow(self.use_to, self.until)
        self.form.addRow("&Attributes", self.attributes)
        self.form.addRow(self.compute_button, self.figures)
        for signal in (self.use_from.toggled, self.use_to.toggled, self.since.dateTimeChanged,
                       self.until.dateTimeChanged, self.attributes.textChanged):  # fmt: skip
            signal.connect(self._stale)
        self._check()

    def _stale(self, *_args: object) -> None:
        if self.computed is not None:
            self.computed = None
            self.figures.setText("Changed: compute again.")
        self._check()

    def compute(self) -> None:
        since = moment_of(self.since) if self.use_from.isChecked() else None
        until = moment_of(self.until) if self.use_to.isChecked() else None
        attributes = tuple(a.strip() for a in self.attributes.text().split(",") if a.strip())
        vault, policy = self.vault, self.policy
        self.figures.setText("Computing…")
        self.compute_button.setEnabled(False)
        submit(lambda: compute(vault, policy, since, until, attributes), self._computed, self._failed)

    def _computed(self, result: Scope) -> None:
        self.compute_button.setEnabled(True)
        self.computed = result
        lines = [f"Data subjects: {result.subjects:,}; records: {result.records:,} ({result.label}).",
                 f"Subjects in audit events of the window: {result.trail_subjects:,}.",
                 *([f"Note: {result.trail_note}."] if result.trail_note else []),
                 *([f"{result.unnamed_note}."] if result.unnamed_note else []),
                 *([f"{result.members_note}."] if result.members_note else []),
                 *([f"{result.pruned_note}."] if result.pruned_note else []),
                 f"Counted: {result.basis}.",
                 f"Categories: {', '.join(result.categories) or 'none'}."]  # fmt: skip
        self.figures.setText("\n".join(lines))
        self.fit_height()  # adjustSize() left the dialog's height: the last lines were cut off (seen in Xvfb)
        self._check()

    def _failed(self, exc: Exception) -> None:
        self.compute_button.setEnabled(True)
        self.figures.setText(user_message(exc, "The figures could not be computed."))
        self.fit_height()

    def ready(self) -> bool:
        return self.computed is not None

    def value(self) -> dict[str, object]:
        assert self.computed is not None
        return {"approx_subjects": self.computed.subjects, "approx_records": self.computed.records,
                "categories": self.computed.categories}  # fmt: skip
