"""``vault backup``: an encrypted copy of the whole vault, under the key of the current backup key epoch.

SQLCipher's ``sqlcipher_export`` into a database ATTACHed with the epoch's backup key and the vault's salt, so
nothing is ever written in clear and the copy opens only with that epoch's secret (app/erasure/backup_keys.py,
decision 0067): destroying the epoch puts the copy beyond use wherever it went. The erasure ledger, its key and the
backup keys are deliberately not in it (they live beside the vault; see app/erasure/ledger.py), so that restoring
this copy later replays every erasure made after it. Backups made before key epochs were keyed with the vault's own
key and still open with the passphrase in force when they were made.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection

from app.audit.trail import Event, append, of_kind, parse_utc
from app.audit.vault_lifecycle import reviewing_a_copy
from app.core.actor import current_actor
from app.core.errors import ConfigError
from app.core.utc import utc_text
from app.erasure.backup_keys import (
    KEYS_FILENAME,
    WRAP_PURPOSE,
    BackupKeyError,
    BackupKeys,
    Epoch,
    SealMismatch,
    backup_key,
)
from app.store.engine import APPLICATION_ID, SINGLE_STATEMENT_READS_OPTION, DatabaseError, is_disk_full
from app.store.integrity import is_corruption
from app.store.vault import Vault


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    sha256: str
    epoch: int  # the backup key epoch it was made under
    epoch_began: Epoch | None = None  # the epoch this backup began (the first, or the last was too old)


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# The one way the vault's key and the backup keys part: a restore of a backup made before key epochs, under an older
# passphrase than the one the keys are sealed under. Changing the passphrase back joins them again.
RESEAL_ADVICE = (
    f"{KEYS_FILENAME} is sealed under another passphrase than the vault's: the vault was restored from a backup made "
    "before key epochs, under an older passphrase. Change the vault's passphrase to the one in force before that "
    "restore ('custos vault passphrase', or Vault → Change passphrase…); then back up. Nothing was written."
)


def recorded_epochs(conn: Connection) -> int:
    """The highest backup key epoch the trail records (begun, or a backup made under it); 0: none."""
    numbers = [entry.details.get("epoch") for entry in of_kind(conn, "vault.backup_key.began", limit=100_000)]
    numbers += [entry.details.get("key_epoch") for entry in of_kind(conn, "vault.backup.created", limit=100_000)]
    return max((n for n in numbers if type(n) is int), default=0)


def missing_keys_advice(recorded: int) -> str:
    return (
        f"{KEYS_FILENAME} is not in the data folder, but the audit trail records backup key epochs up to {recorded}: "
        "the backups made under them open only with it. Put it back from your copy of the data folder's files, then "
        f"back up. If it is lost for good, 'custos vault backup-keys rotate' begins a new {KEYS_FILENAME} (epoch "
        f"{recorded + 1} on); the backups made under the lost one cannot be opened. Nothing was written."
    )


def _why_no_seal(conn: Connection) -> str:
    """The keys file holds no seal under the vault's key. The one way Custos parts them is a restore of a backup
    from before key epochs (:data:`RESEAL_ADVICE`); without one on the trail, that is not said as the cause."""
    restored = last_restore(conn)
    if restored is not None and restored.epoch is None:
        return RESEAL_ADVICE
    return (f"{KEYS_FILENAME} holds no seal under the vault's key: it has been altered, or it is from another data "
            "folder. Put back your copy of it: the backups made under its epochs open only with it. Nothing was "
            "written.")  # fmt: skip


def _epoch_for(vault: Vault, now: datetime) -> tuple[Epoch, bytes, Epoch | None]:
    """The epoch the backup goes under and its secret, beginning one on the record when needed; in a write
    transaction, which serialises epoch changes between processes (the app, ``serve``, a command). A keys file
    gone while the trail records epochs is not begun anew in passing: putting the old file back then would lose
    the new one's backups, and the old one is the only key to every backup made so far."""
    keys = BackupKeys(vault.path.parent)
    with vault.write_transaction() as conn:
        recorded = recorded_epochs(conn)
        if recorded and not keys.exists():
            raise BackupKeyError(missing_keys_advice(recorded))
        try:
            epoch, secret, begun = keys.current(vault.derived_key(WRAP_PURPOSE), vault.salt, now, recorded)
        except SealMismatch:
            raise SealMismatch(_why_no_seal(conn)) from None
        if begun is not None:
            record_began(conn, keys.epochs(), begun, "backup")
    return epoch, secret, begun


def record_began(conn: Connection, listed: Sequence[Epoch], begun: Epoch, reason: str, **extra: str) -> None:
    """The trail entry of an epoch begun (by a backup, a rotation, or recorded late): the epoch it retired is the
    one whose retirement is its beginning."""
    retired = next((e.n for e in listed if e.retired == begun.began), None)
    details = {"epoch": begun.n, "retired": retired, "reason": reason, **extra}
    append(conn, Event("vault.backup_key.began", current_actor.get(), details=details))


def backup(vault: Vault, out: Path, now: datetime | None = None) -> BackupInfo:
    out = out.expanduser().resolve()
    if out.exists():
        raise ConfigError(f"{out} already exists; choose a new file name (backups are never overwritten).")
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    epoch, secret, begun = _epoch_for(vault, now or datetime.now(UTC))
    key = f"x'{backup_key(secret, epoch.n).hex()}{vault.salt.hex()}'"
    partial = out.with_name(out.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # 0600 from the first byte
    except OSError as exc:
        raise ConfigError(f"Cannot write {out}: {exc.strerror or type(exc).__name__}. No backup was made.") from exc
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
            raw.execute(f'ATTACH DATABASE {_quoted(partial)} AS custos_backup KEY "{key}"')  # the epoch's key
            try:
                raw.execute("SELECT sqlcipher_export('custos_backup')")
                raw.execute(f"PRAGMA custos_backup.application_id = {APPLICATION_ID}")
            finally:
                raw.execute("DETACH DATABASE custos_backup")
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, out)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        failure = _failure(out, exc)
        if failure is exc:
            raise
        raise failure from exc
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with vault.write_transaction() as conn:
        _refuse_if_destroyed_meanwhile(vault, epoch, out)
        details = {"sha256": digest, "bytes": out.stat().st_size, "key_epoch": epoch.n}
        append(conn, Event("vault.backup.created", current_actor.get(), details=details))
    return BackupInfo(out, out.stat().st_size, digest, epoch.n, begun)


def _failure(out: Path, exc: BaseException) -> BaseException:
    """What to tell of a backup that failed while it was written: before, SQLite's error as a traceback. The
    statements sqlcipher_export() runs report their errors as SQLITE_ERROR with SQLite's words ("database or disk is
    full", "disk I/O error"): those words, which name no one, are said. Damage to the vault is left to the caller."""
    if is_disk_full(exc):
        return ConfigError(f"Cannot write {out}: the disk is full. No backup was made.")
    if isinstance(exc, OSError):
        return ConfigError(f"Cannot write {out}: {exc.strerror or type(exc).__name__}. No backup was made.")
    if isinstance(exc, DatabaseError) and not is_corruption(exc):
        return ConfigError(f"The backup to {out} failed (SQLite: {exc}). No backup was made.")
    return exc


def _refuse_if_destroyed_meanwhile(vault: Vault, epoch: Epoch, out: Path) -> None:
    """The epoch was current when the export began, outside any transaction (a large vault takes a while); another
    process may have begun a new one and destroyed this one since. The copy then opens with nothing: recorded, it
    would be a backup said to open until its epoch is destroyed, missing from the destruction's count. Checked in
    the transaction that records it, which destructions wait for."""
    listed = {e.n: e for e in BackupKeys(vault.path.parent).verified_epochs(vault.derived_key(WRAP_PURPOSE))}
    if epoch.n in listed and not listed[epoch.n].destroyed:
        return
    out.unlink(missing_ok=True)
    raise BackupKeyError(f"Backup key epoch {epoch.n} was destroyed while this backup was being written: the copy "
                         "could never be opened and was removed. Back up again.")  # fmt: skip


def opening_note(info: BackupInfo) -> str:
    """What restoring ``info`` needs and where those things must not be kept, as the command line and the app say it
    (one text, so that they never disagree)."""
    began = ", begun with this backup" if info.epoch_began is not None else ""
    return (
        f"It opens with the vault passphrase in force at the restore together with {KEYS_FILENAME} from the data "
        f"folder (backup key epoch {info.epoch}{began}); destroying that epoch ('custos vault backup-keys destroy "
        f"{info.epoch}', or Vault → Backup keys… in the app) puts it beyond use wherever it is. {KEYS_FILENAME} and "
        "the erasure ledger (erasure-ledger.jsonl and its key) are not in it on purpose: keep them with the data "
        "folder and a copy apart from the backups (a restore on a new machine needs them), never with the backups."
    )


@dataclass(frozen=True)
class LastBackup:
    made: datetime
    size: int
    epoch: int | None  # the backup key epoch; None: made before key epochs, under the vault's own key


def last_recorded(conn: Connection) -> LastBackup | None:
    """The last backup of this vault, from its trail entry (None: none recorded). A copy made by other means (a file
    copy) is not on the trail and not known here."""
    last = of_kind(conn, "vault.backup.created", limit=1)
    if not last:
        return None
    epoch = last[0].details.get("key_epoch")
    return LastBackup(parse_utc(last[0].at), int(last[0].details.get("bytes", 0)),
                      epoch if isinstance(epoch, int) else None)  # fmt: skip


def unusable_because(
    conn: Connection, made: datetime, epoch_n: int | None, folder: Path, seal_key: bytes | None = None
) -> str | None:
    """Why the newest known backup (made, or restored from, at ``made``, under backup key epoch ``epoch_n``) cannot
    be restored as things are now, in words that follow "last recorded …, ", or None. Said wherever that backup is
    named, so that "a backup exists" is never read as "it can be restored". ``seal_key`` (the vault's, for
    :data:`WRAP_PURPOSE`): the list of epochs is believed only once its seal vouches for it, so an edit (a
    destruction undone) is said as one, not repeated as the truth; without it (a review copy, which holds no seal)
    the list is read as the file gives it."""
    if epoch_n is None:
        rekeyed = rekeyed_since(conn, made)
        if rekeyed is None:
            return None
        return f"before the passphrase change of {utc_text(rekeyed)}: it opens with the old passphrase only"
    keys = BackupKeys(folder)
    if not keys.exists():
        return f"{KEYS_FILENAME} is not in the data folder: it cannot be opened without that file"
    try:
        listed = keys.epochs() if seal_key is None else keys.verified_epochs(seal_key)
    except SealMismatch:
        return f"{KEYS_FILENAME} holds no seal under the vault's key: it does not open with the vault's passphrase"
    except BackupKeyError as exc:
        return f"{exc.user_message} It cannot be opened without that file"
    epoch = {e.n: e for e in listed}.get(epoch_n)
    if epoch is None:
        return f"its backup key epoch {epoch_n} is not in {KEYS_FILENAME}: it cannot be opened"
    if epoch.destroyed:
        return (
            f"its backup key epoch {epoch.n} was destroyed on {utc_text(parse_utc(epoch.destroyed))}: it cannot "
            "be opened"
        )
    return None


def seal_key_for_statements(vault: Vault) -> bytes | None:
    """The key that lets :func:`unusable_because` check the list of epochs; None in a review copy (no seal)."""
    return None if reviewing_a_copy.get() else vault.derived_key(WRAP_PURPOSE)


def last_before_epochs(conn: Connection) -> datetime | None:
    """When the last backup made under the vault's own key (before key epochs) was made: it opens with the
    passphrase in force that day, whatever the backup keys file holds."""
    for entry in of_kind(conn, "vault.backup.created", limit=100_000):
        if not isinstance(entry.details.get("key_epoch"), int):
            return parse_utc(entry.at)
    return None


@dataclass(frozen=True)
class RestoreRecord:
    """The last ``vault restore`` into this vault, from its trail entry. The backup restored from is a backup of this
    vault although its own ``vault.backup.created`` entry is not here: that entry was written to the vault it was
    copied from, after the copy was made."""

    at: datetime  # when the restore ran
    sha256: str  # of the backup file restored from
    as_of: datetime | None  # the backup's newest trail entry: it holds the vault as then (None: an older restore)
    epoch: int | None = None  # its backup key epoch (None: made before key epochs)


def last_restore(conn: Connection) -> RestoreRecord | None:
    last = of_kind(conn, "vault.restored", limit=1)
    if not last:
        return None
    as_of = last[0].details.get("backup_as_of")
    epoch = last[0].details.get("key_epoch")
    return RestoreRecord(parse_utc(last[0].at), str(last[0].details.get("backup_sha256", "")),
                         parse_utc(as_of) if isinstance(as_of, str) else None,
                         epoch if isinstance(epoch, int) else None)  # fmt: skip


def last_made(conn: Connection) -> datetime | None:
    last = last_recorded(conn)
    return last.made if last else None


def restore_since(conn: Connection, made: datetime | None) -> RestoreRecord | None:
    """The last restore if it is newer than the last backup recorded (made at ``made``; None: none recorded): the
    lines about backups then speak of the backup restored from, which "none recorded" would deny."""
    restored = last_restore(conn)
    if restored is None or (made is not None and made > restored.at):
        return None
    return restored


def rekeyed_since(conn: Connection, made: datetime) -> datetime | None:
    """When the vault's passphrase was last changed, if after ``made`` (a backup's time): a backup made before key
    epochs opens with the old passphrase only, which the lines saying when the last backup was made must say
    (decision 0062)."""
    last = of_kind(conn, "vault.passphrase_changed", limit=1)
    if not last:
        return None
    changed = parse_utc(last[0].at)
    return changed if changed > made else None
