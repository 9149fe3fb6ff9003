"""Read-only text in which a SCIM schema URN wraps at its colons, never mid-word.

``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department`` has no break opportunity under the
Unicode line-breaking rules Qt follows, so a narrow pane split it at whatever letter reached the edge ("depart" /
"ment"). A zero-width space after each colon of a URN gives the layout the places a reader would break it at;
copying strips them again, so what lands in the clipboard (or in a search box) is the URN as stored.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QPlainTextEdit, QWidget

BREAK = "\u200b"  # zero width space: a line-break opportunity that shows nothing
_URN = re.compile(r"\burn:[^\s,;()]*[^\s,;():]", re.IGNORECASE)  # not the ":" of "path: value"


def breakable(text: str) -> str:
    """``text`` with a break opportunity after each colon inside a URN; everything else untouched."""
    return _URN.sub(lambda found: found.group(0).replace(":", ":" + BREAK), text)


def unbroken(text: str) -> str:
    return text.replace(BREAK, "")


class UrnText(QPlainTextEdit):
    """A read-only QPlainTextEdit whose ``set_text`` lets URNs wrap at ':' and whose copy gives them back whole."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)

    def set_text(self, text: str) -> None:
        self.setPlainText(breakable(text))

    def text(self) -> str:
        """The text as given (no break marks): what a test or a copy should read."""
        return unbroken(self.toPlainText())

    def createMimeDataFromSelection(self) -> QMimeData:
        mime = QMimeData()
        mime.setText(unbroken(self.textCursor().selectedText().replace("\u2029", "\n")))
        return mime
