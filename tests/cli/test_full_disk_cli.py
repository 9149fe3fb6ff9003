"""Commands run where the system refuses writes to the vault: a disk quota, a file size limit, a failing disk.

The refusal is the kernel's own: the command runs under a file size limit (RLIMIT_FSIZE, `ulimit -f`), so a write
past it fails with EFBIG, which SQLite reports as SQLITE_IOERR (as it reports EDQUOT or EIO). Before, every command
that opens the vault (health, audit verify, target list…) then died with a traceback and exit status 1, which made
`custos health` read as "warn: act soon" to a monitoring system:
- when the WAL checkpoint on close was refused (an unwrapped sqlcipher error the close did not catch, so it did not
  wipe the key either), after a command had done its work;
- when recording the vault's opening on the trail was refused (its write-ahead log could not grow). A full disk
  (SQLITE_FULL, seen with `serve` on a full tmpfs) took the same path and now says the disk is full.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.cli.test_cli import ROOT
from tests.conftest import PASSPHRASE

SHM_BYTES = 32768  # SQLite's shared-memory index: it must fit under the limit


def _wal_past_the_index(vault: Vault) -> int:
    """Write until the open vault's WAL is longer than the -shm file, so a limit can sit just past its end."""
    wal = Path(f"{vault.path}-wal")
    store = TokenStore(vault)
    index = 0
    while not wal.exists() or wal.stat().st_size <= SHM_BYTES:
        store.create(f"filler-{index}")
        index += 1
    return wal.stat().st_size


def _run_on_full_disk(data_dir: Path, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "main.py", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        # no bytecode written under the limit: Python keeps a .pyc cut short by it, and the next run fails to import
        env={**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=limited,  # the limit applies to the child alone
    )


def test_a_refused_checkpoint_on_close_leaves_the_command_its_answer(vault_file: Path, data_dir: Path) -> None:
    # The shared-memory index and the command's own WAL fit under the limit; the checkpoint into the vault does not.
    assert vault_file.stat().st_size > 4 * SHM_BYTES
    checked = _run_on_full_disk(data_dir, 2 * SHM_BYTES, "health", "--json")

    assert "Traceback" not in checked.stderr
    assert "checkpoint skipped on close" in checked.stderr
    report = json.loads(checked.stdout)  # before: no report at all, the close's traceback instead
    assert checked.returncode == {"ok": 0, "warn": 1, "fail": 3}[report["overall"]]


def test_an_opening_that_cannot_be_recorded_is_said_plainly(vault: Vault, data_dir: Path) -> None:
    limit = _wal_past_the_index(vault) + 100  # the open vault (as `serve` keeps it) leaves its WAL this long

    checked = _run_on_full_disk(data_dir, limit, "health")
    verified = _run_on_full_disk(data_dir, limit, "audit", "verify")

    for ran in (checked, verified):
        assert "Traceback" not in ran.stderr
        assert ran.returncode == 2  # could not run: never "warn"
        assert "could not be written (SQLITE_IOERR" in ran.stderr and "nothing in it was changed" in ran.stderr


def test_a_backup_the_system_refuses_to_write_is_said_and_leaves_nothing(
    vault_file: Path, data_dir: Path, tmp_path: Path
) -> None:
    """Before: SQLite's error from sqlcipher_export() as a traceback (on a full tmpfs: "database or disk is full",
    which sqlcipher_export reports as SQLITE_ERROR, so is_disk_full did not know it either)."""
    out = tmp_path / "backup.vault"
    assert vault_file.stat().st_size > 4 * SHM_BYTES  # the backup is as large: it cannot fit under the limit

    made = _run_on_full_disk(data_dir, 2 * SHM_BYTES, "vault", "backup", "--out", str(out))

    assert "Traceback" not in made.stderr and made.returncode == 2
    assert f"custos: The backup to {out} failed (SQLite: disk I/O error)" in made.stderr
    assert "No backup was made." in made.stderr
    assert sorted(tmp_path.iterdir()) == [data_dir]  # neither the backup nor its .partial file is left


def test_an_audit_bundle_the_system_refuses_to_write_is_said_and_leaves_nothing(
    vault: Vault, data_dir: Path, tmp_path: Path
) -> None:
    """Before: zipfile's "Can't close the ZIP file while there is an open writing handle" hid the OSError, and
    a traceback (two, with the archive's __del__) was all the operator saw."""
    store = TokenStore(vault)
    for index in range(600):  # a trail long enough that its bundle is larger than the limit
        store.create(f"filler-{index}")
    vault.close()
    limit = 2 * SHM_BYTES
    whole = tmp_path / "whole.zip"
    assert _run_on_full_disk(data_dir, 1 << 30, "audit", "export", "--out", str(whole)).returncode == 0
    assert whole.stat().st_size > limit
    whole.unlink()

    out = tmp_path / "bundle.zip"
    made = _run_on_full_disk(data_dir, limit, "audit", "export", "--out", str(out))

    assert "Traceback" not in made.stderr and "Exception ignored" not in made.stderr
    assert made.returncode == 2 and f"custos: Cannot write {out}: File too large." in made.stderr
    assert sorted(tmp_path.iterdir()) == [data_dir]  # no bundle, no temporary file


FRAME = 4096 + 24  # a WAL frame: one page and its header


def test_a_change_the_system_refuses_to_write_is_said_not_a_traceback(vault: Vault, data_dir: Path) -> None:
    """Found on a full tmpfs (unshare, a 4 MiB mount): `dsr open` and `erase`, whose opening was recorded, then
    died at their own commit with a traceback (SQLITE_FULL there; SQLITE_IOERR under a file size limit, here).
    A statement's error would have quoted the statement and its parameters, the values being written. Now the
    vault's write transaction says what happened and that nothing of it was saved."""
    base = _wal_past_the_index(vault)
    said = []
    for frames in range(12):  # the limit moved frame by frame past the opening's: one run fails at its commit
        limit = base + 100 + frames * FRAME
        ran = _run_on_full_disk(data_dir, limit, "dsr", "open", "--type", "access", "--channel", "email")
        assert "Traceback" not in ran.stderr, ran.stderr[-1500:]
        if ran.returncode == 0:
            break
        assert ran.returncode == 2
        said.append(ran.stderr.strip().splitlines()[-1])
    assert any("this change was not saved (the vault is as it was before it)" in line for line in said), said
    opened = [line for line in said if "this change was not saved" not in line]
    assert all("nothing in it was changed" in line for line in opened)  # the opening's refusals keep their words
