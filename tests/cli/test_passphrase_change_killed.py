"""A passphrase change killed between its two steps (decision 0062's open window). The rekey and its trail entry
cannot share a transaction (the rekey is SQLCipher's own commit of every page), so the change is marked in the
vault before the rekey and settled at the next opening. Before: a process killed right after the rekey left the
vault under the new passphrase with no ``vault.passphrase_changed`` entry, for ever; now the next opening records
it late, naming who changed it, and a change killed before its rekey is recorded as nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.audit.trail import of_kind
from app.services.vault import unlock_vault
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE

NEW = "a brand new passphrase"
ROOT = Path(__file__).resolve().parents[2]


def _killed(folder: Path, when: str) -> None:
    """``custos vault passphrase --operator changer`` in its own process, killed with SIGKILL right ``before`` or
    ``after`` the rekey (``Vault.change_passphrase``): a crash no ``finally`` survives."""
    script = (
        "import os, signal, sys\n"
        "from app.store.vault import Vault\n"
        "rekey = Vault.change_passphrase\n"
        "def killed(self, *args, **kwargs):\n"
        f"    if {when!r} == 'after':\n"
        "        rekey(self, *args, **kwargs)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "Vault.change_passphrase = killed\n"
        "from app.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    environment = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "CUSTOS_NEW_PASSPHRASE": NEW,
                   "PYTHONPATH": str(ROOT)}  # fmt: skip
    command = [sys.executable, "-c", script, "vault", "passphrase", "--operator", "changer", "--data-dir", str(folder)]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr  # killed where meant, not refused before


def _changes(folder: Path, passphrase: str) -> list[tuple[str, dict[str, object]]]:
    vault = unlock_vault(folder, passphrase)
    try:
        with vault.read_connection() as conn:
            return [(e.actor, e.details) for e in of_kind(conn, "vault.passphrase_changed")]
    finally:
        vault.close()


def test_killed_after_the_rekey_the_change_is_recorded_late_at_the_next_opening(folder: Path) -> None:
    _killed(folder, "after")
    assert run(folder, "audit", "tail").returncode != 0  # the old passphrase no longer opens it: it changed
    changes = _changes(folder, NEW)  # the next opening, by anyone
    assert len(changes) == 1, changes  # before: none, for ever
    actor, details = changes[0]
    assert actor == "operator:changer"  # who changed it, not who opened it next
    assert details.get("recorded_late") is True and NEW not in str(details) and PASSPHRASE not in str(details)
    assert _changes(folder, NEW) == changes  # settled once


def test_killed_before_the_rekey_nothing_is_recorded_and_a_change_goes_through(folder: Path) -> None:
    _killed(folder, "before")
    assert _changes(folder, PASSPHRASE) == []  # the vault is as it was: no change to record
    os.environ["CUSTOS_NEW_PASSPHRASE"] = NEW
    try:
        assert run(folder, "vault", "passphrase", "--operator", "again").returncode == 0
    finally:
        del os.environ["CUSTOS_NEW_PASSPHRASE"]
    assert _changes(folder, NEW) == [("operator:again", {})]  # recorded on time, once, with no late mark


def test_a_backup_made_while_a_change_was_marked_restores_without_the_mark(vault: Vault, tmp_path: Path) -> None:
    """A backup the app made in the instant between the mark and the rekey carries the mark; restored under another
    key, it would be settled as a passphrase change nobody made in the restored vault. The restore drops it."""
    from app.audit.vault_lifecycle import PENDING_CHANGE
    from app.erasure.backup import backup
    from app.erasure.restore import restore
    from app.store.models import VaultInfo

    data_dir = vault.path.parent
    with vault.write_transaction() as conn:  # a mark whose key check no key matches: settled as a change
        conn.execute(VaultInfo.__table__.insert().values(key=PENDING_CHANGE, value='{"check": "0", "actor": "x"}'))
    saved = backup(vault, tmp_path / "marked.vault")
    with vault.write_transaction() as conn:
        conn.execute(VaultInfo.__table__.delete().where(VaultInfo.key == PENDING_CHANGE))
    vault.close()
    restore(data_dir, saved.path, PASSPHRASE, "dpo")
    assert _changes(data_dir, PASSPHRASE) == []
