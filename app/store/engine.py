"""The only module that knows the mirror is SQLCipher/SQLite.

Key handling (see docs/decisions/0002-vault-key-derivation.md): the passphrase goes through SQLCipher 4's
own KDF (PBKDF2-HMAC-SHA512, 256,000 iterations, the 16-byte salt at the start of the file). We run that KDF
once, in Python, and hand every pooled connection the derived raw key plus salt, so that opening a
connection costs no KDF and the passphrase itself is not kept in memory.
"""

from __future__ import annotations

import errno
import os
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from app.core.errors import (
    StorageFull,
    VaultCorrupt,
    VaultError,
    VaultGone,
    VaultInUse,
    VaultLocked,
    WeakCipherSettings,
    WrongPassphrase,
)

KDF_ITERATIONS = 256_000  # SQLCipher 4 default; the floor the issue sets
SALT_BYTES = 16
IN_USE_WAIT_MS = 2000  # how long a rekey waits for another connection to let go before calling the vault in use
KEY_BYTES = 32
PAGE_SIZE = 4096  # SQLCipher 4's default, never changed here
MIN_CIPHER_MAJOR = 4
CACHE_KIB = 8 * 1024  # per connection; see _apply_session_pragmas
APPLICATION_ID = 0x43535431  # "CST1", inside the encrypted header
SINGLE_STATEMENT_READS_OPTION = "custos_single_statement_reads"
WRITE_OPTION = "custos_write"  # execution option that makes a transaction BEGIN IMMEDIATE

DatabaseError = sqlcipher.DatabaseError
SQLITE_PERM = 3
SQLITE_READONLY = 8
SQLITE_CORRUPT = 11
SQLITE_CANTOPEN = 14
SQLITE_IOERR = 10
SQLITE_NOTADB = 26
_DAMAGE_TEXTS = ("database disk image is malformed", "file is not a database")  # SQLite's own wording


def is_damage(exc: BaseException) -> bool:
    """Whether one DB-API error says the file is damaged: SQLITE_CORRUPT or SQLITE_NOTADB, or their wording when
    raised inside SQL (``sqlcipher_export`` reports them as a plain SQLITE_ERROR). Not "locked", not "full"."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return True
    return isinstance(exc, sqlcipher.DatabaseError) and any(text in str(exc) for text in _DAMAGE_TEXTS)


def is_unwritable(exc: BaseException) -> bool:
    """Whether a DB-API error (or a SQLAlchemy one wrapping it) says SQLite may not write: SQLITE_READONLY,
    SQLITE_CANTOPEN or SQLITE_PERM (a read-only disk or folder, a file without write permission)."""
    code = getattr(getattr(exc, "orig", None) or exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN)


def is_write_refused(exc: BaseException) -> bool:
    """SQLITE_IOERR: the operating system refused a read or write (a disk quota, a file size limit, a failing disk)."""
    code = getattr(getattr(exc, "orig", None) or exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == SQLITE_IOERR


def not_writable(path: Path, exc: BaseException) -> VaultError:
    """The error for a vault SQLite cannot open for writing. Not the key and not damage: called either, the operator
    was sent to restore a backup over a good vault, or to retry a passphrase that was right."""
    found = getattr(exc, "orig", None) or exc
    reason = getattr(found, "sqlite_errorname", None) or type(found).__name__
    return VaultError(
        f"The vault {path} cannot be opened for writing ({reason}): check that it and its folder are writable and "
        "not on a read-only disk. Nothing was changed."
    )


@dataclass(frozen=True)
class CipherSettings:
    """What SQLCipher itself reports for an open vault; shown to the operator and put in Art. 30 records."""

    cipher_version: str
    cipher_provider: str
    kdf_algorithm: str
    kdf_iterations: int
    hmac_algorithm: str
    hmac_enabled: bool
    page_size: int
    secure_delete: bool
    journal_mode: str
    synchronous: str
    temp_store: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def derive_raw_key(passphrase: str, salt: bytes, iterations: int = KDF_ITERATIONS) -> bytes:
    """SQLCipher 4's key derivation, done once so connections can open with the raw key."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA512(), length=KEY_BYTES, salt=salt, iterations=iterations)
    return kdf.derive(passphrase.encode("utf-8"))


def read_salt(path: Path) -> bytes:
    """The salt SQLCipher keeps in the file's first bytes. A file too short to hold one (emptied or cut by a full
    disk or a broken copy) is damaged, not locked with another passphrase: no passphrase could open it."""
    with open(path, "rb") as handle:
        salt = handle.read(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise VaultCorrupt(path, f"it is {len(salt)} bytes long, too short to be a vault", key_checked=False)
    return salt


def raw_key_pragma(raw_key: bytes, salt: bytes) -> str:
    return f"PRAGMA key = \"x'{raw_key.hex()}{salt.hex()}'\""


def _passphrase_pragma(passphrase: str) -> str:
    return "PRAGMA key = '" + passphrase.replace("'", "''") + "'"


def _apply_session_pragmas(connection: Any) -> None:
    cursor = connection.cursor()
    for pragma in (
        "PRAGMA foreign_keys = ON",
        "PRAGMA secure_delete = ON",  # freed pages are zeroed: erasure reaches the file
        "PRAGMA temp_store = MEMORY",  # no plaintext temporary files on disk
        "PRAGMA synchronous = FULL",  # durable commits, also in WAL mode
        "PRAGMA busy_timeout = 10000",
        # SQLCipher decrypts and authenticates every page it reads into the cache, so each connection keeps a
        # cache of its own; 8 MiB holds the interior pages of every index of a 100,000-user mirror. The bound is
        # per connection and the runtime holds about seven (a reader per thread, the writer): at 32 MiB they could
        # reach 224 MiB, and seeding 100,000 users peaked at 254 MB RSS against 226 MB at 8 MiB, with the same
        # rates for GET, userName eq and PATCH (benchmarks/bench_ab_server.py, 100,000 users, side by side).
        f"PRAGMA cache_size = -{CACHE_KIB}",
    ):
        cursor.execute(pragma)
    cursor.close()


def _silence_cipher_log(connection: Any) -> None:
    # SQLCipher writes HMAC failures to stderr on a wrong key; the caller reports it in plain words.
    connection.execute("PRAGMA cipher_log_level = NONE")


def connect_raw(path: Path, raw_key: bytes, salt: bytes) -> Any:
    """One DB-API connection keyed with the derived key; raises WrongPassphrase if it does not decrypt.

    Opened with ``mode=rw``: never creates the file. A pool opening a new connection after the vault was moved or
    deleted under ``serve`` made an empty ``custos.vault`` (mode 0644) in its place, which every command then named
    damaged, sending the operator to restore a backup while the real vault sat where it had been moved."""
    try:
        connection = sqlcipher.connect(_existing_uri(path), uri=True, check_same_thread=False, isolation_level=None)
    except DatabaseError as exc:
        if not path.exists():
            raise VaultGone(path) from None
        raise not_writable(path, exc) from None
    try:
        _silence_cipher_log(connection)
        connection.execute(raw_key_pragma(raw_key, salt))
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DatabaseError as exc:
        connection.close()
        if is_damage(exc):
            raise WrongPassphrase() from exc
        raise not_writable(path, exc) from None
    _apply_session_pragmas(connection)
    return connection


def _existing_uri(path: Path) -> str:
    """``path`` as an SQLite URI that opens the file for reading and writing and never creates it."""
    return f"{path.absolute().as_uri()}?mode=rw"


def create_database_file(path: Path, passphrase: str) -> bytes:
    """Create an empty SQLCipher 4 file with mode 0600; return its salt."""
    return create_keyed_file(path, passphrase)[0]


def create_keyed_file(path: Path, passphrase: str) -> tuple[bytes, bytes]:
    """Create an empty SQLCipher 4 file with mode 0600; return its salt and derived key.

    The key is derived once, here, from a salt we draw, and the file is keyed with it raw (key and salt): the
    same file SQLCipher would make from the passphrase (its KDF is this PBKDF2-HMAC-SHA512, decision 0002),
    without SQLCipher deriving it a second time.
    """
    salt = os.urandom(SALT_BYTES)
    raw_key = derive_raw_key(passphrase, salt)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    connection = sqlcipher.connect(str(path), isolation_level=None)
    try:
        _silence_cipher_log(connection)
        connection.execute(raw_key_pragma(raw_key, salt))
        connection.execute(f"PRAGMA kdf_iter = {KDF_ITERATIONS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # first write: the salt goes to disk
    finally:
        connection.close()
    if read_salt(path) != salt:  # SQLCipher must have used our salt, or the key would not open the file
        raise WrongPassphrase()
    return salt, raw_key


def rekey(path: Path, raw_key: bytes, salt: bytes, new_passphrase: str) -> bytes:
    """Re-encrypt the whole file under a new passphrase; returns the new derived key.

    SQLCipher keeps the salt on rekey, so the new key is derived with the same salt. The file is taken exclusively
    first: in WAL mode every open connection holds a shared lock on it, so an exclusive one is refused while
    another process has the vault open (VaultInUse, nothing changed). Re-encrypted under it, that process would go
    on with the old key and fail on its next page.
    """
    connection = connect_raw(path, raw_key, salt)
    try:
        connection.execute(f"PRAGMA busy_timeout = {IN_USE_WAIT_MS}")  # a command's short read may be ending
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            connection.execute("BEGIN EXCLUSIVE")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the file's lock in WAL mode
            connection.execute("COMMIT")
        except sqlcipher.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise VaultInUse() from None
            raise
        new_key = derive_raw_key(new_passphrase, salt)
        connection.execute(f"PRAGMA rekey = \"x'{new_key.hex()}{salt.hex()}'\"")
    finally:
        connection.close()
    return new_key


def rekey_raw(path: Path, raw_key: bytes, salt: bytes, new_key: bytes) -> None:
    """Re-encrypt a file no other connection has open (a restore's staging copy) from one raw key to another,
    keeping its salt."""
    connection = connect_raw(path, raw_key, salt)
    try:
        connection.execute(f"PRAGMA rekey = \"x'{new_key.hex()}{salt.hex()}'\"")
    finally:
        connection.close()


# SQLite's unix VFS takes a SHARED lock as a read lock on these bytes of the database file (os_unix.c); in WAL mode
# every open connection keeps it until it closes, which is what rekey's exclusive lock above runs into.
_SHARED_FIRST = 0x40000000 + 2
_SHARED_SIZE = 510


def held_open_elsewhere(path: Path) -> bool:
    """Whether another process has the SQLite file at ``path`` open, read without a key (``vault restore`` has only
    the backup's passphrase, which may not open the vault it replaces).

    A write lock on SQLite's shared-lock bytes is tried and let go at once; a command's short read may be ending, so
    it is tried for up to IN_USE_WAIT_MS. POSIX locks are per process and a close drops them all, so this must not
    be asked about a file this process has open through SQLite. Where there is no ``fcntl`` (Windows) it answers
    False: there a file another process holds open cannot be replaced in the first place.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        return False
    try:
        descriptor = os.open(path, os.O_RDWR)  # a write lock needs a descriptor open for writing
    except OSError:  # a file this user cannot write: no Custos process can be using it as its vault either
        return False
    try:
        deadline = time.monotonic() + IN_USE_WAIT_MS / 1000
        while True:
            try:
                fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST, os.SEEK_SET)
            except OSError:
                if time.monotonic() >= deadline:
                    return True
                time.sleep(0.05)
                continue
            fcntl.lockf(descriptor, fcntl.LOCK_UN, _SHARED_SIZE, _SHARED_FIRST, os.SEEK_SET)
            return False
    finally:
        os.close(descriptor)


READER_POOL_SIZE = 8  # kept open: a reader thread holds its own (app/store/readers.py), and sessions borrow


# Engines the vault has closed (a lock, a close, a passphrase change). SQLAlchemy's dispose() leaves an engine usable:
# a thread that took the engine just before the close and read on it afterwards opened a new connection and kept it
# (a reader's connection stays open), and in WAL mode that connection's shared lock refused the passphrase change
# with "Another program has the vault open" — this process itself. Such a read is refused like one on a closed vault.
_RETIRED: weakref.WeakSet[Engine] = weakref.WeakSet()


def retire(engine: Engine) -> None:
    """Close ``engine``'s pooled connections and refuse every new one (:data:`_RETIRED`)."""
    _RETIRED.add(engine)
    engine.dispose()


def make_engine(path: Path, raw_key: bytes, salt: bytes, *, writer: bool = False) -> Engine:
    """A pooled SQLAlchemy engine whose every connection is keyed and hardened.

    ``writer``: the pool holds exactly one connection, the process's only write connection (app/store/writer.py).
    A single writer means no other connection of this process commits, so its page cache stays warm (SQLite
    drops a connection's cache whenever another connection committed), and no two writers of one process queue
    on SQLite's file lock. Readers get an unbounded pool: each reader thread keeps one connection checked out, so
    a fixed ceiling could make the next thread wait for a connection nobody returns.
    """

    def connect() -> Any:
        if engine in _RETIRED:  # closed by the vault: no new connection (and no lock on the file) from it
            raise VaultLocked()
        return connect_raw(path, raw_key, salt)

    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=connect,
        poolclass=QueuePool,
        pool_size=1 if writer else READER_POOL_SIZE,
        max_overflow=0 if writer else -1,
        pool_timeout=60 if writer else 30,
    )

    # pysqlite's implicit transactions are disabled (isolation_level=None); SQLAlchemy emits BEGIN itself,
    # and BEGIN IMMEDIATE on write sessions avoids SQLITE_BUSY upgrades under concurrent readers.
    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(SINGLE_STATEMENT_READS_OPTION):
            return  # each SELECT is its own implicit snapshot: no BEGIN/ROLLBACK round trip on hot read paths
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")

    @event.listens_for(engine, "handle_error")
    def _drop_damaged_connection(context: Any) -> None:
        # After a page fails authentication SQLCipher refuses every later write on that connection (SQLITE_READONLY):
        # drop it from the pool, so that the next request gets a fresh connection and only damaged pages fail.
        if is_damage(context.original_exception):
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False

    return engine


def read_cipher_settings(engine: Engine) -> CipherSettings:
    with engine.connect() as conn:

        def pragma(name: str) -> str:
            row = conn.exec_driver_sql(f"PRAGMA {name}").fetchone()
            return "" if row is None else str(row[0])

        settings = CipherSettings(
            cipher_version=pragma("cipher_version"),
            cipher_provider=pragma("cipher_provider"),
            kdf_algorithm=pragma("cipher_kdf_algorithm"),
            kdf_iterations=KDF_ITERATIONS,
            hmac_algorithm=pragma("cipher_hmac_algorithm"),
            hmac_enabled=pragma("cipher_use_hmac") in ("1", "ON", "on"),
            page_size=int(pragma("cipher_page_size") or 0),
            secure_delete=pragma("secure_delete") == "1",
            journal_mode=pragma("journal_mode"),
            synchronous={"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}.get(pragma("synchronous"), "?"),
            temp_store={"0": "DEFAULT", "1": "FILE", "2": "MEMORY"}.get(pragma("temp_store"), "?"),
        )
    assert_cipher_floor(settings)
    return settings


def assert_cipher_floor(settings: CipherSettings) -> None:
    major = settings.cipher_version.split(".", 1)[0]
    problems = []
    if not major.isdigit() or int(major) < MIN_CIPHER_MAJOR:
        problems.append(f"cipher version {settings.cipher_version} is older than 4.x")
    if settings.kdf_iterations < KDF_ITERATIONS:
        problems.append("KDF iterations below 256,000")
    if not settings.hmac_enabled:
        problems.append("page HMAC is off")
    if not settings.secure_delete:
        problems.append("secure_delete is off")
    if problems:
        raise WeakCipherSettings("Refusing to use the vault: " + "; ".join(problems) + ".")


def optimize(engine: Engine) -> None:
    """ANALYZE where SQLite judges the statistics stale (0x10002: also tables never analyzed).

    ``analysis_limit`` makes ANALYZE sample each index instead of reading all of it, so this stays in the
    milliseconds on a 100,000-user mirror and can run while the server is busy.
    """
    with engine.connect() as conn:
        optimize_on(conn)


def optimize_on(conn: Connection) -> None:
    conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
    conn.exec_driver_sql("PRAGMA optimize=0x10002")
    conn.commit()


def planner_statistics(conn: Connection) -> list[tuple[str, ...]]:
    """The query planner's statistics (sqlite_stat1), to tell whether an ANALYZE changed them."""
    try:
        rows = conn.exec_driver_sql("SELECT tbl, coalesce(idx, ''), stat FROM sqlite_stat1 ORDER BY 1, 2").all()
    except (sqlcipher.OperationalError, DBAPIError):  # never analysed: no table yet
        return []
    return [tuple(str(value) for value in row) for row in rows]


SQLITE_FULL = 13


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), the operating system's ENOSPC, or either already said
    as StorageFull (Vault.write_transaction)."""
    if isinstance(exc, StorageFull):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    original = getattr(exc, "orig", exc)
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == SQLITE_FULL:
        return True
    # sqlcipher_export() reports its statements' SQLITE_FULL as SQLITE_ERROR, with SQLite's words for it
    return "database or disk is full" in str(original)


def checkpoint(engine: Engine) -> None:
    with engine.connect() as conn:
        checkpoint_on(conn)


def checkpoint_on(conn: Connection) -> None:
    """On the DB-API connection itself: SQLAlchemy would open a transaction first, and SQLite refuses to
    checkpoint inside one ("database table is locked")."""
    raw = conn.connection.driver_connection
    assert raw is not None  # a checked-out connection always has its DB-API connection
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


# -- SQL functions whose spelling differs between SQLite and PostgreSQL ---------------------------------
def contains_exact(column: Any, value: str) -> Any:
    """Case-sensitive substring test (SQLite's LIKE folds ASCII case)."""
    from sqlalchemy import func

    return func.instr(column, value) > 0


def ends_with_exact(column: Any, value: str) -> Any:
    from sqlalchemy import func

    return func.substr(column, -len(value)) == value
