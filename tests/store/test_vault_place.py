"""A folder where the vault file belongs is said as such. Before: creating answered "A vault already exists at …;
unlock it instead" (``init``, ``serve``, the app's first run), which cannot be done, and unlocking said "No vault"."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit.vault_lifecycle import create_vault, unlock_vault
from app.cli import main
from app.core.errors import VaultError
from app.store.vault import Vault, vault_path
from tests.conftest import PASSPHRASE


@pytest.fixture
def folder_in_place(data_dir: Path) -> Path:
    place = vault_path(data_dir)
    place.mkdir()
    return place


def _said(error: pytest.ExceptionInfo[VaultError], place: Path) -> None:
    message = error.value.user_message
    assert message.startswith(f"{place} is a folder, not a vault file")
    assert "already exists" not in message and "unlock it" not in message


def test_create_unlock_and_exists_name_the_folder(data_dir: Path, folder_in_place: Path) -> None:
    with pytest.raises(VaultError) as created:
        create_vault(data_dir, PASSPHRASE, PASSPHRASE)
    _said(created, folder_in_place)
    with pytest.raises(VaultError) as unlocked:
        unlock_vault(data_dir, PASSPHRASE)
    _said(unlocked, folder_in_place)
    with pytest.raises(VaultError):
        Vault.exists(data_dir)  # the app would otherwise start a first run that can only fail at its end
    assert list(folder_in_place.iterdir()) == [] and sorted(p.name for p in data_dir.iterdir()) == ["custos.vault"]


@pytest.mark.parametrize("command", [["serve", "--no-tls", "--port", "0"], ["token", "list"], ["vault", "check"]])
def test_the_command_line_says_it_in_one_line(
    command: list[str],
    data_dir: Path,
    folder_in_place: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    assert main([*command, "--data-dir", str(data_dir)]) == 2
    error = capsys.readouterr().err.splitlines()
    assert len(error) == 1 and error[0].startswith(f"custos: {folder_in_place} is a folder, not a vault file")
    assert "'custos vault restore BACKUP'" in error[0]
