"""The vault as the command line and the app handle it as a whole: open it for a command (a vault always has a
policy in force: one without gets the shipped default, on the record), check it page by page, back it up, and
restore a backup (replaying the erasures made since, before first use, and following them at the targets).

Only ``init``, ``serve`` and the app's first run create a vault (:func:`open_or_create_vault`); a command that
uses one refuses a folder without it (:func:`require_vault`), so a mistyped ``--data-dir`` is never answered as
an empty vault."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.audit import vault_lifecycle
from app.audit.anchor import sign_tree_head
from app.audit.vault_lifecycle import create_vault, reopen_vault, reviewed_folder, reviewing_a_copy
from app.core.passphrase import read_passphrase
from app.dsr import settings as dsr_settings
from app.erasure import ledger
from app.erasure.backup import (
    BackupInfo,
    RestoreRecord,
    backup,
    last_before_epochs,
    last_made,
    opening_note,
    restore_since,
)
from app.erasure.backup_keys import WRAP_PURPOSE, BackupKeyError, BackupKeys, SealMismatch
from app.erasure.restore import NoVaultToReplace, RestoreReport, refuse_if_in_use, restore
from app.policy.in_force import install_default_if_missing
from app.services.backup_keys import settle
from app.setup import endpoint, tls
from app.siem import config as siem_config
from app.store import engine, integrity
from app.store.integrity import MAX_PROBLEMS, CheckReport
from app.store.vault import Vault, forget_keyring, key_from_keyring, vault_path

__all__ = ["MAX_PROBLEMS", "BackupInfo", "CheckReport", "Checked", "PassphraseChanged", "RestoreReport", "back_up",
           "change_passphrase", "change_passphrase_in", "check", "check_restore_target", "describe_pages",
           "follow_replay", "open_existing", "open_for_command", "open_or_create_vault", "opening_note",
           "reopen_vault", "require_vault", "restore_backup", "review_copy", "signed_at_close",
           "unlock_vault_with_key"]  # fmt: skip

describe_pages = integrity.describe_pages


def unlock_vault(data_dir: Path, passphrase: str) -> Vault:
    """Unlock the vault (on the record), and settle what a process killed half-way left in the backup keys."""
    return _settled(vault_lifecycle.unlock_vault(data_dir, passphrase))


def unlock_vault_with_key(data_dir: Path, raw_key: bytes) -> Vault:
    return _settled(vault_lifecycle.unlock_vault_with_key(data_dir, raw_key))


def _settled(vault: Vault) -> Vault:
    """A review works on a copy holding no seal: nothing there to settle, and nothing it writes is kept."""
    if not reviewing_a_copy.get():
        try:
            vault_lifecycle.settle_passphrase_change(vault)
            settle(vault)
        except BaseException:
            vault.close()
            raise
    return vault


def open_or_create_vault(data_dir: Path) -> Vault:
    """Unlock the vault (on the record); on first run create it (a TTY asks for the passphrase twice)."""
    if Vault.exists(data_dir):
        return unlock_vault(data_dir, read_passphrase())
    passphrase = read_passphrase(confirm=True)
    return create_vault(data_dir, passphrase)


def require_vault(data_dir: Path) -> None:
    """VaultNotFound, naming the folder, when it holds no vault: before a passphrase is asked or a file written."""
    Vault.require(data_dir)


def open_existing(data_dir: Path) -> Vault:
    """Unlock the vault in ``data_dir`` (on the record); a folder without one is refused, never given a new vault.
    Signed to the end when it is closed (:func:`signed_at_close`)."""
    require_vault(data_dir)
    return signed_at_close(unlock_vault(data_dir, read_passphrase()))


def signed_at_close(vault: Vault) -> Vault:
    """A command signs a checkpoint over the trail when it closes the vault, as ``serve`` does when it stops.

    Every command appends to the trail (its opening, at least; a token, an erasure, a policy apply, a breach…), and
    only ``serve`` and the app signed at their end: a command's entries stayed after the last checkpoint until the
    next ``serve``, and cut off the end they would leave no trace. Here, the one place every command opens the vault,
    not in each command. Not on a ``--read-only`` review's private copy: it is thrown away, and a checkpoint there
    would be work for nothing. Cost: one write transaction, the few entries since the last checkpoint re-hashed,
    one Ed25519 signature (benchmarks/bench_cli_start.py)."""
    if not reviewing_a_copy.get():
        vault.on_close(sign_tree_head)
    return vault


# What a review reads besides the vault, by name: nothing else of the folder is copied (decisions 0046, 0050).
_REVIEW_READS = (
    endpoint.ENDPOINT_FILENAME,  # where the endpoint listens (`token create` prints its address)
    tls.CERT_FILENAME,  # the certificate only: its fingerprint is printed; the private key is never read
    siem_config.FILE,  # the SIEM destinations (`siem status`) and alert rules
    siem_config.LEGACY_FILE,
    dsr_settings.FILE,  # the request register's settings (`dsr list`, an export's facts)
    ledger.LEDGER_FILENAME,  # counted in an export's facts; its HMAC key is not copied
)


def _review_files(data_dir: Path) -> list[Path]:
    """The vault with its WAL (committed transactions not yet in the main file) or hot journal, and what a review
    reads. Not the TLS private key, the erasure ledger's key, a vault a restore set aside, or any other file: a
    review needs none of them, and each copy of a secret is one more place it can leak from (``-shm`` is not
    copied either: SQLite rebuilds it from the WAL)."""
    vault_file = vault_path(data_dir)
    names = (vault_file.name, f"{vault_file.name}-wal", f"{vault_file.name}-journal", *_REVIEW_READS)
    return [data_dir / name for name in names if (data_dir / name).is_file()]


def _copy_private(source: Path, target: Path) -> None:
    """``source`` to ``target``, created 0600 whatever the source's mode and the umask, with its times."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as into:
        shutil.copyfileobj(into, out, 1 << 20)
    stat = source.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


REVIEW_PREFIX = "custos-review-"
REVIEW_OWNER = "owner.pid"  # the reviewing process's id, beside the copy
UNOWNED_GRACE_SECONDS = 3600.0  # a folder without its owner file yet may be another review starting up


def sweep_abandoned_copies(now: float | None = None) -> list[Path]:
    """Remove this user's review copies whose process is gone (killed with SIGKILL, or by a power cut: the copy's
    removal never ran). Each is a copy of a vault; an erasure made since does not reach it. POSIX only: on Windows
    ``os.kill(pid, 0)`` would end the process it asks about, so nothing is swept there. Returns what was removed."""
    if os.name != "posix":
        return []
    moment = time.time() if now is None else now
    removed: list[Path] = []
    for folder in Path(tempfile.gettempdir()).glob(f"{REVIEW_PREFIX}*"):
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            owner = folder / REVIEW_OWNER
            if owner.is_file():
                abandoned = not _alive(int(owner.read_text() or "0"))
            else:
                abandoned = moment - folder.stat().st_mtime > UNOWNED_GRACE_SECONDS
        except (OSError, ValueError):
            continue  # unreadable, or removed meanwhile: not ours to judge
        if abandoned:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process holds that id: the folder's owner may be alive
    return True


@contextmanager
def review_copy(data_dir: Path) -> Iterator[Path]:
    """A private copy of the data folder (``custos --read-only``), removed afterwards; while it is in use, an
    opening of the vault is not recorded.

    Every command changes the vault it opens: the opening goes on the trail, the planner's statistics are
    refreshed, a WAL is made and checkpointed, an export signs a checkpoint. On a folder handed over as evidence
    that changes the evidence, and the review reads its own traces back (``audit verify`` counted its own opening;
    over a trail cut off at its unsigned end, that opening took the place of the first entry removed). So the
    command works on a copy made in a folder only this user can read (0700, its files 0600; the vault is
    encrypted), holding only what a review reads (:func:`_review_files`), and the folder itself is only read. The
    copy is removed however the command ends: an error, Ctrl-C. For a folder no process is using: a copy taken
    while ``serve`` writes may catch a transaction half-way.
    """
    require_vault(data_dir)  # named as given, before anything is copied
    sweep_abandoned_copies()
    with tempfile.TemporaryDirectory(prefix=REVIEW_PREFIX) as private:  # mkdtemp: 0700; removed on any exit
        (Path(private) / REVIEW_OWNER).write_text(str(os.getpid()))
        copy = Path(private) / data_dir.name
        copy.mkdir(mode=0o700)
        for item in _review_files(data_dir):
            _copy_private(item, copy / item.name)
        if BackupKeys(data_dir).exists():  # which backups can still be opened is said from it; without any seal
            BackupKeys(data_dir).copy_epochs_to(copy)
        token, origin = reviewing_a_copy.set(True), reviewed_folder.set(data_dir)
        try:
            yield copy
        finally:
            reviewing_a_copy.reset(token)
            reviewed_folder.reset(origin)


def open_for_command(data_dir: Path) -> Vault:
    """Unlock the existing vault (CUSTOS_PASSPHRASE or the terminal). A vault without a policy in force gets the
    shipped default, on the record, before the command uses it."""
    vault = open_existing(data_dir)
    try:
        with vault.write_transaction() as conn:
            install_default_if_missing(conn)
    except BaseException:
        vault.close()
        raise
    return vault


@dataclass(frozen=True)
class Checked:
    path: Path
    page_size: int
    report: CheckReport


def check(data_dir: Path, passphrase: str) -> Checked:
    """Every page authenticated and SQLite's integrity check, read-only (a damaged vault is not opened)."""
    path = vault_path(data_dir)
    key = Vault.derive_key(data_dir, passphrase)
    return Checked(path, engine.PAGE_SIZE, integrity.check(path, key, engine.read_salt(path)))


def back_up(vault: Vault, out: Path) -> BackupInfo:
    return backup(vault, out)


def restore_backup(data_dir: Path, file: Path, passphrase: str, operator: str, create: bool = False) -> RestoreReport:
    """Replace the vault by the backup; the erasures recorded since (the ledger) are replayed before first use.
    ``create``: the folder may hold no vault yet (a new machine); without it, such a folder is refused."""
    return restore(data_dir, file, passphrase, operator, create)


def check_restore_target(data_dir: Path, create: bool) -> bool:
    """Whether the folder holds a vault the restore would replace; before the passphrase is asked, a folder without
    one is refused (NoVaultToReplace) unless a new one was asked for (``create``), and so is a vault another
    process has open (VaultInUse: stop the app and ``serve`` first)."""
    holds = Vault.exists(data_dir)
    if not holds and not create:
        raise NoVaultToReplace(data_dir)
    if holds:
        refuse_if_in_use(data_dir)
    return holds


@dataclass(frozen=True)
class EndpointFilesMissing:
    """The endpoint's files a data folder lacks, and what `serve` would do without them."""

    names: list[str]
    address_lost: bool  # no endpoint.toml: serve listens on the default address
    certificate_lost: bool  # no TLS pair: serve makes a new self-signed certificate
    default_address: str = f"{endpoint.DEFAULT_HOST}:{endpoint.DEFAULT_PORT}"


def endpoint_files_missing(data_dir: Path) -> EndpointFilesMissing:
    """The endpoint's files (address, certificate, key) the data folder lacks. A backup holds the vault alone, so a
    restore into a new folder leaves `serve` on the default address with a new self-signed certificate, which an
    identity provider that pinned or imported the old one refuses: the restore names what to copy across."""
    names = (endpoint.ENDPOINT_FILENAME, tls.CERT_FILENAME, tls.KEY_FILENAME)
    missing = [name for name in names if not (data_dir / name).is_file()]
    address_lost = endpoint.ENDPOINT_FILENAME in missing
    return EndpointFilesMissing(missing, address_lost, len(missing) > int(address_lost))


def follow_replay(data_dir: Path, passphrase: str, request_ids: list[str], wait: float) -> bool:
    """Carry the replayed erasures out at the targets in this process, for up to ``wait`` seconds."""
    from app.erasure.worker import drive  # the targets' HTTP client: only when following erasures

    vault = signed_at_close(unlock_vault(data_dir, passphrase))
    try:
        return drive(vault, request_ids, wait)
    finally:
        vault.close()


@dataclass(frozen=True)
class PassphraseChanged:
    keyring_forgotten: bool  # a key remembered in the OS keyring was removed (it no longer opens the vault)
    last_backup: datetime | None  # the last backup made before key epochs: it opens with the old passphrase only
    backup_keys_resealed: bool = False  # backups made under key epochs open with the new passphrase
    backup_keys_problem: str | None = None  # why the backup keys could not be re-sealed (backups under them are lost)
    # The last restore, from a backup made before key epochs, when no backup was recorded since: the backup restored
    # from is the newest known (its own entry is on the vault it was copied from), and it too opens with the old
    # passphrase only.
    restored_from: RestoreRecord | None = None


def change_passphrase(vault: Vault, current: str, new: str, confirmation: str) -> PassphraseChanged:
    """Re-encrypt the vault under a new passphrase, on the record, re-seal the backup keys under it, and forget a
    key the keyring remembered.

    What the change does not reach is returned so that it is said: backups made before key epochs open with the old
    passphrase only (they are copies under the vault's old key, re-encrypted by nothing), and the keyring shortcut
    is gone. Backups made under key epochs open with the new passphrase: their keys are in ``backup-keys.json``,
    sealed under the vault's key, and sealed under the new one as well before the vault is re-encrypted, so a crash
    in between leaves a seal that opens under whichever key the vault is under."""
    with vault.read_connection() as conn:
        before_epochs = last_before_epochs(conn)
        restored = restore_since(conn, last_made(conn))
    keys = BackupKeys(vault.path.parent)
    old_seal = vault.derived_key(WRAP_PURPOSE)
    new_seal, problem = _seal_also_under(keys, vault, old_seal, new)
    try:
        vault_lifecycle.change_passphrase(vault, current, new, confirmation)
    except BaseException:
        if new_seal is not None:
            # sealed under the new key only: left so, the vault is not under it
            with suppress(SealMismatch), vault.write_transaction():
                keys.keep_seal(old_seal)
        raise
    if new_seal is not None:
        with vault.write_transaction():  # see _seal_also_under
            keys.keep_seal(new_seal, was=old_seal)
    folder = vault.path.parent
    remembered = key_from_keyring(folder) is not None
    forget_keyring(folder)
    restored_before_epochs = restored if restored is not None and restored.epoch is None else None
    return PassphraseChanged(remembered, before_epochs, new_seal is not None, problem, restored_before_epochs)


def _seal_also_under(keys: BackupKeys, vault: Vault, old_seal: bytes, new: str) -> tuple[bytes | None, str | None]:
    """The backup keys sealed under the key the new passphrase gives too. Already sealed under it only (a vault
    restored from a backup made under an older passphrase, changed back): nothing to add. A damaged keys file does
    not stop a passphrase change (it may be urgent); it is said instead."""
    if not keys.exists():
        return None, None
    new_seal = vault.derived_key_under(new, WRAP_PURPOSE)
    try:
        # In the vault's write transaction, as every change to the file is: read, re-sealed and written between a
        # backup's new epoch in another process (the app, serve), it wrote that epoch away, and the backup made
        # under it with it.
        with vault.write_transaction():
            keys.add_seal(old_seal, new_seal)
    except SealMismatch as exc:
        try:
            keys.secrets(new_seal)
        except BackupKeyError:
            return None, exc.user_message
    except BackupKeyError as exc:
        return None, exc.user_message
    return new_seal, None


def change_passphrase_in(data_dir: Path, current: str, new: str, confirmation: str) -> PassphraseChanged:
    """``custos vault passphrase``: open the vault in ``data_dir`` with ``current`` (on the record), change it, and
    close it signed, as every command does."""
    require_vault(data_dir)
    vault = signed_at_close(unlock_vault(data_dir, current))
    try:
        return change_passphrase(vault, current, new, confirmation)
    finally:
        vault.close()
