"""``vault restore``: put a backup in place of the vault, replaying the erasure ledger before anything can use it.

The backup is copied to a staging file in the data folder, opened with the passphrase it was made under,
migrated, and every subject whose SCIM id matches a ledger entry (HMAC under the ledger key) is erased again
through the normal erasure path: locally at once, and at the targets that the backup says hold it. Only then is
the staging file moved into place; the vault it replaces is kept beside it for the operator to delete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, union

from app.audit.anchor import sign_tree_head
from app.audit.trail import Event, append, newest_at
from app.audit.vault_lifecycle import drop_pending_change
from app.core.errors import ConfigError, VaultError, VaultInUse, WrongBackupPassphrase, WrongPassphrase
from app.core.subkeys import subkey
from app.erasure.backup_keys import (
    KEYS_FILENAME,
    WRAP_PURPOSE,
    BackupKeyError,
    BackupKeys,
    SealMismatch,
    backup_key,
)
from app.erasure.hygiene import scrub
from app.erasure.ledger import Ledger
from app.erasure.requests import actor_of, request_erasure
from app.feed.tables import OutboxItem, TargetLink
from app.store import engine as sqlcipher_engine
from app.store import migrate
from app.store.engine import SINGLE_STATEMENT_READS_OPTION
from app.store.models import ApiToken, ScimResource
from app.store.vault import Vault, vault_path

log = logging.getLogger(__name__)
STAGING_SUFFIX = ".restoring"


@dataclass(frozen=True)
class RestoreReport:
    replayed_requests: int  # ledger requests that matched subjects in the backup
    subjects_erased: int
    replay_request_ids: list[str]
    previous_vault: Path | None  # the vault that was replaced, kept for the operator to delete
    created_folder: bool = False  # the data folder did not exist: made for this restore (``create``)
    ledger_found: bool = True  # an erasure ledger was in the data folder to replay from
    key_epoch: int | None = None  # the backup key epoch it was made under (None: before key epochs)
    keys_sealed_elsewhere: bool = False  # the backup keys here do not open under the restored vault's passphrase
    keys_problem: str | None = None  # the backup keys here are damaged or altered (a pre-epoch backup opened anyway)
    # The tokens the restored vault accepts. Tokens are as the backup held them: one revoked after the backup (a
    # leaked one, say) is accepted again, and nothing outside the vault remembers its revocation to replay it.
    usable_tokens: tuple[str, ...] = ()


class NoVaultToReplace(ConfigError):
    """A restore into a folder holding no vault that was not asked to make one: a mistyped folder is said as such
    (restoring onto a new machine is asked for explicitly)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"No vault in {folder}; nothing was restored or created. Give the folder of your vault (--data-dir or "
            "CUSTOS_DATA_DIR), or, to restore onto a new machine or into a new folder, add --create."
        )


class UnopenableBackup(WrongBackupPassphrase):
    """Neither a backup key epoch held here nor the passphrase opens the backup: which of the reasons it can be is
    said, for an operator who cannot tell them apart from outside (nothing was changed)."""

    def __init__(self, keys: BackupKeys, opened_keys: bool) -> None:
        reasons = []
        if not keys.exists():
            reasons.append(f"a backup made under a backup key epoch opens only with {KEYS_FILENAME} from the data "
                           "folder it was made in, and there is none here: copy it in beside the erasure ledger")
        elif not keys.sealed():
            reasons.append(f"the {KEYS_FILENAME} here holds no seal (altered, or a review copy's): no passphrase "
                           "opens it")
        elif not opened_keys:
            reasons.append(f"the passphrase does not open {KEYS_FILENAME} here (it opens with the vault's current "
                           "passphrase)")
        else:
            held = [str(e.n) for e in keys.epochs() if not e.destroyed]
            reasons.append(f"none of the backup key epochs held here ({', '.join(held) or 'none'}) opens it")
        destroyed = [e for e in keys.epochs() if e.destroyed] if keys.exists() else []
        if destroyed:
            named = ", ".join(f"{e.n} on {(e.destroyed or '')[:10]}" for e in destroyed)
            reasons.append(f"it may have been made under a backup key epoch since destroyed (destroyed here: {named}): "
                           "then nobody can open it any more")
        reasons.append("a backup made before key epochs opens with the passphrase in force when it was made")
        said = "; ".join(reasons)
        VaultError.__init__(self, f"This backup does not open. {said[0].upper()}{said[1:]}. Nothing was changed.")


def _prepare_folder(data_dir: Path, create: bool) -> bool:
    """Whether the folder was made here. Without ``create`` the folder must already hold a vault."""
    if Vault.exists(data_dir):
        return False
    if not create:
        raise NoVaultToReplace(data_dir)
    if data_dir.is_dir():
        return False
    try:
        data_dir.mkdir(parents=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"The data folder {data_dir} cannot be made: {exc.strerror or type(exc).__name__}.") from None
    return True


def _subject_ids(vault: Vault) -> list[str]:
    """Every SCIM id the backup mentions: in the mirror, or still held at a target, or queued for one."""
    ids = union(
        select(ScimResource.id).where(ScimResource.resource_type == "User"),
        select(TargetLink.resource_id).where(TargetLink.resource_type == "User"),
        select(OutboxItem.resource_id).where(OutboxItem.resource_type == "User"),
    )
    with vault.read_connection() as conn:
        return [row[0] for row in conn.execute(ids)]


def replay(vault: Vault, ledger: Ledger, operator: str) -> tuple[list[str], int]:
    """Erase every subject of ``vault`` that the ledger lists; returns (replay request ids, subjects erased)."""
    matches = ledger.matches(_subject_ids(vault))
    by_request: dict[str, list[str]] = defaultdict(list)
    for resource_id, entry in matches.items():
        by_request[entry.request_id].append(resource_id)
    replayed = []
    for original, resource_ids in sorted(by_request.items()):
        request_id = request_erasure(
            vault, resource_ids, "replay", operator, reason=f"replay of {original} after a restore", origin="replay",
            typed_reason=False,
        )
        with vault.write_transaction() as conn:
            details = {"ledger_request": original, "replay_request": request_id, "subjects": len(resource_ids)}
            append(conn, Event("erasure.replayed", actor_of(operator), details=details))
        replayed.append(request_id)
    return replayed, len(matches)


def restore(data_dir: Path, backup_file: Path, passphrase: str, operator: str, create: bool = False) -> RestoreReport:
    """Replace the vault in ``data_dir`` by the backup. ``create``: the folder may hold no vault yet (a new machine),
    and is made if missing; without it such a folder is refused before anything is read or written. A folder made
    here is removed again when the restore fails."""
    backup_file = backup_file.expanduser().resolve()
    if not backup_file.is_file():
        raise ConfigError(f"No backup file at {backup_file}.")
    made = _prepare_folder(data_dir, create)
    try:
        report = _restore(data_dir, backup_file, passphrase, operator)
    except BaseException:
        if made:
            shutil.rmtree(data_dir, ignore_errors=True)  # only what this restore wrote is in it
        raise
    return replace(report, created_folder=made)


def refuse_if_in_use(data_dir: Path) -> None:
    """The vault must not be open anywhere else: swapped under a running ``serve`` or app, their connections go on
    with the replaced file's pages and the new write-ahead log, and report a damaged vault that is not."""
    current = vault_path(data_dir)
    if current.exists() and sqlcipher_engine.held_open_elsewhere(current):
        raise VaultInUse("restore")


@dataclass(frozen=True)
class OpenedBackup:
    key: bytes  # the key that opens the backup file
    epoch: int | None  # its backup key epoch; None: made before key epochs, under the vault's key of its day
    keys_open: bool | None = None  # the backup keys opened with the passphrase given (None: there are none here)
    keys_problem: str | None = None  # why the backup keys here could not be read (damaged, altered, a link)


def open_backup(data_dir: Path, backup_file: Path, passphrase: str, vault_key: bytes, salt: bytes) -> OpenedBackup:
    """The key that opens ``backup_file``: an epoch's from the backup keys beside the vault (sealed under the key
    ``passphrase`` gives), or, for a backup made before key epochs, ``vault_key`` itself. Nothing is written."""
    keys = BackupKeys(data_dir)
    held: dict[int, bytes] = {}
    keys_open: bool | None = None
    problem: BackupKeyError | None = None
    if keys.exists():
        try:
            sealed_under = keys.vault_salt()  # the salt of the vault the keys are sealed for: normally the backup's
            root = vault_key if sealed_under == salt else sqlcipher_engine.derive_raw_key(passphrase, sealed_under)
            keys_open = False
            with suppress(SealMismatch):  # another passphrase: tried as a backup from before key epochs below
                held = keys.secrets(subkey(root, WRAP_PURPOSE))
                keys_open = True
        except BackupKeyError as exc:  # damaged or altered: said, not taken for a wrong passphrase
            problem, keys_open = exc, None
    for n, secret in sorted(held.items(), reverse=True):  # newest first: most backups are recent
        candidate = backup_key(secret, n)
        if _opens(backup_file, candidate, salt):
            return OpenedBackup(candidate, n, keys_open)
    if _opens(backup_file, vault_key, salt):  # a backup from before key epochs needs no keys file, not even intact
        return OpenedBackup(vault_key, None, keys_open, problem.user_message if problem else None)
    if problem is not None:
        raise problem
    raise UnopenableBackup(keys, bool(keys_open))


def _opens(backup_file: Path, key: bytes, salt: bytes) -> bool:
    try:
        sqlcipher_engine.connect_raw(backup_file, key, salt).close()
    except WrongPassphrase:
        return False
    return True


def _restore(data_dir: Path, backup_file: Path, passphrase: str, operator: str) -> RestoreReport:
    refuse_if_in_use(data_dir)
    ledger = Ledger(data_dir)
    ledger_found = ledger.path.exists()
    ledger.entries()  # a damaged ledger or a missing key stops the restore before anything is touched
    salt = sqlcipher_engine.read_salt(backup_file)
    key = sqlcipher_engine.derive_raw_key(passphrase, salt)
    opened = open_backup(data_dir, backup_file, passphrase, key, salt)
    staging = vault_path(data_dir).with_name(vault_path(data_dir).name + STAGING_SUFFIX)
    for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup_file, staging)
    os.chmod(staging, 0o600)
    if opened.epoch is not None:  # the restored vault is under the vault's key again, not the epoch's
        sqlcipher_engine.rekey_raw(staging, opened.key, salt, key)
    digest = hashlib.sha256(backup_file.read_bytes()).hexdigest()
    restored = Vault(staging, key, salt)
    try:
        migrate.upgrade(restored.engine)
        with restored.write_transaction() as conn:
            # The backup's own "vault.backup.created" entry went to the vault it was copied from, after the copy:
            # its newest entry says how recent the vault it holds is, for the lines about backups (health, Overview).
            details = {"backup_sha256": digest, "backup_as_of": newest_at(conn), "key_epoch": opened.epoch}
            append(conn, Event("vault.restored", actor_of(operator), details=details))
            # A backup made in the instant a passphrase change was marked would carry the mark; restored under
            # another key, it would be settled as a change nobody made here (app/audit/vault_lifecycle.py).
            drop_pending_change(conn)
        replayed, erased = replay(restored, ledger, operator)
        tokens = _usable_tokens(restored)
        # Signed before the swap: without `--follow` no command opens the vault after this one, and the restore's
        # entries (vault.restored, the replays) stayed unsigned until the next start; cut off, no trace.
        sign_tree_head(restored)
        _wal_mode(restored)
        scrub(restored.engine, staging)
        refuse_if_in_use(data_dir)  # again: the app or serve may have been started meanwhile
    except BaseException:
        restored.close()
        for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    restored.close()
    previous = _swap(data_dir, staging)
    log.info("vault restored from a backup; %d erasure(s) replayed", erased)
    return RestoreReport(len(replayed), erased, replayed, previous, ledger_found=ledger_found, key_epoch=opened.epoch,
                         keys_sealed_elsewhere=opened.keys_open is False,
                         keys_problem=opened.keys_problem, usable_tokens=tokens)  # fmt: skip


def _usable_tokens(vault: Vault) -> tuple[str, ...]:
    """The names of the tokens the restored vault accepts (not revoked, not expired), oldest first."""
    now = datetime.now(UTC)
    with vault.read_connection() as conn:
        rows = conn.execute(
            select(ApiToken.name, ApiToken.expires).where(ApiToken.revoked.is_(None)).order_by(ApiToken.created)
        ).all()
    return tuple(name for name, expires in rows if expires is None or expires.replace(tzinfo=UTC) > now)  # stored UTC


def _wal_mode(vault: Vault) -> None:
    """sqlcipher_export wrote a rollback-journal file; the vault runs in WAL mode."""
    with vault.engine.connect() as conn:
        conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})
        conn.exec_driver_sql("PRAGMA journal_mode = WAL")


def _swap(data_dir: Path, staging: Path) -> Path | None:
    current = vault_path(data_dir)
    previous = None
    if current.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        previous = current.with_name(f"{current.name}.pre-restore-{stamp}")
        for suffix in ("-wal", "-shm", ""):
            companion = Path(f"{current}{suffix}")
            if companion.exists():
                os.replace(companion, Path(f"{previous}{suffix}"))
    for suffix in ("-wal", "-shm", ""):  # the main file last: it is what marks the vault as present
        companion = Path(f"{staging}{suffix}")
        if companion.exists():
            os.replace(companion, Path(f"{current}{suffix}"))
    return previous
