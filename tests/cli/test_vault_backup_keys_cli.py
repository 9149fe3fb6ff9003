"""``custos vault backup-keys`` (decision 0067) when the keys file is not the one the backups were made with: the list
said "No backup key epoch yet: the first backup begins one." above a trail recording a backup under epoch 1 (the
file moved away, as on a new machine without it). Now it names the backups it cannot account for."""

from __future__ import annotations

from pathlib import Path

from app.erasure.backup_keys import KEYS_FILENAME
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE
from tests.legacy_backup import legacy_backup


def test_backups_under_epochs_the_keys_file_does_not_hold_are_said(folder: Path, tmp_path: Path) -> None:
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "monday.vault")).returncode == 0
    listed = run(folder, "vault", "backup-keys")
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split()[:2] == ["1", "current"]
    assert "not held here" not in listed.stdout

    (folder / KEYS_FILENAME).rename(tmp_path / KEYS_FILENAME)  # a data folder without the file
    listed = run(folder, "vault", "backup-keys")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "No backup key epoch yet" not in listed.stdout
    assert lines[0] == "No backup key epoch is held here."
    assert lines[1].startswith("Backups recorded under backup key epochs not held here: 1 (epoch(s) 1); "
                               f"{KEYS_FILENAME} is not in the data folder.")  # fmt: skip


def test_a_folder_without_any_backup_says_the_first_backup_begins_an_epoch(folder: Path) -> None:
    listed = run(folder, "vault", "backup-keys")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["No backup key epoch yet: the first backup begins one."]


def test_backups_from_before_key_epochs_are_listed_beside_the_epochs(folder: Path, tmp_path: Path) -> None:
    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        legacy_backup(vault, tmp_path / "old.vault")
    finally:
        vault.close()
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "new.vault")).returncode == 0
    listed = run(folder, "vault", "backup-keys")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[1].split()[:2] == ["1", "current"] and lines[2].startswith("Backups made before key epochs: 1 (")
    assert "not held here" not in listed.stdout


def test_an_epoch_begun_without_the_keys_file_never_takes_a_lost_epochs_number(folder: Path, tmp_path: Path) -> None:
    """Before: with backup-keys.json gone, `rotate` (and the next backup) began "epoch 1" again, and the list counted
    the backup made under the lost epoch 1 as this new epoch's: "1 current … 1 backup", under a key that never opened
    it (and a restore would have named the wrong epoch)."""
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "monday.vault")).returncode == 0
    (folder / KEYS_FILENAME).rename(tmp_path / KEYS_FILENAME)
    rotated = run(folder, "vault", "backup-keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("Backup key epoch 2 began")
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "tuesday.vault")).returncode == 0
    lines = run(folder, "vault", "backup-keys").stdout.splitlines()
    assert lines[1].split()[:2] == ["2", "current"] and lines[1].split()[-3] == "1"  # tuesday's, and only it
    assert lines[2].startswith("Backups recorded under backup key epochs not held here: 1 (epoch(s) 1); "
                               f"{KEYS_FILENAME} does not list them.")  # fmt: skip


def test_the_backup_restored_from_counts_under_its_epoch(folder: Path, tmp_path: Path) -> None:
    """Found restoring the README's backup: after the restore, `vault backup-keys` listed epoch 1 with "0" backups
    and "-" for the last, though the vault had just come out of a backup made under epoch 1 (its own record went to
    the vault it was copied from); destroying epoch 1 then said it put no backup beyond use. The backup restored
    from now counts, once, at the time of the newest entry it holds."""
    backup = tmp_path / "monday.vault"
    assert run(folder, "vault", "backup", "--out", str(backup)).returncode == 0
    assert run(folder, "vault", "restore", str(backup), "--yes").returncode == 0
    row = run(folder, "vault", "backup-keys").stdout.splitlines()[1].split()
    assert row[:2] == ["1", "current"] and row[-3] == "1" and row[-2] != "-", row
    assert run(folder, "vault", "restore", str(backup), "--yes").returncode == 0  # the same backup again: still one
    assert run(folder, "vault", "backup-keys").stdout.splitlines()[1].split()[-3] == "1"
    assert run(folder, "vault", "backup-keys", "rotate").returncode == 0
    destroyed = run(folder, "vault", "backup-keys", "destroy", "1", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    assert "Backup key epoch 1 destroyed: 1 backup(s) made under it can no longer be" in destroyed.stdout
