"""File dialogs start in the user's Documents folder, never the program's folder (issue 14 §5). The platform's
file dialog itself cannot run offscreen: what is checked is the folder each one is asked to start in."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from app.ui.audit.bundle_window import choose_and_open_bundle
from app.ui.erasure.dialog import choose_receipt_folder
from app.ui.exports.ropa_dialog import default_path
from app.ui.exports.subject_action import choose_export_folder
from app.ui.policy.view import choose_policy_file
from app.ui.widgets import documents_dir


def test_documents_dir_is_the_platforms_documents_folder_or_home() -> None:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    expected = documents if Path(documents).is_dir() else str(Path.home())
    assert documents_dir() == expected and Path(documents_dir()).is_absolute()
    assert default_path("xlsx").parent == Path(documents_dir())


def test_every_file_dialog_starts_there(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the program's folder: no dialog may start here
    starts: list[str] = []

    def record(_parent: object, _caption: str, start: str = "", *_rest: object) -> tuple[str, str]:
        starts.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", record)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda p, c, start="": starts.append(start) or "")
    parent = QWidget()
    qtbot.addWidget(parent)
    assert choose_policy_file(parent) is None
    assert choose_export_folder(parent) is None
    assert choose_receipt_folder(parent) is None
    choose_and_open_bundle(parent)
    assert starts == [documents_dir()] * 4
