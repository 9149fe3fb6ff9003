"""Comparing two policy versions: the readable summary first, then the unified diff with coloured lines."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.services.policy import PolicyDiff
from app.ui.policy.common import plain_label
from app.ui.policy.models import short_sha
from app.ui.theme import status_colour
from app.ui.widgets import resize_within_screen


def line_colour(line: str) -> QColor | None:
    """The colour of one unified-diff line: file headers stay plain, so '---'/'+++' are checked first."""
    if line.startswith(("---", "+++")):
        return None
    if line.startswith("+"):
        return status_colour("added")
    if line.startswith("-"):
        return status_colour("removed")
    if line.startswith("@@"):
        return status_colour("hunk")
    return None


class DiffHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

    def highlightBlock(self, text: str) -> None:
        colour = line_colour(text)
        if colour is not None:
            fmt = QTextCharFormat()
            fmt.setForeground(colour)
            self.setFormat(0, len(text), fmt)


def read_only_text(text: str, monospace: bool = False) -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap if monospace else QPlainTextEdit.LineWrapMode.WidgetWidth)
    if monospace:
        view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    view.setPlainText(text)  # plain text: nothing in a policy file is ever rendered as markup
    return view


class DiffDialog(QDialog):
    def __init__(self, diff: PolicyDiff, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        old, new = diff.old, diff.new
        self.setWindowTitle(f"Policy v{old.version} → v{new.version}")
        heading = plain_label(
            f"From v{old.version} ({short_sha(old.sha256)}, by {old.operator}) "
            f"to v{new.version} ({short_sha(new.sha256)}, by {new.operator})"
        )
        self.summary = read_only_text("\n".join(diff.summary))
        self.text_diff = read_only_text("", monospace=True)
        self.highlighter = DiffHighlighter(self.text_diff.document())  # before the text: coloured as it is set
        self.text_diff.setPlainText("\n".join(diff.text_diff) or "The files are identical.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QLabel("What changed"))
        layout.addWidget(self.summary, 1)
        layout.addWidget(QLabel("Line by line"))
        layout.addWidget(self.text_diff, 3)
        layout.addWidget(buttons)
        resize_within_screen(self, 900, 650)
