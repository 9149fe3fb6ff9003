"""The apply dialog while it works: a busy bar; checking can be cancelled, applying says it cannot be interrupted."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

import app.services.policy as policy_service
from app.policy import versions
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.policy.apply_dialog import ApplyPolicyDialog

TITLE_RULE = '[[attributes]]\npath = "title"\ncategory = "employment"\npurposes = ["internal-directory"]\n\n'


@pytest.fixture
def with_default(vault: Vault) -> Vault:
    apply_policy(vault, versions.default_policy_text(), "test")
    return vault


@pytest.fixture
def new_version(tmp_path: Path) -> Path:
    path = tmp_path / "v2.toml"
    path.write_text(versions.default_policy_text().replace(TITLE_RULE, ""), encoding="utf-8")
    return path


def test_applying_shows_progress_and_says_it_cannot_be_interrupted(
    with_default: Vault, new_version: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real = policy_service.apply_policy

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(policy_service, "apply_policy", held)  # the one apply, as the CLI's
    dialog = ApplyPolicyDialog(with_default, new_version, "alice", confirm=lambda *_args: True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.progress.isVisible()  # checking
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=5000)
    assert not dialog.progress.isVisible()
    dialog.apply()
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    try:
        assert entered.wait(10)
        assert dialog.progress.isVisible() and not cancel.isEnabled()
        assert "cannot be interrupted" in dialog.status.text() and "entirely or not at all" in dialog.status.text()
        dialog.reject()  # Escape does not pretend to stop it
        assert dialog.isVisible()
    finally:
        release.set()
    qtbot.waitUntil(lambda: dialog.record is not None, timeout=10_000)
    assert dialog.status.text() == "Applied as version 2." and not dialog.progress.isVisible()


def test_cancel_while_checking_closes_and_changes_nothing(with_default: Vault, new_version: Path, qtbot: QtBot) -> None:
    dialog = ApplyPolicyDialog(with_default, new_version, "alice", confirm=lambda *_args: True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).isEnabled()
    dialog.reject()
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.checked is not None, timeout=5000)  # the check only read the vault
    with with_default.read_connection() as conn:
        assert versions.in_force(conn).version == 1  # type: ignore[union-attr]
