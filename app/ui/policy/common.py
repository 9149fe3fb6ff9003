"""Small helpers shared by the Policy page and its dialogs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from app.core.actor import operator_login
from app.core.errors import CustosError

log = logging.getLogger(__name__)

Confirm = Callable[[QWidget, str, str], bool]


def ask(parent: QWidget, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question, defaultButton=QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def plain_label(text: str = "", wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(wrap)
    return label


def user_message(exc: Exception, fallback: str) -> str:
    """The error's own plain-language text, or a fallback; only the type is logged, never the content."""
    if isinstance(exc, CustosError):
        return exc.user_message
    log.error("%s: %s", fallback, type(exc).__name__)
    return fallback


def login_name() -> str:
    """Who applies a policy from the app: the same rule as the command line ($CUSTOS_OPERATOR or the login)."""
    return operator_login()
