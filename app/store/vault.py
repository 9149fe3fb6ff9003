"""The vault: one SQLCipher file in the data folder, and its open/closed state.

States: CLOSED (no key in memory) and OPEN (engine keyed). The UI-lock state of the desktop app sits above
this (app.ui) and never closes the vault by itself.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import (
    StorageFull,
    VaultCorrupt,
    VaultError,
    VaultExists,
    VaultGone,
    VaultLocked,
    VaultNotAFile,
    VaultNotFound,
    WrongPassphrase,
)
from app.core.events import EventBus
from app.core.subkeys import subkey
from app.store import engine as sqlcipher_engine
from app.store import integrity, migrate
from app.store.change_watch import ChangeWatch
from app.store.engine import CipherSettings
from app.store.models import VaultInfo
from app.store.readers import ThreadReaders
from app.store.writer import PinnedWriter

# Writes a lifecycle entry ("vault.created", "vault.unlocked") inside the transaction that opens the vault. The
# trail lives above the store (app/audit), so the store takes the writer from its caller rather than importing it:
# app/audit/vault_lifecycle.py opens vaults for the app, the CLI and `serve` with it (issue 15 §1).
Recorder = Callable[[Connection, str, dict[str, object]], None]

log = logging.getLogger(__name__)
# The transaction was rolled back: what it was writing is not in the vault, what earlier ones wrote stays.
WRITE_NOT_SAVED = "{why}: this change was not saved (the vault is as it was before it). {then}"

VAULT_FILENAME = "custos.vault"
MIN_PASSPHRASE_LENGTH = 10
KEYRING_SERVICE = "Custos vault key"


def vault_path(data_dir: Path) -> Path:
    return data_dir / VAULT_FILENAME


def check_new_passphrase(passphrase: str, confirmation: str) -> None:
    """The rules for a new passphrase; raises VaultError with a readable reason."""
    if passphrase != confirmation:
        raise VaultError("The two passphrases differ. Type the same passphrase twice.")
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise VaultError(f"Choose a passphrase of at least {MIN_PASSPHRASE_LENGTH} characters.")


class Vault:
    """An open vault. Create one with :meth:`create` or :meth:`unlock`; :meth:`close` drops the key."""

    def __init__(self, path: Path, raw_key: bytes, salt: bytes) -> None:
        self.path = path
        self._salt = salt
        self._raw_key: bytearray | None = bytearray(raw_key)
        self._lock = threading.Lock()
        self._readers = ThreadReaders()
        self._statistics: list[tuple[str, ...]] | None = None  # sqlite_stat1 as the last optimize left it
        self.changes = ChangeWatch()  # what this process's writer changed (app/store/change_watch.py)
        self._engine: Engine | None = None
        self._writer: PinnedWriter | None = None
        self._open_engines(bytes(raw_key))
        self.events = EventBus()  # whoever commits to this vault publishes here after the commit (0025)
        self._closing: list[Callable[[Vault], None]] = []  # a caller's last writes (see on_close)
        self.cipher_settings: CipherSettings = sqlcipher_engine.read_cipher_settings(self.engine)

    # -- opening -------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, data_dir: Path, passphrase: str, confirmation: str | None = None, record: Recorder | None = None
    ) -> Vault:
        """Make a new vault; refuses to touch an existing file. ``record`` writes the creation on the trail."""
        check_new_passphrase(passphrase, passphrase if confirmation is None else confirmation)
        path = cls._place(data_dir)
        if path.exists():
            raise VaultExists(f"A vault already exists at {path}; unlock it instead.")
        salt, raw_key = sqlcipher_engine.create_keyed_file(path, passphrase)  # the key derived once
        vault = cls(path, raw_key, salt)
        migrate.upgrade(vault.writer.engine)
        vault.writer.watch_tables()
        with vault.write_session() as session:
            session.add(VaultInfo(key="vault_id", value=str(uuid.uuid4())))
            session.add(VaultInfo(key="created", value=datetime.now(UTC).isoformat()))
            if record is not None:
                record(session.connection(), "vault.created", {})
        vault.fix_permissions()
        log.info("vault created")
        return vault

    @classmethod
    def derive_key(cls, data_dir: Path, passphrase: str) -> bytes:
        """Run the KDF (slow on purpose: call it off the GUI thread)."""
        path = cls._existing(data_dir)
        return sqlcipher_engine.derive_raw_key(passphrase, sqlcipher_engine.read_salt(path))

    @classmethod
    def unlock(cls, data_dir: Path, passphrase: str, record: Recorder | None = None) -> Vault:
        return cls.unlock_with_key(data_dir, cls.derive_key(data_dir, passphrase), record)

    @classmethod
    def unlock_with_key(cls, data_dir: Path, raw_key: bytes, record: Recorder | None = None) -> Vault:
        """Open with a derived key. The key is verified before anything is migrated or written.

        A wrong key raises WrongPassphrase and a damaged file VaultCorrupt, both before any file is opened for
        writing (app/store/integrity.py): not even a WAL left by an unclean shutdown is checkpointed or removed.
        """
        path = cls._existing(data_dir)
        salt = sqlcipher_engine.read_salt(path)
        integrity.probe_key(path, raw_key, salt)
        vault: Vault | None = None
        try:
            sqlcipher_engine.connect_raw(path, raw_key, salt).close()  # the WAL is read (and recovered) from here
            vault = cls(path, raw_key, salt)
            migrate.upgrade(vault.writer.engine)
            vault.writer.watch_tables()
            if record is not None:  # the writer's own errors: the opening's failures are said below, as such
                with vault.writer.transaction() as conn:
                    record(conn, "vault.unlocked", {})
            vault.optimize()
        # The writer runs on the DB-API connection (app/store/writer.py): its errors arrive unwrapped.
        except (WrongPassphrase, DBAPIError, sqlcipher.DatabaseError) as exc:  # the key was verified: damage
            if vault is not None:
                vault.close()
            if isinstance(exc, WrongPassphrase) or integrity.is_corruption(exc):
                raise VaultCorrupt(path, integrity.damage_summary(path, raw_key, salt)) from None
            if sqlcipher_engine.is_unwritable(exc):
                raise sqlcipher_engine.not_writable(path, exc) from None
            # Its opening cannot go on the trail, so nothing is read: said plainly, before as a traceback.
            if sqlcipher_engine.is_disk_full(exc):
                raise StorageFull(
                    f"The disk holding {path} is full: the vault was not opened (its opening could not be recorded "
                    "on the audit trail) and nothing in it was changed. Free some space and retry."
                ) from None
            if sqlcipher_engine.is_write_refused(exc):
                reason = getattr(getattr(exc, "orig", exc), "sqlite_errorname", "SQLITE_IOERR")
                raise VaultError(
                    f"The vault {path} could not be written ({reason}: the system refused a write, as a disk quota, a "
                    "file size limit or a failing disk does): it was not opened, as its opening could not be "
                    "recorded on the audit trail, and nothing in it was changed."
                ) from None
            raise
        vault.fix_permissions()
        log.info("vault unlocked")
        return vault

    @staticmethod
    def _place(data_dir: Path) -> Path:
        """The vault file's path; VaultNotAFile when something else (a folder) is in its place, which is neither
        "no vault" (the app would start a first run) nor "a vault exists" (it cannot be unlocked)."""
        path = vault_path(data_dir)
        if path.exists() and not path.is_file():
            raise VaultNotAFile(path, is_folder=path.is_dir())
        return path

    @classmethod
    def _existing(cls, data_dir: Path) -> Path:
        path = cls._place(data_dir)
        if not path.is_file():
            raise VaultNotFound(data_dir)
        return path

    @classmethod
    def exists(cls, data_dir: Path) -> bool:
        """Whether ``data_dir`` holds a vault file; VaultNotAFile when something else is in its place."""
        return cls._place(data_dir).is_file()

    @classmethod
    def require(cls, data_dir: Path) -> Path:
        """The vault file, before anything is asked or opened: VaultNotFound (naming the folder) when there is none."""
        return cls._existing(data_dir)

    # -- using ---------------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise VaultLocked()
        return self._engine

    @property
    def writer(self) -> PinnedWriter:
        """The process's one write connection (app/store/writer.py)."""
        if self._writer is None:
            raise VaultLocked()
        return self._writer

    @property
    def readers(self) -> ThreadReaders:
        return self._readers

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    def _open_engines(self, raw_key: bytes) -> None:
        """The readers' pool and the one writer (called with ``_lock`` held, or from ``__init__``)."""
        self._engine = sqlcipher_engine.make_engine(self.path, raw_key, self._salt)
        self._readers.watch(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._identity = _file_identity(self.path)
        writer_engine = sqlcipher_engine.make_engine(self.path, raw_key, self._salt, writer=True)
        self._writer = PinnedWriter(writer_engine, self.changes, guard=self._check_in_place)

    def _check_in_place(self) -> None:
        """Refuse a write once the file at the vault's path is not the one opened (moved, replaced or deleted under
        ``serve``): SQLite's open connections would go on writing to the old file, an unlinked one lost at exit,
        while the IdP was answered 201. One stat per write transaction."""
        if _file_identity(self.path) != self._identity:
            raise VaultGone(self.path)

    def _close_engines(self) -> None:
        self.changes.forget()  # the cached values (a tombstone key among them) leave memory with the key
        self._readers.close_all()
        if self._writer is not None:
            self._writer.dispose()
            sqlcipher_engine.retire(self._writer.engine)
            self._writer = None
        if self._engine is not None:
            sqlcipher_engine.retire(self._engine)
            self._engine = None

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        if self._engine is None:
            raise VaultLocked()
        with self._sessions() as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock up front and commits on success."""
        self._check_in_place()
        with self.writer.connection() as conn, Session(bind=conn, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for reads on hot paths: no Session, and no explicit transaction.

        Each statement reads its own consistent snapshot; callers that need several statements to agree with
        each other use :meth:`read_session` instead.
        The connection is this thread's own, kept open (app/store/readers.py), so its page cache stays warm.
        """
        with self._readers.connection(self.engine) as conn:
            yield conn

    @contextmanager
    def read_snapshot(self) -> Iterator[Connection]:
        """:meth:`read_connection` with its statements in one read transaction, so that they agree with each other.

        On this thread's own connection, whose page cache is warm; a :meth:`read_session` borrows the pool's
        connections in turn, each cold for a large read (a 50,000-member group's list was read 1.5x slower that
        way). The transaction is SQLite's own (BEGIN … ROLLBACK on the driver connection): the held connection
        runs without SQLAlchemy's BEGIN. A snapshot inside a snapshot on the same thread is the outer one."""
        with self.read_connection() as conn:
            driver = conn.connection.driver_connection
            if driver is None or driver.in_transaction:
                yield conn
                return
            driver.execute("BEGIN")
            try:
                yield conn
            finally:
                driver.execute("ROLLBACK")

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A Core connection inside a write transaction (BEGIN IMMEDIATE), committed on success: on the process's
        one write connection (app/store/writer.py).

        A full disk, or a write the system refused (a quota, a file size limit), ends it as StorageFull or a
        VaultError saying so: they reached the command line as a traceback, `dsr open` and `erase` among them,
        and an error raised by a statement quotes it with its parameters, the values being written."""
        try:
            with self.writer.transaction() as conn:
                yield conn
        except (DBAPIError, sqlcipher.DatabaseError) as exc:
            if sqlcipher_engine.is_disk_full(exc):
                full = "The disk holding the vault is full"
                raise StorageFull(WRITE_NOT_SAVED.format(why=full, then="Free some space and retry.")) from None
            if sqlcipher_engine.is_write_refused(exc):
                reason = getattr(getattr(exc, "orig", exc), "sqlite_errorname", "SQLITE_IOERR")
                why = (
                    f"The vault could not be written ({reason}: the system refused a write, as a disk quota, a "
                    "file size limit or a failing disk does)"
                )
                then = "Free space or lift the limit, then retry."
                raise VaultError(WRITE_NOT_SAVED.format(why=why, then=then)) from None
            raise

    def optimize(self) -> None:
        """Refresh the query planner's statistics (SQLite's ``PRAGMA optimize``).

        Without statistics SQLite may walk the resource-type index instead of probing ids that a filter's
        subquery found, which turns an indexed lookup into a scan of every user.
        """
        with self.writer.connection() as conn:
            sqlcipher_engine.optimize_on(conn)
            statistics = sqlcipher_engine.planner_statistics(conn)
        if statistics != self._statistics:  # read connections opened before plan with the old ones: replace them
            self._statistics = statistics
            self._readers.statistics_changed()

    def checkpoint(self) -> None:
        """Move the WAL into the file and truncate it, on the writer (a checkpoint needs the write lock anyway)."""
        with self.writer.connection() as conn:
            sqlcipher_engine.checkpoint_on(conn)

    def info(self, key: str) -> str | None:
        with self.read_session() as session:
            return session.scalar(select(VaultInfo.value).where(VaultInfo.key == key))

    def fix_permissions(self) -> None:
        """0600 on the database and its WAL/SHM companions."""
        for suffix in ("", "-wal", "-shm"):
            companion = Path(str(self.path) + suffix)
            if companion.exists():
                os.chmod(companion, 0o600)

    def change_passphrase(self, current: str, new: str, confirmation: str) -> None:
        check_new_passphrase(new, confirmation)
        if sqlcipher_engine.derive_raw_key(current, self._salt) != bytes(self._key()):
            raise WrongPassphrase()
        with self._lock:
            self._close_engines()  # this process's own connections too: the rekey needs the file to itself
            try:
                new_key = sqlcipher_engine.rekey(self.path, bytes(self._key()), self._salt, new)
            except BaseException:
                self._open_engines(bytes(self._key()))  # refused or failed: open again as it was, under the old key
                raise
            self._wipe_key()
            self._raw_key = bytearray(new_key)
            self._open_engines(new_key)
        log.info("vault passphrase changed")

    def reopen(self, passphrase: str, record: Recorder | None = None) -> None:
        """Open this closed vault again in place, so everything holding it (server, jobs) carries on.

        Raises WrongPassphrase (and changes nothing) when the passphrase does not unlock it.
        """
        self.reopen_with_key(sqlcipher_engine.derive_raw_key(passphrase, self._salt), record)

    def reopen_with_key(self, raw_key: bytes, record: Recorder | None = None) -> None:
        with self._lock:
            if self._engine is not None:
                return
            integrity.probe_key(self.path, raw_key, self._salt)  # WrongPassphrase or VaultCorrupt, nothing written
            sqlcipher_engine.connect_raw(self.path, raw_key, self._salt).close()
            self._raw_key = bytearray(raw_key)
            self._open_engines(bytes(raw_key))
        if record is not None:
            with self.write_transaction() as conn:
                record(conn, "vault.unlocked", {"reopened": True})
        log.info("vault reopened")

    @property
    def salt(self) -> bytes:
        """The salt in the file's first bytes (public: it is what makes one passphrase give each vault its own key)."""
        return self._salt

    def derived_key(self, purpose: bytes) -> bytes:
        """A key for one purpose derived from the vault's key (HKDF): what is sealed under it opens exactly where
        the vault does, and the vault's own key is never handed out."""
        return subkey(bytes(self._key()), purpose)

    def derived_key_under(self, passphrase: str, purpose: bytes) -> bytes:
        """:meth:`derived_key` as it will be once the vault is under ``passphrase`` (runs the KDF: slow on purpose)."""
        return subkey(sqlcipher_engine.derive_raw_key(passphrase, self._salt), purpose)

    def verify_passphrase(self, passphrase: str) -> bool:
        """Re-authentication before a dangerous action: does ``passphrase`` derive this vault's key?

        Runs the KDF (slow on purpose: call it off the GUI thread). Compared in constant time.
        """
        candidate = sqlcipher_engine.derive_raw_key(passphrase, self._salt)
        return hmac.compare_digest(candidate, bytes(self._key()))

    def on_close(self, step: Callable[[Vault], None]) -> None:
        """Run ``step`` when :meth:`close` begins, while the vault is still open: a caller's last write (the
        command line signs a checkpoint over what the command wrote). The store does not import the trail, so
        the caller hands it in, as it hands in the Recorder. A step that fails is logged by type, never keeps the
        key in memory, and runs once."""
        self._closing.append(step)

    def _run_closing_steps(self) -> None:
        steps, self._closing = self._closing, []
        for step in steps:
            if not self.is_open:
                return
            try:
                step(self)
            except Exception as exc:
                log.error("a last step before closing the vault failed: %s", type(exc).__name__)

    def close(self) -> None:
        """Drop the key from memory and close every pooled connection."""
        self._run_closing_steps()
        with self._lock:
            if self._engine is not None:
                try:
                    with self.writer.connection() as conn:
                        sqlcipher_engine.optimize_on(conn)
                        sqlcipher_engine.checkpoint_on(conn)
                # A damaged file or a full disk must not keep the key in memory: close regardless. The checkpoint
                # runs on the DB-API connection itself, so its errors arrive unwrapped (sqlcipher's own).
                except (DBAPIError, sqlcipher.DatabaseError) as exc:
                    why = (
                        "disk full" if sqlcipher_engine.is_disk_full(exc) else type(getattr(exc, "orig", exc)).__name__
                    )
                    damaged = "damaged" if integrity.is_corruption(exc) else why
                    log.error("vault statistics and checkpoint skipped on close (%s)", damaged)
                finally:
                    self._close_engines()
            self._wipe_key()
        log.info("vault closed")

    def _key(self) -> bytearray:
        if self._raw_key is None:
            raise VaultLocked()
        return self._raw_key

    def _wipe_key(self) -> None:
        if self._raw_key is not None:
            for index in range(len(self._raw_key)):
                self._raw_key[index] = 0
            self._raw_key = None

    # -- OS keyring ----------------------------------------------------------------------------------
    def remember_in_keyring(self) -> bool:
        """Store the derived key in the OS keyring so the app can unlock without the passphrase."""
        import keyring
        from keyring.errors import KeyringError

        if not keyring_available():  # never the key in a plain file, whatever a caller offered
            log.warning("no OS keyring that protects secrets; the passphrase will be asked each time")
            return False
        try:
            keyring.set_password(KEYRING_SERVICE, str(self.path), bytes(self._key()).hex())
        except (KeyringError, RuntimeError):
            log.warning("no usable OS keyring; the passphrase will be asked each time")
            return False
        return True


# Backends that keep a secret where anyone who can read the home folder reads it, or nowhere: keyrings.alt's file
# backends (its "plaintext" file, and an "encrypted" one that asks its password on a terminal the app does not
# have; Debian and Ubuntu install keyrings.alt beside keyring, and keyring picks it when no Secret Service runs),
# and keyring's own null and fail backends. The vault key there would be the vault open to whoever copies the file.
_UNPROTECTED = ("keyrings.alt.file", "keyrings.alt.pyfs", "keyring.backends.null", "keyring.backends.fail")


def protects_secrets(backend: object) -> bool:
    """Whether ``backend`` keeps what it is given in the system's protected store. keyring's chainer may write to
    any of the backends it chains (the next one when one fails), so it protects only if each of them does."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        members = list(type(backend).backends)
        return bool(members) and all(protects_secrets(member) for member in members)
    module = type(backend).__module__
    return not any(module == name or module.startswith(name + ".") for name in _UNPROTECTED)


def keyring_available() -> bool:
    """Whether the system offers a keyring to remember the key in, one that protects it (:func:`protects_secrets`).
    Without one, an offer to remember the key would be a promise nobody keeps, or the key in a plain file."""
    import keyring

    try:
        return protects_secrets(keyring.get_keyring())
    except RuntimeError:
        return False


def key_from_keyring(data_dir: Path) -> bytes | None:
    """The key remembered for this vault, if any. One an unprotected backend holds (written there by a version that
    did not refuse it, decision 0063) is removed, not used: the passphrase is asked instead."""
    import keyring
    from keyring.errors import KeyringError

    if not keyring_available():
        forget_keyring(data_dir)
        return None
    try:
        stored = keyring.get_password(KEYRING_SERVICE, str(vault_path(data_dir)))
    except (KeyringError, RuntimeError):
        return None
    return bytes.fromhex(stored) if stored else None


def forget_keyring(data_dir: Path) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    with suppress(PasswordDeleteError, KeyringError, RuntimeError):
        keyring.delete_password(KEYRING_SERVICE, str(vault_path(data_dir)))


def _file_identity(path: Path) -> tuple[int, int] | None:
    """The file at ``path`` as the system knows it (device, inode); None when nothing is there."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino
