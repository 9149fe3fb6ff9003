"""``custos health`` and the Overview's Backups line after ``vault restore``. Before: both said "none recorded",
though the vault had just been restored from a backup that exists: the backup's own ``vault.backup.created`` entry
is written to the vault it was copied from, after the copy, so the restored trail never holds it. Now they speak
of the restore, the backup restored from (its digest, and how recent the vault it holds is), and any backup since."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from app.audit.trail import StoredEvent, of_kind
from app.services.overview import backups_line
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE
from tests.legacy_backup import legacy_backup


def _backups(data_dir: Path, passphrase: str = PASSPHRASE) -> dict[str, str]:
    done = run(data_dir, "health", "--json", passphrase=passphrase)
    return next(c for c in json.loads(done.stdout)["checks"] if c["check"] == "backups")


def _overview_line(data_dir: Path) -> str:
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            return backups_line(conn, datetime.now(UTC), data_dir)
    finally:
        vault.close()


def test_after_a_restore_the_backup_restored_from_is_said(vault_file: Path, data_dir: Path, tmp_path: Path) -> None:
    nightly = tmp_path / "nightly.vault"
    assert run(data_dir, "vault", "backup", "--out", str(nightly)).returncode == 0
    assert run(data_dir, "vault", "restore", str(nightly), "--yes").returncode == 0
    digest = hashlib.sha256(nightly.read_bytes()).hexdigest()
    check = _backups(data_dir)
    assert not check["detail"].startswith("none recorded (")  # the old, untrue line
    assert check["detail"].startswith("none recorded since the restore of ")
    assert f"from a backup (sha256 {digest[:12]}…) holding the vault as of " in check["detail"]
    assert check["state"] == "ok"  # the backup restored from is a day old at most
    line = _overview_line(data_dir)
    assert line.startswith("none recorded since the restore of ") and digest[:12] in line
    later = tmp_path / "later.vault"
    assert run(data_dir, "vault", "backup", "--out", str(later)).returncode == 0
    assert _backups(data_dir)["detail"].startswith("last recorded ")  # a backup since: said as before
    assert _overview_line(data_dir).startswith("last recorded ")


def _last(data_dir: Path, kind: str) -> StoredEvent:
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            return of_kind(conn, kind, limit=1)[0]
    finally:
        vault.close()


def test_the_restore_records_how_recent_the_backup_is(vault_file: Path, data_dir: Path, tmp_path: Path) -> None:
    nightly = tmp_path / "nightly.vault"
    run(data_dir, "vault", "backup", "--out", str(nightly))
    made = _last(data_dir, "vault.backup.created")
    run(data_dir, "vault", "restore", str(nightly), "--yes")
    restored = _last(data_dir, "vault.restored")
    # the newest entry the backup held was written before the copy, which was recorded just after it
    assert restored.details["backup_as_of"] <= made.at


NEW = "a brand new passphrase"


def _changed_passphrase(data_dir: Path) -> dict[str, str]:
    """Change the passphrase to NEW in process, then the health check's backups line under it."""
    from app.services.vault import change_passphrase

    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        change_passphrase(vault, PASSPHRASE, NEW, NEW)
    finally:
        vault.close()
    return _backups(data_dir, NEW)


def test_a_passphrase_change_after_the_restore_is_said(vault_file: Path, data_dir: Path, tmp_path: Path) -> None:
    """Of a backup made before key epochs: it opens with the passphrase of its day (one made under an epoch opens
    with the new passphrase, its key re-sealed: the test below)."""
    made = Vault.unlock(data_dir, PASSPHRASE)
    try:
        nightly = legacy_backup(made, tmp_path / "nightly.vault")
    finally:
        made.close()
    run(data_dir, "vault", "restore", str(nightly), "--yes")
    check = _changed_passphrase(data_dir)
    assert check["state"] == "warn" and check["detail"].endswith("it opens with the old passphrase only")


def test_a_restored_epoch_backup_still_opens_after_a_change_and_not_after_its_epoch_is_destroyed(
    vault_file: Path, data_dir: Path, tmp_path: Path
) -> None:
    from app.services import backup_keys

    nightly = tmp_path / "nightly.vault"
    assert run(data_dir, "vault", "backup", "--out", str(nightly)).returncode == 0
    assert run(data_dir, "vault", "restore", str(nightly), "--yes").returncode == 0
    check = _changed_passphrase(data_dir)
    assert check["state"] == "ok" and "passphrase" not in check["detail"]
    vault = Vault.unlock(data_dir, NEW)
    try:
        backup_keys.rotate(vault)
        backup_keys.destroy(vault, 1)
    finally:
        vault.close()
    check = _backups(data_dir, NEW)
    assert check["state"] == "warn"
    assert check["detail"].startswith("none recorded since the restore of ")
    assert "its backup key epoch 1 was destroyed on " in check["detail"]
    assert check["detail"].endswith(": it cannot be opened")
