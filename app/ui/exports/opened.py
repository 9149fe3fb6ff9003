"""After an export: "Open" the file with the program the system uses for it, or "Show in folder".

Both go through QDesktopServices (xdg-open, Finder, Explorer): nothing is run by name. "Show in folder" opens
the folder that holds the file; selecting the file in it is each file manager's own business.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

Opener = Callable[[QUrl], bool]


class ExportedActions(QWidget):
    def __init__(self, opener: Opener = QDesktopServices.openUrl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.opener = opener
        self.path: Path | None = None
        self.open_button = QPushButton("&Open")
        self.open_button.setToolTip("Open the exported file with the program your system uses for it")
        self.open_button.clicked.connect(self.open_file)
        self.folder_button = QPushButton("Show in &folder")
        self.folder_button.clicked.connect(self.show_folder)
        for button in (self.open_button, self.folder_button):
            button.setAutoDefault(False)
        layout = self.row = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.open_button)
        layout.addWidget(self.folder_button)
        layout.addStretch(1)
        self.hide()

    def set_path(self, path: Path | None) -> None:
        """The file just written (None: nothing to offer, e.g. after a failure or a cancel)."""
        self.path = path
        self.setVisible(path is not None)

    def open_file(self) -> bool:
        return self.path is not None and self.opener(QUrl.fromLocalFile(str(self.path)))

    def show_folder(self) -> bool:
        return self.path is not None and self.opener(QUrl.fromLocalFile(str(self.path.parent)))
