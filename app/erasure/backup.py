"""``vault backup``: an encrypted copy of the whole vault, under the vault's own key.

SQLCipher's ``sqlcipher_export`` into a database ATTACHed without a KEY clause: the copy is written with the
same key and salt, so it opens with the same passphrase and nothing is ever written in clear. The erasure
ledger and its key are deliberately not in it (they live beside the vault; see app/erasure/ledger.py), so
that restoring this copy later replays every erasure made after it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from app.audit.trail import Event, append, of_kind, parse_utc
from app.core.actor import current_actor
from app.core.errors import ConfigError
from app.store.engine import APPLICATION_ID, SINGLE_STATEMENT_READS_OPTION
from app.store.vault import Vault


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    sha256: str


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def backup(vault: Vault, out: Path) -> BackupInfo:
    out = out.expanduser().resolve()
    if out.exists():
        raise ConfigError(f"{out} already exists; choose a new file name (backups are never overwritten).")
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # 0600 from the first byte
    os.close(fd)
    try:
        with vault.engine.connect() as conn:
            conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})  # ATTACH/DETACH refuse a transaction
            raw = conn.connection.driver_connection
            assert raw is not None
            # sqlcipher_export runs its statements on this connection's schema as last read, and fails with "database
            # schema has changed" where another connection changed it since (the first backup after a vault was
            # created or migrated in this process): a read of the schema brings it up to date first.
            raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
            raw.execute(f"ATTACH DATABASE {_quoted(partial)} AS custos_backup")  # no KEY: the vault's key and salt
            try:
                raw.execute("SELECT sqlcipher_export('custos_backup')")
                raw.execute(f"PRAGMA custos_backup.application_id = {APPLICATION_ID}")
            finally:
                raw.execute("DETACH DATABASE custos_backup")
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with vault.write_transaction() as conn:
        details = {"sha256": digest, "bytes": out.stat().st_size}
        append(conn, Event("vault.backup.created", current_actor.get(), details=details))
    return BackupInfo(out, out.stat().st_size, digest)


def last_recorded(conn: Connection) -> tuple[datetime, int] | None:
    """When the last backup of this vault was made and its size, from its trail entry (None: none recorded). A copy
    made by other means (a file copy) is not on the trail and not known here."""
    last = of_kind(conn, "vault.backup.created", limit=1)
    if not last:
        return None
    made = parse_utc(last[0].at)
    return made, int(last[0].details.get("bytes", 0))


@dataclass(frozen=True)
class RestoreRecord:
    """The last ``vault restore`` into this vault, from its trail entry. The backup restored from is a backup of this
    vault although its own ``vault.backup.created`` entry is not here: that entry was written to the vault it was
    copied from, after the copy was made."""

    at: datetime  # when the restore ran
    sha256: str  # of the backup file restored from
    as_of: datetime | None  # the backup's newest trail entry: it holds the vault as then (None: an older restore)


def last_restore(conn: Connection) -> RestoreRecord | None:
    last = of_kind(conn, "vault.restored", limit=1)
    if not last:
        return None
    as_of = last[0].details.get("backup_as_of")
    return RestoreRecord(parse_utc(last[0].at), str(last[0].details.get("backup_sha256", "")),
                         parse_utc(as_of) if isinstance(as_of, str) else None)  # fmt: skip


def restore_since(conn: Connection, made: datetime | None) -> RestoreRecord | None:
    """The last restore if it is newer than the last backup recorded (made at ``made``; None: none recorded): the
    lines about backups then speak of the backup restored from, which "none recorded" would deny."""
    restored = last_restore(conn)
    if restored is None or (made is not None and made > restored.at):
        return None
    return restored


def rekeyed_since(conn: Connection, made: datetime) -> datetime | None:
    """When the vault's passphrase was last changed, if after ``made`` (a backup's time): that backup opens with
    the old passphrase only, which the lines saying when the last backup was made must say (decision 0062)."""
    last = of_kind(conn, "vault.passphrase_changed", limit=1)
    if not last:
        return None
    changed = parse_utc(last[0].at)
    return changed if changed > made else None
