"""Cancelling the Article 30 and subject exports: steps shown, and nothing left behind (no file, no trail entry)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui_support import insert_rows, user_row

import app.services.export as jobs
from app.audit.tables import AuditEvent
from app.policy import versions
from app.services.export import ExportCancelled, ExportControl, export_ropa, export_subject_files
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.exports.ropa_dialog import RopaExportDialog
from app.ui.exports.subject_action import SubjectExportDialog


@pytest.fixture
def with_default(vault: Vault) -> Vault:
    apply_policy(vault, versions.default_policy_text(), "test")
    return vault


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the exports go: not folder itself, which holds the vault."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


@pytest.fixture
def person(with_default: Vault) -> str:
    (user_id,) = insert_rows(with_default, [user_row("ada@example.org", "Ada", datetime.now(UTC))])
    return user_id


def on_trail(vault: Vault, kind: str) -> int:
    with vault.read_session() as session:
        return len(list(session.scalars(select(AuditEvent.seq).where(AuditEvent.kind == kind))))


def everything_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def cancelling_after(control: ExportControl, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, then the user's Cancel: it arrives while the output is being written."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        control.cancel()
        return result

    return wrapper


class Gate:
    """Holds the worker inside a step (after it has written) until the test lets it go."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.real(*args, **kwargs)
        self.entered.set()
        self.release.wait(10)
        return result


# -- the jobs ------------------------------------------------------------------------------------------------------
def test_ropa_cancelled_before_it_starts_writes_nothing(with_default: Vault, folder: Path) -> None:
    control = ExportControl()
    control.cancel()
    with pytest.raises(ExportCancelled):
        export_ropa(with_default, "xlsx", folder / "records.xlsx", "both", "alice", control=control)
    assert everything_in(folder) == [] and on_trail(with_default, "export.ropa") == 0


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "json"])
def test_ropa_cancelled_while_writing_leaves_no_partial_file_and_keeps_an_older_one(
    with_default: Vault, folder: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    out = folder / f"records.{fmt}"
    out.write_bytes(b"the export of last year")  # the operator chose to overwrite it
    control = ExportControl()
    monkeypatch.setattr(jobs, "write", cancelling_after(control, jobs.write))
    with pytest.raises(ExportCancelled):
        export_ropa(with_default, fmt, out, "controller", "alice", control=control)
    assert everything_in(folder) == [out.name] and out.read_bytes() == b"the export of last year"
    assert on_trail(with_default, "export.ropa") == 0


def test_ropa_cancel_after_the_file_is_in_place_is_too_late(
    with_default: Vault, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = ExportControl()
    monkeypatch.setattr(jobs, "_place", cancelling_after(control, jobs._place))
    result = export_ropa(with_default, "csv", folder / "records.csv", "controller", "alice", control=control)
    assert control.final and result.file.path.is_file()
    assert everything_in(folder) == ["records.csv"] and on_trail(with_default, "export.ropa") == 1


def test_ropa_file_that_cannot_be_recorded_is_removed(
    with_default: Vault, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_args: Any, **_kwargs: Any) -> str:
        raise RuntimeError("the trail refused it")

    monkeypatch.setattr(jobs, "record_written", failing)
    with pytest.raises(RuntimeError):
        export_ropa(with_default, "json", folder / "records.json", "controller", "alice")
    assert everything_in(folder) == [] and on_trail(with_default, "export.ropa") == 0


def test_subject_cancelled_while_writing_leaves_no_personal_data(
    with_default: Vault, person: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = folder / "new folder"
    control = ExportControl()
    monkeypatch.setattr(jobs, "export_subject", cancelling_after(control, jobs.export_subject))
    with pytest.raises(ExportCancelled):
        export_subject_files(with_default, person, out_dir, "alice", control=control)
    assert not out_dir.exists()  # the folder it made, empty, went too
    assert on_trail(with_default, "export.subject") == 0


def test_subject_cancelled_into_an_existing_folder_keeps_what_was_there(
    with_default: Vault, person: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "notes.txt").write_text("kept")
    control = ExportControl()
    monkeypatch.setattr(jobs, "export_subject", cancelling_after(control, jobs.export_subject))
    with pytest.raises(ExportCancelled):
        export_subject_files(with_default, person, folder, "alice", control=control)
    assert everything_in(folder) == ["notes.txt"]


def test_subject_export_still_writes_private_files_when_not_cancelled(
    with_default: Vault, person: str, folder: Path
) -> None:
    control = ExportControl()
    written = export_subject_files(with_default, person, folder / "out", "alice", control=control)
    assert everything_in(folder / "out") == [f"subject-{person}.json", f"subject-{person}.pdf"]
    assert all(w.path.stat().st_mode & 0o777 == 0o600 for w in written.files)
    assert json.loads(written.files[0].path.read_text(encoding="utf-8"))["content_hash"]
    assert control.final and on_trail(with_default, "export.subject") == 2


# -- the dialogs ---------------------------------------------------------------------------------------------------
def test_ropa_dialog_shows_the_step_and_cancel_removes_the_partial_file(
    with_default: Vault, qtbot: QtBot, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(jobs.write)
    monkeypatch.setattr(jobs, "write", gate)
    dialog = RopaExportDialog(with_default, operator=lambda: "alice")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.path.setText(str(folder / "records.xlsx"))
    dialog.export()
    try:
        assert gate.entered.wait(10)
        qtbot.waitUntil(lambda: dialog.status.text() == "Writing the XLSX file…", timeout=5000)
        assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
        assert [name.startswith(".records.partial-") for name in everything_in(folder)] == [True]
        dialog.reject()  # Escape while running: a cancel request, and the dialog stays to say how it ended
        assert dialog.isVisible() and not dialog.cancel_button.isEnabled()
    finally:
        gate.release.set()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=5000)
    assert dialog.status.text().startswith("Export cancelled. No file was written")
    assert dialog.outcome is None and dialog.export_button.isEnabled() and not dialog.cancel_button.isVisible()
    assert everything_in(folder) == [] and on_trail(with_default, "export.ropa") == 0

    dialog.export()  # the next export runs to the end
    gate.release.set()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20_000)
    assert everything_in(folder) == ["records.xlsx"] and on_trail(with_default, "export.ropa") == 1


def test_subject_dialog_cancel_leaves_nothing(
    with_default: Vault, person: str, qtbot: QtBot, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(jobs.export_subject)
    monkeypatch.setattr(jobs, "export_subject", gate)
    out_dir = folder / "subject"
    dialog = SubjectExportDialog(with_default, person, out_dir, "alice")
    qtbot.addWidget(dialog)
    dialog.show()
    try:
        assert gate.entered.wait(10)
        qtbot.waitUntil(lambda: "writing the files" in dialog.status.text(), timeout=5000)
        assert dialog.progress.isVisible() and not dialog.buttons.isEnabled()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert not dialog.cancel_button.isEnabled()
    finally:
        gate.release.set()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=5000)
    assert dialog.status.text().startswith("Export cancelled.") and not dialog.finished_ok
    assert not out_dir.exists() and on_trail(with_default, "export.subject") == 0
    dialog.reject()
    assert not dialog.isVisible()
