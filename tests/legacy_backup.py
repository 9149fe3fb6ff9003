"""A backup as Custos wrote it before backup key epochs (decision 0067): the vault exported under its own key and
salt, and a trail entry without ``key_epoch``. Such backups exist in operators' hands; the tests that they still
restore, and are still described truly, need one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.audit.trail import Event, append
from app.store.engine import SINGLE_STATEMENT_READS_OPTION
from app.store.vault import Vault


def legacy_backup(vault: Vault, out: Path) -> Path:
    with vault.engine.connect() as conn:
        conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
        raw.execute(f"ATTACH DATABASE '{out}' AS legacy")  # no KEY: the vault's key and salt, as before epochs
        try:
            raw.execute("SELECT sqlcipher_export('legacy')")
        finally:
            raw.execute("DETACH DATABASE legacy")
    with vault.write_transaction() as conn:
        details = {"sha256": hashlib.sha256(out.read_bytes()).hexdigest(), "bytes": out.stat().st_size}
        append(conn, Event("vault.backup.created", "operator:test", details=details))
    return out
