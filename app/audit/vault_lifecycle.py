"""Opening and creating the vault on the record: "vault.created" and "vault.unlocked" in the transaction that does it.

The store is the bottom layer and does not import the trail (issue 15 §1); it takes a :data:`~app.store.vault.Recorder`
from its caller instead. Everything that opens a vault for real use — the desktop app, the command line, `serve`,
the first-run assistant, the lock screen — goes through these functions (tests/audit/test_vault_lifecycle.py holds
app/ to it), so an opening is never off the record.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.store.vault import Vault


def record(conn: Connection, kind: str, details: dict[str, object]) -> None:
    append(conn, Event(kind, current_actor.get(), details=dict(details)))


def create_vault(data_dir: Path, passphrase: str, confirmation: str | None = None) -> Vault:
    return Vault.create(data_dir, passphrase, confirmation, record=record)


def unlock_vault(data_dir: Path, passphrase: str) -> Vault:
    return Vault.unlock(data_dir, passphrase, record=record)


def unlock_vault_with_key(data_dir: Path, raw_key: bytes) -> Vault:
    return Vault.unlock_with_key(data_dir, raw_key, record=record)


def reopen_vault(vault: Vault, passphrase: str) -> None:
    vault.reopen(passphrase, record=record)
