"""Backup key epochs (decision 0067). Before: a backup was the vault under its own key, so it opened with the
passphrase alone, for ever, holding everyone erased since; nothing Custos did could put it beyond use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.audit.trail import of_kind
from app.core.errors import WrongPassphrase
from app.erasure.backup import backup
from app.erasure.backup_keys import KEYS_FILENAME, WRAP_PURPOSE, BackupKeyError, BackupKeys
from app.erasure.restore import UnopenableBackup, restore
from app.services import backup_keys
from app.store import engine
from app.store.vault import Vault
from tests.conftest import PASSPHRASE


def test_a_backup_does_not_open_with_the_passphrase_alone(vault: Vault, tmp_path: Path) -> None:
    saved = backup(vault, tmp_path / "b.vault")
    salt = engine.read_salt(saved.path)
    with pytest.raises(WrongPassphrase):
        engine.connect_raw(saved.path, engine.derive_raw_key(PASSPHRASE, salt), salt).close()
    assert saved.epoch == 1 and saved.epoch_began is not None
    with vault.read_connection() as conn:
        (made,) = of_kind(conn, "vault.backup.created")
        (began,) = of_kind(conn, "vault.backup_key.began")
    assert made.details["key_epoch"] == 1
    assert began.details == {"epoch": 1, "retired": None, "reason": "backup"}


def test_a_destroyed_epoch_puts_its_backups_beyond_use_and_the_next_epoch_still_restores(
    vault: Vault, data_dir: Path, tmp_path: Path
) -> None:
    old = backup(vault, tmp_path / "old.vault")
    backup_keys.rotate(vault)
    new = backup(vault, tmp_path / "new.vault")
    assert (old.epoch, new.epoch) == (1, 2)
    with pytest.raises(BackupKeyError, match="is the current one"):
        backup_keys.destroy(vault, 2)
    gone = backup_keys.destroy(vault, 1)
    assert gone.epoch.destroyed is not None and gone.backups == 1
    assert set(BackupKeys(data_dir).secrets(vault.derived_key(WRAP_PURPOSE))) == {2}  # the secret itself is gone
    with vault.read_connection() as conn:
        (destroyed,) = of_kind(conn, "vault.backup_key.destroyed")
    assert destroyed.details == {"epoch": 1, "backups": 1}
    vault.close()
    with pytest.raises(UnopenableBackup) as refused:
        restore(data_dir, old.path, PASSPHRASE, "dpo")
    said = refused.value.user_message
    assert "None of the backup key epochs held here (2) opens it" in said
    assert "destroyed here: 1 on " in said and "nobody can open it any more" in said
    assert not (data_dir / "custos.vault.restoring").exists()
    report = restore(data_dir, new.path, PASSPHRASE, "dpo")
    assert report.key_epoch == 2


def test_an_edit_to_the_list_of_epochs_is_refused(vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    """Undoing a destruction in the clear list (or moving a date) must not pass for the real list."""
    backup(vault, tmp_path / "b.vault")
    backup_keys.rotate(vault)
    backup_keys.destroy(vault, 1)
    path = data_dir / KEYS_FILENAME
    document = json.loads(path.read_text())
    document["epochs"][0]["destroyed"] = None
    path.write_text(json.dumps(document))
    with pytest.raises(BackupKeyError, match="altered or damaged"):
        BackupKeys(data_dir).secrets(vault.derived_key(WRAP_PURPOSE))
    with pytest.raises(BackupKeyError, match="altered or damaged"):
        backup(vault, tmp_path / "c.vault")
    assert not (tmp_path / "c.vault").exists()


def test_a_backup_in_an_epoch_older_than_30_days_begins_a_new_one(vault: Vault, tmp_path: Path) -> None:
    first = backup(vault, tmp_path / "a.vault")
    same = backup(vault, tmp_path / "b.vault", now=datetime.now(UTC) + timedelta(days=29))
    later = backup(vault, tmp_path / "c.vault", now=datetime.now(UTC) + timedelta(days=31))
    assert (first.epoch, same.epoch, later.epoch) == (1, 1, 2)
    assert same.epoch_began is None and later.epoch_began is not None
    with vault.read_connection() as conn:
        began = [e.details for e in of_kind(conn, "vault.backup_key.began")]
    assert began[0] == {"epoch": 2, "retired": 1, "reason": "backup"}
    states = {e.n: e.state for e in BackupKeys(vault.path.parent).epochs()}
    assert states == {1: "retired", 2: "current"}


def test_both_seals_open_between_the_re_seal_and_the_rekey(vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    """A crash between sealing under the new key and re-encrypting the vault leaves a file that opens under
    whichever key the vault is under; keep_seal then leaves one."""
    backup(vault, tmp_path / "b.vault")
    keys = BackupKeys(data_dir)
    old, new = vault.derived_key(WRAP_PURPOSE), vault.derived_key_under("another passphrase", WRAP_PURPOSE)
    keys.add_seal(old, new)
    assert keys.secrets(old) == keys.secrets(new)
    keys.keep_seal(new)
    assert len(json.loads((data_dir / KEYS_FILENAME).read_text())["seals"]) == 1
    with pytest.raises(BackupKeyError, match="does not open with this vault's key"):
        keys.secrets(old)


def test_a_review_copy_gets_the_epochs_without_any_seal(
    vault: Vault, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    backup(vault, tmp_path / "b.vault")
    vault.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    BackupKeys(data_dir).copy_epochs_to(copy)
    document = json.loads((copy / KEYS_FILENAME).read_text())
    assert document["seals"] == {} and [e["n"] for e in document["epochs"]] == [1]
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    assert main(["--data-dir", str(data_dir), "--read-only", "vault", "backup-keys"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["Epoch", "State", "Began", "(UTC)", "Retired", "(UTC)", "Destroyed", "(UTC)",
                                           "Backups", "Last", "backup", "(UTC)"]  # fmt: skip
    assert out.splitlines()[1].split()[:2] == ["1", "current"]
    assert main(["--data-dir", str(data_dir), "--read-only", "vault", "backup-keys", "rotate"]) != 0
    assert "--read-only works on a copy" in capsys.readouterr().err
    assert [e.n for e in BackupKeys(data_dir).epochs()] == [1]
