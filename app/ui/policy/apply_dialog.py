"""Applying a policy file: validate, show the impact, confirm, apply — every step that reads the vault in a worker.

The dialog is opened non-modally by the page (``open()``), and asks its confirmation through an injected
callable, so tests drive it without a blocking event loop.

Checking only reads: Cancel closes the dialog and nothing changes. Applying is one transaction: once started it
cannot be interrupted, so the dialog says so (and offers no Cancel) until it reports the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConfigError
from app.services import policy as policy_service
from app.services.policy import Impact, PolicyInForce, PolicyRecord, Problem, errors_of
from app.store.vault import Vault
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import Confirm, ask, plain_label, user_message
from app.ui.theme import status_colour
from app.ui.widgets import resize_within_screen
from app.ui.workers import submit

APPLYING = (
    "Applying… This is one transaction and cannot be interrupted once started: the version is applied entirely "
    "or not at all."
)


@dataclass(frozen=True)
class Checked:
    """A policy file as read and checked: its problems, and the impact when it can be applied."""

    text: str
    problems: list[Problem]
    impact: Impact | None

    @property
    def errors(self) -> list[Problem]:
        return errors_of(self.problems)


def read_policy_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name} is not UTF-8 text.") from exc


def check_file(vault: Vault, path: Path) -> Checked:
    """Worker side: read, validate, and (only for a valid file) preview the impact on the stored data."""
    return check_text(vault, read_policy_file(path))


def check_text(vault: Vault, text: str, based_on: int | None = None) -> Checked:
    """Worker side, for a text edited in the app: ``based_on`` is the version the edit started from; a version
    applied since (from another window, the command line) would be silently undone by applying this one."""
    _policy, problems = policy_service.check(text)
    if errors_of(problems):
        return Checked(text, problems, None)
    return Checked(text, problems, policy_service.impact(vault, text, based_on))


def describe_problem(problem: Problem) -> str:
    return f"Line {problem.line}: {'warning' if problem.warning else 'error'}: {problem.message}"


class ApplyPolicyDialog(QDialog):
    applied = Signal(object)  # the new PolicyRecord

    def __init__(
        self,
        vault: Vault,
        path: Path | None,
        operator: str,
        in_force: PolicyInForce | None = None,
        confirm: Confirm = ask,
        parent: QWidget | None = None,
        *,
        text: str | None = None,
        based_on: int | None = None,
        source: str = "",
    ) -> None:
        """A file (``path``), or a ``text`` made in the app: in the policy editor from version ``based_on``, or by a
        decision in "Outside the policy", described by ``source``."""
        super().__init__(parent)
        self.vault = vault
        self.path = path
        self.operator = operator
        self.in_force = in_force
        self.confirm = confirm
        self.reauthenticate: Reauthenticate | None = None  # set by the page: the passphrase again before applying
        self.checked: Checked | None = None
        self.record: PolicyRecord | None = None
        self.setWindowTitle(f"Apply policy file {path.name}" if path is not None else "Apply a policy change")

        self.status = plain_label("Checking the file and what it would change…", wrap=True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: neither step reports how far it is
        self.progress.setAccessibleName("Policy check or apply in progress")
        self.problems = QListWidget()
        self.impact = QListWidget()
        self.impact.setWordWrap(True)
        self.problems_label = QLabel("Problems")
        self.impact_label = QLabel("What applying it would change")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button: QPushButton = self.buttons.addButton("&Apply…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        described = source or f"Edited in the policy editor, from version {based_on}"
        layout.addWidget(plain_label(str(path) if path is not None else described, wrap=True))
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.impact_label)
        layout.addWidget(self.impact, 1)
        layout.addWidget(self.buttons)
        self._show_sections(problems=False, impact=False)
        resize_within_screen(self, 800, 550)
        self._busy = False
        if text is not None:
            submit(lambda: check_text(vault, text, based_on), self._checked, self._failed)
        elif path is not None:
            submit(lambda: check_file(vault, path), self._checked, self._failed)

    def _show_sections(self, problems: bool, impact: bool) -> None:
        for widget in (self.problems_label, self.problems):
            widget.setVisible(problems)
        for widget in (self.impact_label, self.impact):
            widget.setVisible(impact)

    def problem_lines(self) -> list[str]:
        return [self.problems.item(i).text() for i in range(self.problems.count())]

    def impact_lines(self) -> list[str]:
        return [self.impact.item(i).text() for i in range(self.impact.count())]

    def _checked(self, checked: Checked) -> None:
        self.checked = checked
        self.progress.setVisible(False)
        self.problems.clear()
        for problem in sorted(checked.problems, key=lambda p: (p.warning, p.line)):  # errors first: they block
            item = QListWidgetItem(describe_problem(problem))
            if not problem.warning:
                item.setForeground(status_colour("error"))
            self.problems.addItem(item)
        errors = checked.errors
        self._show_sections(problems=bool(checked.problems), impact=checked.impact is not None)
        if errors or checked.impact is None:
            noun = "error" if len(errors) == 1 else "errors"
            self.status.setText(f"{len(errors)} {noun} in this file: correct it and try again. Nothing was changed.")
            return
        self.impact.clear()
        self.impact.addItems(checked.impact.lines())
        if checked.impact.unchanged:
            self.status.setText("This version is already in force.")
            return
        self.status.setText("The file is valid. Review what would change, then apply.")
        self.apply_button.setEnabled(True)

    def apply(self) -> None:
        checked = self.checked
        if checked is None or checked.impact is None or checked.errors or checked.impact.unchanged:
            return
        purges = bool(checked.impact.removed or checked.impact.resources_deleted)
        question = "Apply this policy version? It takes effect at the SCIM endpoint at once." + (
            "\n\nThe data it no longer allows is erased from the vault permanently." if purges else ""
        )
        if not self.confirm(self, "Apply policy", question):
            return
        if self.reauthenticate is not None and not self.reauthenticate(self, "apply this policy version"):
            self.status.setText("Not applied.")
            return
        self._set_busy(True)
        self.status.setText(APPLYING)
        vault, text, operator, in_force = self.vault, checked.text, self.operator, self.in_force

        # The running SCIM server (in_force) enforces the new version from the next request.
        submit(lambda: policy_service.apply(vault, text, operator, in_force)[0], self._applied, self._failed)

    def _applied(self, record: PolicyRecord) -> None:
        self.record = record
        self.status.setText(f"Applied as version {record.version}.")
        self._set_busy(False)
        self.applied.emit(record)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.status.setText(user_message(exc, "The policy could not be checked or applied. Nothing was changed."))
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.apply_button.setEnabled(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setEnabled(not busy)
        cancel.setToolTip("Applying cannot be interrupted once started." if busy else "")

    def reject(self) -> None:
        if not self._busy:  # closing mid-apply would hide whether the version was applied
            super().reject()
