"""A vault that cannot be written, or is too short to be one, is named for what it is: never a wrong passphrase
(the operator retries one that was right) and never damage (the advice is to restore a backup over a good vault)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3.dbapi2 as sqlcipher

from app.core.errors import VaultCorrupt, VaultError, WrongPassphrase
from app.store import integrity
from app.store.vault import Vault, vault_path
from tests.conftest import PASSPHRASE, VaultTemplate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_vault_sqlite_may_not_write_is_neither_damaged_nor_locked_by_another_passphrase(
    data_dir: Path, vault_template: VaultTemplate
) -> None:
    """Before: on a read-only disk every command said 'damaged … restore your latest backup' (SQLITE_CANTOPEN was
    read as a wrong key, and a wrong key after the probe as damage); with the -shm unusable, a traceback."""
    path = vault_template.copy_into(data_dir)
    Path(f"{path}-shm").mkdir()  # SQLite cannot make its shared-memory index: the vault opens read-only at best
    before = _digest(path)

    with pytest.raises(VaultError) as raised:
        Vault.unlock_with_key(data_dir, vault_template.key)

    assert not isinstance(raised.value, (VaultCorrupt, WrongPassphrase))
    assert "cannot be opened for writing" in raised.value.user_message
    assert "damaged" not in raised.value.user_message and _digest(path) == before


@pytest.mark.parametrize("size", [0, 10])
def test_a_vault_too_short_to_hold_its_salt_is_damaged_and_the_passphrase_untried(data_dir: Path, size: int) -> None:
    """Before: an emptied vault file (a full disk, a broken copy) read as 'The passphrase does not unlock'."""
    vault_path(data_dir).write_bytes(b"\0" * size)

    with pytest.raises(VaultCorrupt) as raised:
        Vault.unlock(data_dir, PASSPHRASE)

    assert "too short to be a vault" in raised.value.user_message
    assert "could not be tried" in raised.value.user_message and "is right" not in raised.value.user_message


def test_a_vault_shorter_than_one_page_does_not_claim_the_passphrase_is_right(
    data_dir: Path, vault_template: VaultTemplate
) -> None:
    path = vault_template.copy_into(data_dir)
    path.write_bytes(path.read_bytes()[:2000])

    with pytest.raises(VaultCorrupt) as raised:
        Vault.unlock_with_key(data_dir, vault_template.key)

    assert "could not be tried" in raised.value.user_message


class _NoShm:
    """A read-only handle whose integrity check fails as on a read-only folder (SQLite cannot make the -shm)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def execute(self, sql: str) -> Any:
        if sql.startswith("PRAGMA integrity_check"):
            error = sqlcipher.OperationalError("unable to open database file")
            error.sqlite_errorcode, error.sqlite_errorname = 14, "SQLITE_CANTOPEN"  # type: ignore[attr-defined]
            raise error
        return self._real.execute(sql)

    def close(self) -> None:
        self._real.close()


def test_vault_check_gives_no_damaged_verdict_when_it_could_not_run(
    data_dir: Path, vault_template: VaultTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: 'Integrity check: not run … (SQLITE_CANTOPEN)' and 'Verdict: damaged. Restore your latest backup'."""
    path = vault_template.copy_into(data_dir)
    real = integrity._readonly
    monkeypatch.setattr(integrity, "_readonly", lambda *args, **kwargs: _NoShm(real(*args, **kwargs)))

    with pytest.raises(VaultError) as raised:
        integrity.check(path, vault_template.key, vault_template.salt)

    assert not isinstance(raised.value, VaultCorrupt) and "could not be checked here" in raised.value.user_message
