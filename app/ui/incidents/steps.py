"""The steps of the breach process after awareness, one dialog each, calling the register as ``custos breach`` does:
open by hand, dismiss a candidate, assess the risk, record containment, notify the authority (initial and follow-up),
the Art. 34 communication or its exemption, and close. Each dialog only collects answers; the page records them in a
worker, and the register's own checks (and messages) stay the authority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtWidgets import QButtonGroup, QCheckBox, QComboBox, QDialog, QLineEdit, QRadioButton, QWidget

from app.services.incidents import (
    EXEMPTIONS,
    TITLE_LIMIT,
    IncidentError,
    IncidentView,
    checked_title,
    deadline_of,
    state_text,
    utc_text,
)
from app.ui.incidents.fields import (
    StepDialog,
    moment_of,
    prompt_box,
    show_problem,
    text_of,
    time_edit,
    time_problem,
)
from app.ui.incidents.refusals import Here, plain
from app.ui.policy.common import plain_label
from app.ui.widgets import error_label

RISK_CHOICES = (
    ("none", "Unlikely to result in a risk: record it, no notification (Art. 33(1))"),
    ("risk", "A risk: notify the supervisory authority within 72 hours (Art. 33)"),
    ("high_risk", "A high risk: also inform the data subjects without undue delay (Art. 34)"),
)


@dataclass(frozen=True)
class Opened:
    title: str
    description: str
    detected_at: datetime


def title_problem(title: str) -> str:
    """Why the register would refuse this title ("" when it would keep it): its own rule (``checked_title``), asked
    before the dialog closes. An empty title only keeps OK disabled: no reproach before anything is typed."""
    if not title.strip():
        return ""
    try:
        checked_title(title)
    except IncidentError as refused:
        return refused.user_message
    return ""


class OpenDialog(StepDialog):
    def __init__(self, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__("Open an incident", "Record a suspected or confirmed breach by hand. The 72-hour clock starts "
                         "only when you record that the controller is aware.", parent)  # fmt: skip
        self.title = QLineEdit()
        self.title.setPlaceholderText("A short title, without personal data")
        self.title.setMaxLength(TITLE_LIMIT)  # the register keeps no more: never cut silently after OK
        self.title_problem = error_label()  # under the field: why OK is disabled, while it is
        self.title_problem.setWordWrap(True)
        self.description = prompt_box("What is known so far")
        self.detected = time_edit(now)
        self.form.addRow("&Title", self.title)
        self.form.addRow("", self.title_problem)
        self.form.addRow("&Description", self.description)
        self.form.addRow("Detected at (local time)", self.detected)
        self.title.textChanged.connect(self._check)
        self._check()

    def ready(self) -> bool:
        problem = title_problem(self.title.text())
        show_problem(self.title_problem, self.title, problem)  # the dialog grows to show it whole
        return bool(self.title.text().strip()) and not problem

    def value(self) -> Opened:
        return Opened(self.title.text().strip(), text_of(self.description), moment_of(self.detected))


class DismissDialog(StepDialog):
    def __init__(self, view: IncidentView, parent: QWidget | None = None) -> None:
        # The register dismisses any incident no one is recorded as aware of: an alert's candidate, or one opened
        # by hand on a suspicion that proved not to be a breach. The title says which it is.
        raised = "was raised by the alerts" if state_text(view) == "candidate" else "was opened by hand"
        super().__init__(f"Dismiss incident {view.id} as not a breach", f"“{view.title}” {raised}, and no one is "
                         "recorded as aware of a breach. Dismissing it closes it as not a personal-data breach (risk: "
                         "none, not notified) with your reasoning; it stays in the register and on the audit trail.",
                         parent)  # fmt: skip
        self.reason = prompt_box("Why this is not a personal-data breach")
        self.form.addRow("&Reasoning", self.reason)
        self.reason.textChanged.connect(self._check)
        self._check()

    def ready(self) -> bool:
        return bool(text_of(self.reason))

    def value(self) -> str:
        return text_of(self.reason)


class RiskDialog(StepDialog):
    def __init__(self, view: IncidentView, parent: QWidget | None = None) -> None:
        recorded = f" Recorded: {view.risk} ({utc_text(view.risk_at)})." if view.risk else ""
        super().__init__(f"Incident {view.id}: risk to the data subjects", "How likely and how severe are the "
                         "consequences for the people concerned (EDPB 9/2022)? The answer decides what Art. 33 and 34 "
                         f"require.{recorded}", parent)  # fmt: skip
        self.risk = QComboBox()
        for key, text in RISK_CHOICES:
            self.risk.addItem(text, key)
        if view.risk:
            self.risk.setCurrentIndex([key for key, _ in RISK_CHOICES].index(view.risk))
        self.reason = prompt_box("The reasoning: categories, volume, ease of identification, severity", view.risk_reason
                                 or "")  # fmt: skip
        self.form.addRow("&Risk", self.risk)
        self.form.addRow("Rea&soning", self.reason)
        self.reason.textChanged.connect(self._check)
        self._check()

    def ready(self) -> bool:
        return bool(text_of(self.reason))

    def value(self) -> tuple[str, str]:
        return str(self.risk.currentData()), text_of(self.reason)


class ContainmentDialog(StepDialog):
    """When the breach was contained, and the measures taken or proposed (Art. 33(3)(d))."""

    def __init__(self, view: IncidentView, now: datetime, parent: QWidget | None = None) -> None:
        self.recorded: datetime | None = view.contained_at
        more = (f" Contained is recorded at {utc_text(self.recorded)}: a different time is a correction and "
                "needs its reason; the earlier value stays in the history." if self.recorded else "")  # fmt: skip
        super().__init__(f"Incident {view.id}: containment", "When was the breach contained, and what was done or is "
                         f"proposed to address it and mitigate its effects (Art. 33(3)(d))?{more}", parent)  # fmt: skip
        self.measures_before = view.measures or ""
        self.contained = QCheckBox("Contained")  # the label of the time beside it, as a refusal names it
        self.contained.setChecked(True)
        self.when = time_edit(now, self.recorded)
        self.measures = prompt_box("e.g. credentials revoked, access log reviewed, recipients asked to delete",
                                   self.measures_before)  # fmt: skip
        self.reason = prompt_box("Why the containment time is corrected")
        self.view = view
        self.time_problem = error_label()  # under the time: why OK is disabled, while it is
        self.time_problem.setWordWrap(True)
        self.form.addRow(self.contained, self.when)
        self.form.addRow("", self.time_problem)
        self.form.addRow("&Measures", self.measures)
        self.form.addRow("Correction reason", self.reason)
        self.reason.setEnabled(self.recorded is not None)
        if self.recorded is not None:
            self.contained.setEnabled(False)  # a time once recorded is never blanked
        for signal in (self.contained.toggled, self.when.dateTimeChanged, self.measures.textChanged,
                       self.reason.textChanged):  # fmt: skip
            signal.connect(self._check)
        self._check()

    def changes(self) -> dict[str, object]:
        values: dict[str, object] = {}
        if self.contained.isChecked() and moment_of(self.when) != self.recorded:
            values["contained_at"] = moment_of(self.when)
        if text_of(self.measures) != self.measures_before.strip():
            values["measures"] = text_of(self.measures)
        return values

    def ready(self) -> bool:
        values = self.changes()
        correcting = "contained_at" in values and self.recorded is not None
        # The register's own check of the times together (never contained before it occurred), before closing.
        times = {"contained_at": values["contained_at"]} if "contained_at" in values else {}
        problem = time_problem(self.view, times, Here({"contained_at": plain(self.contained.text())})) if times else ""
        show_problem(self.time_problem, self.when, problem)
        return bool(values) and (not correcting or bool(text_of(self.reason))) and not problem

    def value(self) -> tuple[dict[str, object], str]:
        return self.changes(), text_of(self.reason)


class DelayReasonDialog(StepDialog):
    """The reasons for the delay (Art. 33(1)), recorded before notifying: the notification draft then carries them
    instead of a gap for the DPO."""

    def __init__(self, view: IncidentView, now: datetime, parent: QWidget | None = None) -> None:
        self.before = (view.delay_reason or "").strip()
        anchor = view.aware_anchor
        if anchor is None:
            when = "Awareness is not recorded yet, so the 72-hour deadline has not started."
        elif now > deadline_of(anchor):
            when = f"The 72-hour deadline passed at {utc_text(deadline_of(anchor))}."
        else:
            when = f"The 72-hour deadline is {utc_text(deadline_of(anchor))}."
        super().__init__(f"Incident {view.id}: reasons for the delay", "A notification later than 72 hours after "
                         "awareness is accompanied by the reasons for the delay (Art. 33(1)). Record them now and "
                         f"the notification draft carries them. {when}", parent)  # fmt: skip
        self.reason = prompt_box("e.g. the processor told us on day 3; the scope took two days to establish",
                                 self.before)  # fmt: skip
        self.form.addRow("&Reasons", self.reason)
        self.reason.textChanged.connect(self._check)
        self._check()

    def ready(self) -> bool:
        given = text_of(self.reason)
        return bool(given) and given != self.before

    def value(self) -> str:
        return text_of(self.reason)


@dataclass(frozen=True)
class NotificationAnswer:
    reference: str
    at: datetime
    summary: str
    delay_reason: str | None
    follow_up: bool


class NotificationDialog(StepDialog):
    """A notification to the supervisory authority: the first is the initial one (it stops the clock), later ones
    are follow-ups (Art. 33(4), information in phases)."""

    def __init__(self, view: IncidentView, now: datetime, parent: QWidget | None = None) -> None:
        self.anchor = view.aware_anchor
        self.initial = view.first_notified is None
        self.has_delay_reason = bool(view.delay_reason)
        kind = "the initial notification" if self.initial else f"follow-up {len(view.notifications) + 1}"
        super().__init__(f"Incident {view.id}: notify the supervisory authority", f"Record {kind} to the supervisory "
                         "authority: when it was sent and the reference the authority gave (or your own).",
                         parent)  # fmt: skip
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("e.g. the authority's case number")
        self.when = time_edit(now)
        self.summary = prompt_box("What was sent (optional)")
        self.follow_up = QCheckBox("A follow-up (information in phases, Art. 33(4))")
        self.follow_up.setChecked(not self.initial)
        self.follow_up.setEnabled(self.initial)  # after the initial one, every notification is a follow-up
        self.late = plain_label(wrap=True)
        self.delay_reason = prompt_box("Why the notification is later than 72 hours (Art. 33(1))")
        self.form.addRow("&Reference", self.reference)
        self.form.addRow("Sent at (local time)", self.when)
        self.form.addRow("&Summary", self.summary)
        self.form.addRow("", self.follow_up)
        self.form.addRow("", self.late)
        self.form.addRow("&Delay reasons", self.delay_reason)
        for signal in (self.reference.textChanged, self.when.dateTimeChanged, self.delay_reason.textChanged,
                       self.follow_up.toggled):  # fmt: skip
            signal.connect(self._check)
        self._check()

    def is_late(self) -> bool:
        if self.anchor is None or not self.initial or self.follow_up.isChecked():
            return False
        return moment_of(self.when) > deadline_of(self.anchor)

    def ready(self) -> bool:
        late = self.is_late()
        if late and self.anchor is not None:  # (late implies an anchor)
            self.late.setText(f"Past the deadline ({utc_text(deadline_of(self.anchor))}): Art. 33(1) "
                              "requires the reasons for the delay.")  # fmt: skip
        else:
            self.late.setText("")
        needs_reason = late and not self.has_delay_reason
        return bool(self.reference.text().strip()) and (not needs_reason or bool(text_of(self.delay_reason)))

    def value(self) -> NotificationAnswer:
        return NotificationAnswer(self.reference.text().strip(), moment_of(self.when), text_of(self.summary),
                                  text_of(self.delay_reason) or None, self.follow_up.isChecked())  # fmt: skip


@dataclass(frozen=True)
class CommunicationAnswer:
    informed: bool  # True: the data subjects were informed at ``at``; False: the Art. 34(3) exemption
    at: datetime | None = None
    reason: str = ""  # a correction's reason (informed) or the exemption's reasoning
    exemption: str | None = None


INFORMED_AT = "Informed at (local time)"


class CommunicationDialog(StepDialog):
    """Art. 34: the data subjects were informed (when), or one of the Art. 34(3) exemptions applies (why)."""

    def __init__(self, view: IncidentView, now: datetime, parent: QWidget | None = None) -> None:
        self.recorded: datetime | None = view.subjects_informed_at
        need = (
            "High risk: Art. 34(1) requires informing the data subjects without undue delay, unless an Art. 34(3) "
            "exemption applies."
            if view.risk == "high_risk"
            else "Art. 34 requires informing the data subjects only when the risk is high; record it if you did."
        )
        if self.recorded:
            need += f" Informed is recorded at {utc_text(self.recorded)}: a new time is a correction (reason)."
        super().__init__(f"Incident {view.id}: communication to the data subjects", need, parent)
        self.informed = QRadioButton("The data subjects were &informed")
        self.exempt = QRadioButton("An &exemption applies (Art. 34(3))")
        group = QButtonGroup(self)
        group.addButton(self.informed)
        group.addButton(self.exempt)
        self.informed.setChecked(True)
        self.when = time_edit(now, self.recorded)
        self.exemption = QComboBox()
        for key, text in EXEMPTIONS.items():
            self.exemption.addItem(text, key)
        self.reason = prompt_box("The exemption's reasoning, or why the time is corrected")
        self.view = view
        self.time_problem = error_label()  # under the time: why OK is disabled, while it is
        self.time_problem.setWordWrap(True)
        self.form.addRow(self.informed)
        self.form.addRow(INFORMED_AT, self.when)
        self.form.addRow("", self.time_problem)
        self.form.addRow(self.exempt)
        self.form.addRow("Exemption", self.exemption)
        self.form.addRow("Rea&soning", self.reason)
        for signal in (self.informed.toggled, self.when.dateTimeChanged, self.reason.textChanged):
            signal.connect(self._check)
        self._check()

    def ready(self) -> bool:
        informing = self.informed.isChecked()
        self.when.setEnabled(informing)
        self.exemption.setEnabled(not informing)
        # The register's own check of the times together (never told before the breach was detected or began),
        # before closing: otherwise the dialog closed and the refusal came on the page, the reasoning lost.
        here = Here({"subjects_informed_at": plain(INFORMED_AT)})
        problem = time_problem(self.view, {"subjects_informed_at": moment_of(self.when)}, here) if informing else ""
        show_problem(self.time_problem, self.when, problem)
        if informing:
            if self.recorded is None:
                return not problem
            return moment_of(self.when) != self.recorded and bool(text_of(self.reason)) and not problem
        return bool(text_of(self.reason))

    def value(self) -> CommunicationAnswer:
        if self.informed.isChecked():
            return CommunicationAnswer(True, moment_of(self.when), text_of(self.reason))
        return CommunicationAnswer(False, None, text_of(self.reason), str(self.exemption.currentData()))


class CloseDialog(StepDialog):
    def __init__(self, view: IncidentView, parent: QWidget | None = None) -> None:
        notified = view.first_notified is not None
        text = ("Closing checks what the register needs: the risk assessed; with a risk, the Art. 33(3) content and a "
                "notification; with a high risk, the data subjects informed or an exemption. A breach that was not "
                "notified needs the reason it is unlikely to result in a risk. A closed incident stays in the register "
                "and can no longer change.")  # fmt: skip
        super().__init__(f"Close incident {view.id}", text, parent)
        self.rationale = prompt_box("Why the breach is unlikely to result in a risk (when not notified)",
                                    view.not_notified_rationale or "")  # fmt: skip
        self.form.addRow("&Rationale", self.rationale)
        self.rationale.setEnabled(not notified)

    def value(self) -> str | None:
        return text_of(self.rationale) or None


def run_dialog(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted
