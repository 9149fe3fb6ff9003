"""Small keyboard-friendly forms for the actions on one request: verify, extend, record a task, refuse, answer,
lift a restriction.

Each form returns its values or None (cancelled); the page runs the change in a worker. Dates are picked in a
date editor bounded the way the register checks them, so most mistakes cannot be typed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.dsr import RequestView, RightToName, model
from app.services.erasure import GROUNDS
from app.ui.erasure.dialog import AUTOMATIC_GROUNDS
from app.ui.policy.common import plain_label

Field = tuple[str, str, QWidget]  # (key, label with its mnemonic, editor)


class FormDialog(QDialog):
    def __init__(self, title: str, intro: str, fields: Sequence[Field], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.fields = {key: editor for key, _label, editor in fields}
        form = QFormLayout()
        for _key, label, editor in fields:
            editor.setAccessibleName(label.replace("&", ""))
            form.addRow(label, editor)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(intro, wrap=True))
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, editor in self.fields.items():
            if isinstance(editor, QComboBox):
                result[key] = editor.currentData()
            elif isinstance(editor, QDateEdit):
                result[key] = editor.date().toPython()
            elif isinstance(editor, QDateTimeEdit):  # a wall time: the register reads it in the controller's zone
                day, clock = editor.date(), editor.time()
                result[key] = datetime(day.year(), day.month(), day.day(), clock.hour(), clock.minute())
            elif isinstance(editor, QPlainTextEdit):
                result[key] = editor.toPlainText().strip()
            elif isinstance(editor, QLineEdit):
                result[key] = editor.text().strip()
        return result


def combo(items: Sequence[tuple[str, Any]]) -> QComboBox:
    box = QComboBox()
    for label, value in items:
        box.addItem(label, value)
    return box


def text_box() -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)  # Tab leaves the box: keyboard users reach the buttons
    box.setMaximumHeight(90)
    return box


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def date_box(value: date, lowest: date, highest: date) -> QDateEdit:
    box = QDateEdit(_qdate(value))
    box.setDisplayFormat("yyyy-MM-dd")
    box.setCalendarPopup(True)
    box.setDateRange(_qdate(lowest), _qdate(highest))
    return box


def verify_form(view: RequestView, now: datetime, parent: QWidget | None) -> FormDialog:
    """The check and when it happened: asking for more information stops the Art. 12(6) clock on that day and its
    arrival starts it again, so the days waited (added to the period) are the real ones. Without a time the page
    recorded the moment the form was filled: information that came on Monday, recorded on Friday, paused the clock
    four days too long and moved the deadline past the one the law gives."""
    return FormDialog("Identity verification", "Art. 12(6): where there is reasonable doubt, ask for the "
                      "information needed to confirm the requester's identity — no more. When: the time more "
                      f"information was asked for, or the check was done or the information arrived ({view.zone}).", [
                          ("status", "&Status", combo([(label, key) for key, label in model.VERIFICATION.items()])),
                          ("means", "&How it was checked", QLineEdit()),
                          ("at", "&When", moment_box(view, now)),
                      ], parent)  # fmt: skip


def extend_form(view: RequestView, today: date, parent: QWidget) -> FormDialog:
    told_until = min(view.due, today)
    return FormDialog("Extend the deadline", f"Art. 12(3): once, by one or two further months; the person is told "
                      f"within the first month (by {view.due.isoformat()}) with the reasons.", [
                          ("months", "&Further months", combo([("1 month", 1), ("2 months", 2)])),
                          ("reason", "&Reason", text_box()),
                          ("told", "&Told on", date_box(told_until, view.received_day, told_until)),
                      ], parent)  # fmt: skip


def task_form(view: RequestView, parent: QWidget) -> FormDialog:
    open_tasks = [(model.RIGHTS[s.right], s.right) for s in view.steps if s.right in model.TASK_RIGHTS and not s.final]
    return FormDialog("Record a task", "Custos mirrors the identity provider: say what was done, where (the IdP, "
                      "an application) and by whom. A restriction also flags the person so the applications "
                      "receive the account as inactive.", [
                          ("right", "R&ight", combo(open_tasks)),
                          ("done", "&What was done", text_box()),
                      ], parent)  # fmt: skip


REFUSE_RIGHT = "R&ight"


def refuse_form(view: RequestView, parent: QWidget) -> FormDialog:
    rights = [("Every open right", None)] + [(model.RIGHTS[s.right], s.right) for s in view.steps if not s.final]
    return FormDialog("Refuse", "The answer will give the reasons and tell the person of the right to complain "
                      "to a supervisory authority and to a judicial remedy (Art. 12(4)).", [
                          ("right", REFUSE_RIGHT, combo(rights)),
                          ("ground", "&Ground", combo([(label, key) for key, label in model.REFUSAL_GROUNDS.items()])),
                          ("reason", "&Reasoning", text_box()),
                      ], parent)  # fmt: skip


def right_to_name_words(refused: RightToName) -> str:
    """The register's refusal of a ground beyond the right it applies to, said with the Refuse form's field (the
    command line names its option instead)."""
    field = REFUSE_RIGHT.replace("&", "")
    return (f"The Art. 17(3) exceptions apply to erasure only: refuse that right alone (Refuse…, “{field}”: "
            f"{model.RIGHTS[refused.right]}).")  # fmt: skip


def erasure_ground_form(parent: QWidget | None) -> FormDialog:
    """The Art. 17(1) ground the erasure rests on: the signed receipt states it. Without this form the page erased
    on Art. 17(1)(a) ("no longer necessary") whatever the person's ground was (consent withdrawn, an objection)."""
    grounds = [(label, key) for key, label in GROUNDS.items() if key not in AUTOMATIC_GROUNDS]
    return FormDialog("Ground of the erasure", "Art. 17(1): the ground the person's erasure rests on. The signed "
                      "erasure receipt and the audit trail state it.", [
                          ("ground", "Legal &ground", combo(grounds)),
                      ], parent)  # fmt: skip


NONE_HELD = "No personal data held about the person (Art. 15(1) confirmation)"


class AnswerDialog(FormDialog):
    """The Answer form. Recording the letter as sent asks ``check`` first (where the draft still reads "Requires
    human completion"): while anything is left, the form says what and stays open. The page recorded a draft with
    that marker as the letter sent, its SHA-256 and all."""

    def __init__(self, title: str, intro: str, fields: Sequence[Field], parent: QWidget | None,
                 check: Callable[[], list[str]] | None) -> None:  # fmt: skip
        super().__init__(title, intro, fields, parent)
        self.check = check
        self.problem = plain_label(wrap=True)
        self.problem.setAccessibleName("What is left to complete")
        self.problem.hide()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.count() - 1, self.problem)

    def accept(self) -> None:
        places = self.check() if self.check is not None and self.values()["mode"] == "sent" else []
        if places:
            self.problem.setText(f"Not recorded as sent: the letter still has parts to complete ({'; '.join(places)}"
                                 "). Choose “Draft only” to write it for review.")  # fmt: skip
            self.problem.show()
            return
        super().accept()


def answer_form(view: RequestView, today: date, parent: QWidget | None,
                check: Callable[[], list[str]] | None = None) -> AnswerDialog:  # fmt: skip
    """``check``: where the letter would still need a person's completion (app.services.dsr.left_to_complete).
    With rights still open on a GDPR request, the form offers to answer them "none held" (decision 0073): the
    person was identified and nothing about them is held — the truth, where an Art. 11(2) refusal was the only way."""
    fields: list[Field] = [
        ("mode", "&Record", combo([("Draft only", "draft"), ("Sent on the date below", "sent")])),
        ("sent", "&Sent on", date_box(today, view.received_day, today)),
    ]
    if view.gdpr and any(not s.final for s in view.steps):
        fields.append(("open_rights", "&Open rights", combo([("Leave them open", None), (NONE_HELD, "none_held")])))
    return AnswerDialog("Answer", "Writes the letter (Markdown and PDF) with the receipts of finished erasures. "
                        "Choose 'Draft only' to review it first, or record the day it was sent.", fields, parent,
                        check)  # fmt: skip


INFORMED_BY_LABELS = {"email": "E-mail", "letter": "Letter", "phone": "Phone", "in_person": "In person",
                      "form": "Web form or portal"}  # fmt: skip


def _qdatetime(moment: datetime) -> QDateTime:
    return QDateTime(_qdate(moment.date()), QTime(moment.hour, moment.minute))


def moment_box(view: RequestView, now: datetime) -> QDateTimeEdit:
    """A time for the request where the controller is, now by default, bounded by its receipt and now as the
    register checks it."""
    zone = ZoneInfo(view.zone)
    latest = now.astimezone(zone).replace(second=0, microsecond=0)
    box = QDateTimeEdit(_qdatetime(latest))
    box.setDisplayFormat("yyyy-MM-dd HH:mm")
    box.setCalendarPopup(True)
    box.setDateTimeRange(_qdatetime(view.received.astimezone(zone)), _qdatetime(latest))
    return box


def lift_form(view: RequestView, now: datetime, parent: QWidget) -> FormDialog:
    """Art. 18(3): when and how the person was told, before the lift; the time where the controller is, bounded by
    the request's receipt and now, as the register checks it."""
    box = moment_box(view, now)
    means = [(INFORMED_BY_LABELS.get(key, key), key) for key in model.INFORMED_BY]
    return FormDialog("Lift the restriction", "Art. 18(3): the person who obtained the restriction is informed "
                      "before it is lifted. Record when they were told (the time in "
                      f"{view.zone}) and how; it goes on the audit trail with the lift.", [
                          ("informed_at", "&Told on", box),
                          ("informed_by", "&How", combo(means)),
                      ], parent)  # fmt: skip
