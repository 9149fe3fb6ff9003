"""Backup key epochs attacked from outside (decision 0067): the real command line on a real data folder, with
``backup-keys.json`` lost, edited, linked elsewhere, and a process killed between the steps of a change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest

from app.audit.trail import of_kind
from app.erasure.backup_keys import KEYS_FILENAME
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE

NEW = "a brand new passphrase"
ROOT = Path(__file__).resolve().parents[2]


def _ok(folder: Path, *args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    done = run(folder, *args, passphrase=passphrase)
    assert done.returncode == 0, done.stderr
    return done


def _keys(folder: Path) -> dict:
    return json.loads((folder / KEYS_FILENAME).read_text())


def _killed_at(folder: Path, target: str, *args: str, env: dict[str, str] | None = None) -> None:
    """The real ``custos`` in its own process, killed with SIGKILL when ``target`` (module:Class.method or
    module:function) is first called: a crash between two steps, which no ``finally`` survives."""
    module, _, attr = target.partition(":")
    owner, _, name = attr.rpartition(".")
    script = (
        "import importlib, os, signal, sys\n"
        f"m = importlib.import_module({module!r})\n"
        f"owner = getattr(m, {owner!r}) if {owner!r} else m\n"
        f"setattr(owner, {name!r}, lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))\n"
        "from app.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    environment = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run([sys.executable, "-c", script, *args, "--data-dir", str(folder)], env=environment,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == -9, done.stderr  # it was killed where meant, not refused before


def test_a_lost_keys_file_is_not_begun_anew_under_numbers_the_trail_already_gave(folder: Path, tmp_path: Path) -> None:
    """Before: with backup-keys.json gone, the next backup silently began a new file at epoch 1, so `backup-keys
    list` counted the old epoch-1 backup as opening under the new key, and putting the old file back lost the new
    one's backups. Now the backup is refused with the way out, and a deliberate rotate numbers above the trail."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    _ok(folder, "vault", "backup-keys", "rotate")
    (folder / KEYS_FILENAME).unlink()
    refused = run(folder, "vault", "backup", "--out", str(tmp_path / "two.vault"))
    assert refused.returncode != 0
    assert "records backup key epochs up to 2" in refused.stderr and "Nothing was written" in refused.stderr
    assert not (tmp_path / "two.vault").exists() and not (folder / KEYS_FILENAME).exists()
    _ok(folder, "vault", "backup-keys", "rotate")
    assert [e["n"] for e in _keys(folder)["epochs"]] == [3]
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "three.vault"))
    listed = _ok(folder, "vault", "backup-keys", "list").stdout.splitlines()
    assert [line.split()[:2] + line.split()[-3:-2] for line in listed[1:2]] == [["3", "current", "1"]]
    assert listed[2].startswith("Backups recorded under backup key epochs not held here: 1 (epoch(s) 1); "
                                f"{KEYS_FILENAME} does not list them. They cannot be opened without")  # fmt: skip


def test_a_passphrase_change_killed_after_the_rekey_leaves_no_seal_the_old_passphrase_opens(
    folder: Path, tmp_path: Path
) -> None:
    """Before: killed between the rekey and dropping the old seal, backup-keys.json kept a seal under the old
    passphrase's key, and the old (perhaps leaked) passphrase opened every epoch backup until the next write of the
    file. Now the next opening of the vault drops it."""
    epoch = tmp_path / "epoch.vault"
    _ok(folder, "vault", "backup", "--out", str(epoch))
    _killed_at(folder, "app.erasure.backup_keys:BackupKeys.keep_seal", "vault", "passphrase",
               env={"CUSTOS_NEW_PASSPHRASE": NEW})  # fmt: skip
    assert len(_keys(folder)["seals"]) == 2  # the crash left both
    _ok(folder, "vault", "backup-keys", "list", passphrase=NEW)  # any opening of the vault under its key now
    assert len(_keys(folder)["seals"]) == 1
    elsewhere = tmp_path / "elsewhere"  # whoever holds the keys file and the old passphrase
    elsewhere.mkdir(mode=0o700)
    (elsewhere / KEYS_FILENAME).write_bytes((folder / KEYS_FILENAME).read_bytes())
    refused = run(elsewhere, "vault", "restore", str(epoch), "--create", "--yes", "--wait", "0")
    assert refused.returncode != 0 and "This backup does not open" in refused.stderr
    _ok(elsewhere, "vault", "restore", str(epoch), "--create", "--yes", "--wait", "0", passphrase=NEW)


def test_a_passphrase_change_killed_before_the_rekey_still_opens_under_the_old_passphrase(folder: Path) -> None:
    """The seal added for the new key before the rekey is not taken for a stale one: the vault is still under the
    old key, whose seal is kept, and a change made again settles the file."""
    _ok(folder, "vault", "backup-keys", "rotate")
    _killed_at(folder, "app.services.vault:vault_lifecycle.change_passphrase", "vault", "passphrase",
               env={"CUSTOS_NEW_PASSPHRASE": NEW})  # fmt: skip
    _ok(folder, "vault", "backup-keys", "list")
    assert len(_keys(folder)["seals"]) == 2
    os.environ["CUSTOS_NEW_PASSPHRASE"] = NEW
    try:
        _ok(folder, "vault", "passphrase")
    finally:
        del os.environ["CUSTOS_NEW_PASSPHRASE"]
    assert len(_keys(folder)["seals"]) == 1
    _ok(folder, "vault", "backup-keys", "rotate", passphrase=NEW)


def test_a_destruction_killed_before_its_trail_entry_is_put_on_the_record(folder: Path, tmp_path: Path) -> None:
    """Before: killed after the keys file was rewritten and before the trail entry committed, an epoch was
    destroyed with nothing on the record. Now the next opening records it, with the file's time of destruction."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    _ok(folder, "vault", "backup-keys", "rotate")
    _killed_at(folder, "app.services.backup_keys:append", "vault", "backup-keys", "destroy", "1", "--yes")
    destroyed_at = _keys(folder)["epochs"][0]["destroyed"]
    assert destroyed_at is not None
    _ok(folder, "audit", "verify")
    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            recorded = of_kind(conn, "vault.backup_key.destroyed", limit=10)
    finally:
        vault.close()
    said = [(e.details["epoch"], e.details["backups"], e.details["destroyed"], e.details["recorded_late"])
            for e in recorded]  # fmt: skip
    assert said == [(1, 1, destroyed_at, True)]


def _edit(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    document = _keys(folder)
    change(document)
    (folder / KEYS_FILENAME).write_text(json.dumps(document))


def test_a_destruction_undone_by_an_edit_is_said_as_an_edit_not_as_a_backup_that_opens(
    folder: Path, tmp_path: Path
) -> None:
    """Before: health, the Overview and `backup-keys list` read the list of epochs without its seal, so removing
    "destroyed" from the file turned "it cannot be opened" into "ok" and "retired". Now the seal vouches for the
    list wherever it is said from (the file has been altered), and a review copy still reads its unsealed list."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    _ok(folder, "vault", "backup-keys", "rotate")
    _ok(folder, "vault", "backup-keys", "destroy", "1", "--yes")
    honest = run(folder, "health")
    assert "its backup key epoch 1 was destroyed on" in honest.stdout
    reviewed = run(folder, "health", "--read-only")
    assert "its backup key epoch 1 was destroyed on" in reviewed.stdout

    def undo(document: dict) -> None:
        document["epochs"][0]["destroyed"] = None

    _edit(folder, undo)
    health = run(folder, "health")
    assert "backups      warn" in health.stdout and "has been altered or damaged" in health.stdout
    listed = run(folder, "vault", "backup-keys", "list")
    assert listed.returncode != 0 and "has been altered or damaged" in listed.stderr
    assert "retired" not in listed.stdout


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["epochs"][0].update(began=5),
        lambda d: d["epochs"][0].update(n="1"),
        lambda d: d["epochs"][0].update(destroyed="yesterday"),
        lambda d: d.update(vault_salt=["not", "text"]),
        lambda d: d.update(seals=["x"]),
        lambda d: d.update(epochs=[1, 2]),
    ],
    ids=["began-number", "n-text", "destroyed-not-a-time", "salt-list", "seals-list", "epochs-numbers"],
)
def test_a_keys_file_with_a_field_of_the_wrong_kind_is_damaged_not_a_traceback(folder: Path, tmp_path: Path,
                                                                               change) -> None:  # type: ignore[no-untyped-def]
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    _edit(folder, change)
    for args in (("vault", "backup-keys", "list"), ("vault", "backup-keys", "list", "--read-only")):
        listed = run(folder, *args)
        assert listed.returncode != 0 and "Traceback" not in listed.stderr, listed.stderr
        assert "backup-keys.json is damaged" in listed.stderr
    assert "backup-keys.json is damaged" in run(folder, "health").stdout


def test_a_keys_file_planted_as_a_link_is_refused_and_not_left_holding_a_destroyed_key(
    folder: Path, tmp_path: Path
) -> None:
    """Before: backup-keys.json as a symbolic link was read through; a destruction then replaced the link with a
    new file and left the file it pointed to, the destroyed epoch's secret still in it, while saying the backups
    "can no longer be opened, by anyone". Now a link is refused by everything that reads or writes the file."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    _ok(folder, "vault", "backup-keys", "rotate")
    elsewhere = tmp_path / "share" / KEYS_FILENAME
    elsewhere.parent.mkdir()
    (folder / KEYS_FILENAME).rename(elsewhere)
    (folder / KEYS_FILENAME).symlink_to(elsewhere)
    before = elsewhere.read_bytes()
    refused = run(folder, "vault", "backup-keys", "destroy", "1", "--yes")
    assert refused.returncode != 0 and "is a symbolic link" in refused.stderr
    assert "destroyed" not in refused.stdout
    assert elsewhere.read_bytes() == before and (folder / KEYS_FILENAME).is_symlink()
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "two.vault")).returncode != 0
    assert "is a symbolic link" in run(folder, "health").stdout


def test_a_backup_whose_epoch_is_destroyed_while_it_is_written_is_not_recorded_as_one_that_opens(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: another process rotating and destroying the epoch while the export ran (outside any transaction)
    left a copy no key opens, recorded under the destroyed epoch after the destruction had counted its backups,
    and the backup said it opened until that epoch was destroyed. Now it is refused and the copy removed."""
    from app.erasure import backup as backup_module

    _ok(folder, "vault", "backup", "--out", str(tmp_path / "first.vault"))
    keyed = backup_module.backup_key

    def meanwhile(secret: bytes, n: int) -> bytes:  # the export is about to begin: another process acts
        _ok(folder, "vault", "backup-keys", "rotate")
        _ok(folder, "vault", "backup-keys", "destroy", str(n), "--yes")
        return keyed(secret, n)

    monkeypatch.setattr(backup_module, "backup_key", meanwhile)
    late = tmp_path / "late.vault"
    refused = run(folder, "vault", "backup", "--out", str(late))
    monkeypatch.undo()
    assert refused.returncode != 0 and "was destroyed while this backup was being written" in refused.stderr
    assert not late.exists() and not Path(f"{late}.partial").exists()
    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            assert [e.details["key_epoch"] for e in of_kind(conn, "vault.backup.created", limit=10)] == [1]
    finally:
        vault.close()


def test_an_epoch_begun_by_another_process_during_a_passphrase_change_is_not_written_away(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the change re-sealed the keys file outside the vault's write transaction, so an epoch another
    process began between its read and its write was written away (with every backup made under it). Now the
    other process waits; whichever way the change then ends (done, or refused: the vault was in use), the epoch
    is in the file and the file opens under the key the vault is under."""
    from app.erasure import backup_keys

    _ok(folder, "vault", "backup-keys", "rotate")
    real_open, real_add_seal = backup_keys.BackupKeys._open, backup_keys.BackupKeys.add_seal
    started: list[subprocess.Popen[str]] = []
    sealing: list[bool] = []

    def add_seal(self, seal_key, new_seal_key):  # type: ignore[no-untyped-def]
        sealing.append(True)
        return real_add_seal(self, seal_key, new_seal_key)

    def another_process_rotates(self, contents, seal_key):  # type: ignore[no-untyped-def]
        if sealing and not started:  # add_seal has read the file and is about to write it
            environment = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT)}
            started.append(subprocess.Popen(
                [sys.executable, "-m", "app", "vault", "backup-keys", "rotate", "--data-dir", str(folder)],
                env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
            with suppress(subprocess.TimeoutExpired):  # before: done at once; now: it waits for this transaction
                started[0].wait(timeout=8)
        return real_open(self, contents, seal_key)

    monkeypatch.setattr(backup_keys.BackupKeys, "_open", another_process_rotates)
    monkeypatch.setattr(backup_keys.BackupKeys, "add_seal", add_seal)
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    changed = run(folder, "vault", "passphrase")
    monkeypatch.undo()
    assert started and started[0].wait(timeout=60) == 0, started[0].stderr.read() if started else ""
    in_force = NEW if changed.returncode == 0 else PASSPHRASE
    listed = run(folder, "vault", "backup-keys", "list", passphrase=in_force)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[:2] for line in listed.stdout.splitlines()[1:]] == [["1", "retired"], ["2", "current"]]


def test_a_review_copy_caught_mid_command_holds_the_list_of_epochs_and_no_seal(folder: Path, tmp_path: Path) -> None:
    """Decision 0050: a review copy holds no secret. The copy is caught as the command reads it (the process killed
    there, so nothing removes it): the epochs are there to say which backups still open, and no seal is."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    _ok(folder, "vault", "backup-keys", "rotate")
    _ok(folder, "vault", "backup-keys", "destroy", "1", "--yes")
    temp = tmp_path / "temp"
    temp.mkdir()
    _killed_at(folder, "app.services.backup_keys:epochs", "vault", "backup-keys", "list", "--read-only",
               env={"TMPDIR": str(temp)})  # fmt: skip
    copies = list(temp.glob("custos-review-*/*/" + KEYS_FILENAME))
    assert len(copies) == 1
    copied = json.loads(copies[0].read_text())
    assert copied["seals"] == {} and copied["epochs"] == _keys(folder)["epochs"]
    assert copies[0].stat().st_mode & 0o777 == 0o600
    assert not any(secret in copies[0].read_text() for secret in _keys(folder)["seals"].values())


def test_a_damaged_keys_file_does_not_stop_a_backup_from_before_epochs_and_is_said(
    folder: Path, tmp_path: Path
) -> None:
    """Before: a damaged or altered backup-keys.json refused the restore of a backup made before key epochs, which
    opens with the passphrase alone and needs no keys file. Now it is restored and the keys file's state said; an
    epoch backup with the same file is still refused with the reason."""
    from tests.legacy_backup import legacy_backup

    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        old = legacy_backup(vault, tmp_path / "before.vault")
    finally:
        vault.close()
    epoch = tmp_path / "epoch.vault"
    _ok(folder, "vault", "backup", "--out", str(epoch))
    whole = (folder / KEYS_FILENAME).read_text()
    (folder / KEYS_FILENAME).write_text(whole[:40])  # truncated
    refused = run(folder, "vault", "restore", str(epoch), "--yes", "--wait", "0")
    assert refused.returncode != 0 and "backup-keys.json is damaged" in refused.stderr
    restored = run(folder, "vault", "restore", str(old), "--yes", "--wait", "0")
    assert restored.returncode == 0, restored.stderr
    assert "opened without backup-keys.json. The backup keys file backup-keys.json is damaged." in restored.stdout


def test_a_damaged_keys_file_does_not_refuse_a_review_of_the_folder(folder: Path, tmp_path: Path) -> None:
    """Before: `--read-only` copied the list of epochs by reading the file, so a damaged backup-keys.json refused
    every review of the folder (`audit verify` of evidence included). Now the review runs and says it is damaged."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))
    whole = (folder / KEYS_FILENAME).read_text()
    (folder / KEYS_FILENAME).write_text(whole[:30])
    _ok(folder, "audit", "verify", "--read-only")
    health = run(folder, "health", "--read-only")
    assert "backup-keys.json is damaged" in health.stdout, health.stderr
    assert (folder / KEYS_FILENAME).read_text() == whole[:30]  # the folder itself is only read


def test_a_keys_file_stripped_of_its_seal_is_not_explained_by_a_restore_that_never_happened(
    folder: Path, tmp_path: Path
) -> None:
    """Before: with its seal removed, the backup was refused because "the vault was restored from a backup made
    before key epochs, under an older passphrase", and health said the file was "sealed under another passphrase":
    neither had happened. The restore is named only when the trail records one."""
    _ok(folder, "vault", "backup", "--out", str(tmp_path / "one.vault"))

    def strip(document: dict) -> None:
        document["seals"] = {}

    _edit(folder, strip)
    refused = run(folder, "vault", "backup", "--out", str(tmp_path / "two.vault"))
    assert refused.returncode != 0 and "holds no seal under the vault's key: it has been altered" in refused.stderr
    assert "restored" not in refused.stderr
    health = run(folder, "health").stdout
    assert "holds no seal under the vault's key" in health and "another passphrase" not in health
    restore = run(folder, "vault", "restore", str(tmp_path / "one.vault"), "--yes", "--wait", "0")
    assert restore.returncode != 0 and "The backup-keys.json here holds no seal" in restore.stderr
    assert "it opens with the vault's current passphrase" not in restore.stderr


def test_a_rotation_killed_before_its_trail_entry_is_put_on_the_record(folder: Path) -> None:
    """The same for a new epoch: written to the file, its `vault.backup_key.began` entry never committed."""
    _ok(folder, "vault", "backup-keys", "rotate")
    _killed_at(folder, "app.services.backup_keys:record_began", "vault", "backup-keys", "rotate")
    assert [e["n"] for e in _keys(folder)["epochs"]] == [1, 2]
    _ok(folder, "vault", "backup-keys", "list")
    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            began = [(e.details["epoch"], e.details["retired"], e.details["reason"])
                     for e in of_kind(conn, "vault.backup_key.began", limit=10)]  # fmt: skip
    finally:
        vault.close()
    assert began == [(2, 1, "recorded-late"), (1, None, "rotate")]


def test_something_planted_at_the_partial_file_is_said_not_a_traceback(folder: Path, tmp_path: Path) -> None:
    """Before: a directory at backup-keys.json.partial ended `backup-keys rotate` in a traceback (IsADirectoryError).
    A link planted there is removed, never written through."""
    _ok(folder, "vault", "backup-keys", "rotate")
    before = (folder / KEYS_FILENAME).read_bytes()
    (folder / f"{KEYS_FILENAME}.partial").mkdir()
    refused = run(folder, "vault", "backup-keys", "rotate")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "The backup keys file backup-keys.json cannot be written" in refused.stderr
    assert (folder / KEYS_FILENAME).read_bytes() == before
    (folder / f"{KEYS_FILENAME}.partial").rmdir()
    target = tmp_path / "planted"
    (folder / f"{KEYS_FILENAME}.partial").symlink_to(target)
    _ok(folder, "vault", "backup-keys", "rotate")
    assert not target.exists() and not (folder / f"{KEYS_FILENAME}.partial").exists()
