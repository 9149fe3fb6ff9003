"""The new-request dialog: the intake fields, and identity matching by a search of the mirror.

The search shows zero, one or several identities; the operator picks one (or none: the request is recorded
unmatched and can be matched later). Only the chosen identity's pseudonym is stored with the request; the
requester's name, the answer address and the note are sealed with that subject's key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QDateTime, QSize, Qt, QTimeZone, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import CustosError
from app.services.dsr import Candidate, DsrRegister, find_subjects, model, settings_for
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.workers import submit

NO_MATCH = "No identity: record the request unmatched"


class NewRequestDialog(QDialog):
    def __init__(self, register: DsrRegister, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.register = register
        self.created: str | None = None
        self.setWindowTitle("New data subject request")
        self.rights: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for index, (key, label) in enumerate(model.RIGHTS.items()):
            box = QCheckBox(label)
            self.rights[key] = box
            grid.addWidget(box, index // 2, index % 2)
        self.message = plain_label(wrap=True)
        self.zone = self._controller_zone()
        self.received = received_editor(register.now(), self.zone)
        self.received.setAccessibleName(f"Received ({self.zone} time)")
        self.channel = _combo(model.CHANNELS)
        self.requester = _combo(model.REQUESTERS)
        self.requester_name = QLineEdit()
        self.authority = QLineEdit()
        self.authority.setPlaceholderText("for a representative: the authority seen")
        self.answer_channel = _combo(model.CHANNELS)
        self.answer_address = QLineEdit()
        self.answer_address.setPlaceholderText("only what answering needs")
        self.note = QLineEdit()
        self.identity = IdentitySearch(register, self.message.setText, self._failed, NO_MATCH)
        self.search, self.matches = self.identity.search, self.identity.matches
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        # Alt+T: Alt+R is "Received", and two mnemonics on one letter only move the focus between them
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record reques&t")
        self.buttons.accepted.connect(self.record)
        self.buttons.rejected.connect(self.reject)
        self._layout(grid)

    def _layout(self, grid: QGridLayout) -> None:
        form = QFormLayout()
        form.addRow("Rights asked for", grid)
        form.addRow(f"&Received ({self.zone} time)", self.received)
        form.addRow("C&hannel", self.channel)
        form.addRow("Re&quester", self.requester)
        form.addRow("Requester's &name", self.requester_name)
        form.addRow("&Authority seen", self.authority)
        form.addRow("Answer b&y", self.answer_channel)
        form.addRow("Answer a&ddress", self.answer_address)
        form.addRow("N&ote", self.note)
        form.addRow("&Identity", self.identity)
        identity_label = form.labelForField(self.identity)
        if isinstance(identity_label, QLabel):  # a label's Alt key skips a buddy that takes no focus itself
            identity_label.setBuddy(self.search)  # (a focus proxy is not enough): Alt+I did nothing
        body = QWidget()
        body.setLayout(form)
        scroll = QScrollArea()  # at 200 % the form scrolls rather than outgrowing the screen
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it took the first focus: Space ticked no right
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._fit_screen(body)

    def _fit_screen(self, body: QWidget) -> None:
        """As wide as the form where the screen allows: Qt opens a dialog at most two thirds of the screen wide
        (426 px at 640), which cut the rights' second column behind a horizontal scroll bar."""
        room = self.screen().availableGeometry()
        needed = body.sizeHint() + QSize(48, 96)  # the margins, a scroll bar, the message and the buttons
        self.resize(min(needed.width(), room.width()), min(needed.height(), room.height() * 9 // 10))

    def _controller_zone(self) -> str:
        """The zone the register reads the received time in (requests.toml or the policy's controller address);
        when the settings cannot be read, recording fails with the same reason, said here beforehand."""
        try:
            return settings_for(self.register.vault, self.register.vault.path.parent).zone
        except CustosError as exc:
            self.message.setText(exc.user_message)
            return "UTC"

    def chosen(self) -> str | None:
        return self.identity.chosen()

    # -- recording -----------------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        day, clock = self.received.date(), self.received.time()  # the wall time in the controller's zone, as
        received = datetime(day.year(), day.month(), day.day(), clock.hour(), clock.minute())  # `dsr open` reads it
        return {
            "rights": [key for key, box in self.rights.items() if box.isChecked()],
            "channel": self.channel.currentData(),
            "received": received,
            "requester": self.requester.currentData(),
            "subject_id": self.chosen(),
            "matches": self.identity.count(),
            "private": {
                "requester": {k: v for k, v in (("name", self.requester_name.text().strip()),
                                                ("authority", self.authority.text().strip())) if v},
                "answer": {k: v for k, v in (("channel", self.answer_channel.currentData()),
                                             ("address", self.answer_address.text().strip())) if v},
                "note": self.note.text().strip(),
            },
        }  # fmt: skip

    def record(self) -> None:
        values = self.values()
        if not values["rights"]:
            self.message.setText("Tick at least one right asked for.")
            return
        if values["requester"] == "representative" and not values["private"]["requester"].get("authority"):
            self.message.setText("A representative's request needs the authority seen.")
            return
        operator = login_name()
        self.buttons.setEnabled(False)
        work = partial(self.register.open, operator=operator, **values)  # no widget in the work
        submit(work, self._recorded, self._failed)

    def _recorded(self, request_id: str) -> None:
        self.created = request_id
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(user_message(exc, "The request could not be recorded."))


def received_editor(now: datetime, zone: str) -> QDateTimeEdit:
    """A time editor showing the controller's wall clock (its zone's abbreviation after the time), from the
    current minute back: never in the future, so the register never refuses it."""
    qzone = QTimeZone(zone.encode())
    latest = QDateTime.fromSecsSinceEpoch(int(now.timestamp()) // 60 * 60, qzone)
    editor = QDateTimeEdit()
    editor.setTimeZone(qzone)
    editor.setDateTime(latest)
    editor.setDisplayFormat("yyyy-MM-dd HH:mm t")  # with its zone, as the incident dialogs show times
    editor.setCalendarPopup(True)
    editor.setMaximumDateTime(latest)
    return editor


def search_mirror(register: DsrRegister, text: str) -> list[Candidate]:
    return find_subjects(register.vault, text)


class SearchField(QLineEdit):
    """Enter searches, and only searches: it must not also press the dialog's default button."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()  # not passed on: QDialog would take it for its default button
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class IdentitySearch(QWidget):
    """A search of the mirror and the identities found; the first line is always the "none" choice."""

    def __init__(self, register: DsrRegister, say: Callable[[str], None], failed: Callable[[Exception], None],
                 none_label: str, parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.register = register
        self.say = say
        self.failed = failed
        self.none_label = none_label
        self.search = SearchField()
        self.search.setPlaceholderText("userName, display name or external id")
        self.search.submitted.connect(self.run_search)
        self.search_button = QPushButton("&Search the mirror")
        self.search_button.setAutoDefault(False)
        self.search_button.clicked.connect(self.run_search)
        self.matches = QListWidget()
        self.matches.setAccessibleName("Matching identities")
        self.matches.setMinimumHeight(60)
        self.candidates: list[Candidate] = []
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.matches)
        self.setFocusProxy(self.search)
        self._list_matches([])

    def run_search(self) -> None:
        submit(partial(search_mirror, self.register, self.search.text()), self._list_matches, self.failed)

    def _list_matches(self, found: list[Candidate]) -> None:
        self.candidates = found
        self.matches.clear()
        self.matches.addItem(QListWidgetItem(self.none_label))
        for candidate in found:
            label = candidate.user_name + (f" — {candidate.display_name}" if candidate.display_name else "")
            self.matches.addItem(QListWidgetItem(label + ("" if candidate.active else " (inactive)")))
        self.matches.setCurrentRow(1 if len(found) == 1 else 0)  # one match is taken; several need a choice
        if self.search.text().strip():
            self.say(f"{len(found)} identit{'y' if len(found) == 1 else 'ies'} match.")

    def chosen(self) -> str | None:
        row = self.matches.currentRow()
        return self.candidates[row - 1].id if row >= 1 else None

    def count(self) -> int | None:
        """How many identities the search found (None: no search was made)."""
        return len(self.candidates) if self.search.text().strip() else None


class MatchDialog(QDialog):
    """Match a request recorded unmatched to an identity found later."""

    def __init__(self, register: DsrRegister, request_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.register = register
        self.request_id = request_id
        self.matched = False
        self.setWindowTitle(f"Match {request_id} to an identity")
        self.message = plain_label(wrap=True)
        self.identity = IdentitySearch(register, self.message.setText, self._failed, "(choose an identity)")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Match")
        self.buttons.accepted.connect(self.match)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Only the identity's pseudonym is stored with the request; its sealed details "
                                     "move under that person's key.", wrap=True))  # fmt: skip
        layout.addWidget(self.identity, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def match(self) -> None:
        chosen = self.identity.chosen()
        if chosen is None:
            self.message.setText("Search the mirror and choose an identity.")
            return
        operator = login_name()
        self.buttons.setEnabled(False)
        submit(partial(self.register.match, self.request_id, chosen, operator), self._matched, self._failed)

    def _matched(self, _view: object) -> None:
        self.matched = True
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(user_message(exc, "The request could not be matched."))


def _combo(keys: tuple[str, ...]) -> QComboBox:
    combo = QComboBox()
    for key in keys:
        combo.addItem(key.replace("_", " "), key)
    combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return combo
