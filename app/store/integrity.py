"""Telling a damaged vault from a wrong passphrase, and checking a vault, without writing to it.

SQLCipher authenticates every page with an HMAC-SHA512: a wrong key fails on every page, a damaged file (a bad
disk, a broken copy, tampering) on some. A key is first tried on an immutable read-only handle: no lock taken, no
-wal or -shm opened or created, nothing checkpointed or rewritten, so a wrong passphrase after an unclean shutdown
leaves every file exactly as it was. Only a key that authenticates opens the vault for writing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher

from app.core.errors import VaultCorrupt, VaultError, WrongPassphrase
from app.store import wal
from app.store.engine import PAGE_SIZE, is_damage, raw_key_pragma

MAX_PROBLEMS = 100  # integrity_check stops after this many: enough to judge, bounded output
_FAILED_PAGE = re.compile(r"HMAC verification failed for page (\d+)")


def is_corruption(exc: BaseException | None) -> bool:
    """Whether ``exc`` (a DB-API error, or a SQLAlchemy error wrapping one) says the file is damaged.

    Only SQLITE_CORRUPT and SQLITE_NOTADB count: "database is locked" or a full disk are not damage. On a vault
    whose key was already verified, NOTADB means page 1 no longer authenticates.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if is_damage(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def _readonly(path: Path, raw_key: bytes, salt: bytes, *, immutable: bool) -> Any:
    """A keyed read-only handle; ``immutable`` also ignores the WAL (and so opens and locks no other file)."""
    flags = "immutable=1" if immutable else "mode=ro"
    try:
        connection = sqlcipher.connect(
            f"{path.resolve().as_uri()}?{flags}", uri=True, check_same_thread=False, isolation_level=None
        )
        connection.execute("PRAGMA cipher_log_level = NONE")
        connection.execute(raw_key_pragma(raw_key, salt))
        connection.execute("PRAGMA query_only = 1")
    except sqlcipher.DatabaseError as exc:  # unreadable (permissions, a folder in its place…): not a key question
        reason = getattr(exc, "sqlite_errorname", type(exc).__name__)
        raise VaultError(f"The vault {path} cannot be read ({reason}). Check the file and its permissions.") from None
    return connection


@dataclass(frozen=True)
class CipherReport:
    pages: int  # pages in the file
    failed_pages: tuple[int, ...]  # pages whose HMAC does not verify under the key
    other: tuple[str, ...]  # anything else SQLCipher reports (a file size that is no whole number of pages…)

    @property
    def wrong_key(self) -> bool:
        return self.pages > 0 and len(self.failed_pages) >= self.pages


def _cipher_report(connection: Any, path: Path) -> CipherReport:
    pages = path.stat().st_size // PAGE_SIZE
    failed: list[int] = []
    other: list[str] = []
    for (line,) in connection.execute("PRAGMA cipher_integrity_check").fetchall():
        match = _FAILED_PAGE.search(str(line))
        if match:
            failed.append(int(match.group(1)))
        else:
            other.append(str(line))
    return CipherReport(pages, tuple(failed), tuple(other))


def describe_pages(report: CipherReport, limit: int = 10) -> str:
    shown = ", ".join(str(page) for page in report.failed_pages[:limit])
    more = f" and {len(report.failed_pages) - limit} more" if len(report.failed_pages) > limit else ""
    return shown + more


def describe(report: CipherReport) -> str:
    if not report.failed_pages:
        return "; ".join(report.other[:3])
    return f"{len(report.failed_pages)} of {report.pages} pages fail authentication: {describe_pages(report)}"


def damage_summary(path: Path, raw_key: bytes, salt: bytes) -> str:
    """What is damaged, for a message: the pages that fail, else SQLite's own word for it."""
    try:
        connection = _readonly(path, raw_key, salt, immutable=True)
        try:
            report = _cipher_report(connection, path)
        finally:
            connection.close()
    except sqlcipher.DatabaseError:
        return "SQLite finds it malformed"
    return describe(report) if report.failed_pages or report.other else "SQLite finds it malformed"


def probe_key(path: Path, raw_key: bytes, salt: bytes) -> None:
    """Raise WrongPassphrase or VaultCorrupt, or return when the key opens the file; writes nothing anywhere.

    Reading the schema needs page 1. When that fails, every page's HMAC is checked: all failing is a wrong key,
    some failing is damage. When all pages verify, the key is right; what the main file alone lacks (pages still
    in the WAL after an unclean shutdown) is read by the full open that follows, unless the WAL is damaged where
    SQLite would drop committed transactions without a word (app/store/wal.py).
    """
    connection = _readonly(path, raw_key, salt, immutable=True)
    try:
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            report = None
        except sqlcipher.DatabaseError:
            report = _cipher_report(connection, path)
    finally:
        connection.close()
    if report is not None and report.wrong_key:
        raise WrongPassphrase()
    if report is not None and (report.failed_pages or report.other):
        raise VaultCorrupt(path, describe(report), key_checked=report.pages > 0)  # no whole page: nothing to try
    log = damaged_wal(path)  # the key is right: before SQLite opens (and so truncates) a damaged WAL
    if log is not None:
        raise VaultCorrupt(path, describe_wal(log))


def wal_path(path: Path) -> Path:
    return Path(f"{path}-wal")


def damaged_wal(path: Path) -> wal.WalReport | None:
    """The vault's WAL when it is damaged, read twice: a process writing to it meanwhile (``serve``) can make one
    read see a new generation's header with an older frame, never the same damage twice."""
    first = wal.inspect(wal_path(path))
    if first is None or not first.damaged:
        return None
    second = wal.inspect(wal_path(path))
    return second if second == first else None


def describe_wal(report: wal.WalReport) -> str:
    return (
        f"its write-ahead log is damaged at frame {report.damaged_frame}: opening it would silently drop "
        f"{report.commits_after} later transaction(s)"
    )


@dataclass(frozen=True)
class CheckReport:
    path: Path
    cipher: CipherReport
    integrity: tuple[str, ...]  # PRAGMA integrity_check's findings; empty when it answered "ok"
    integrity_ran: bool
    wal: wal.WalReport | None = None  # None: no write-ahead log to read

    @property
    def intact(self) -> bool:
        cipher_ok = not self.cipher.failed_pages and not self.cipher.other
        return cipher_ok and self.integrity_ran and not self.integrity and not (self.wal and self.wal.damaged)


def check(path: Path, raw_key: bytes, salt: bytes) -> CheckReport:
    """SQLCipher's page authentication of the file, then SQLite's integrity check (WAL included), read-only.

    Raises WrongPassphrase when no page authenticates under the key. SQLite may rebuild the -shm index of a WAL
    left by an unclean shutdown; no page of the database or its WAL is written, and a vault without a WAL gets
    none (nor a -shm).
    """
    log = wal.inspect(wal_path(path))  # as the file is now: SQLite's read below stops at a damaged frame
    # Without a WAL (the vault closed cleanly: SQLite removes it with the last connection) there is nothing but the
    # file to read, and an immutable handle reads it without making a -wal and a -shm beside it: a "read-only"
    # check left both in a folder handed over as evidence. A WAL present (a process has the vault open, or one was
    # killed) needs the mode=ro handle, which reads it.
    connection = _readonly(path, raw_key, salt, immutable=not wal_path(path).exists())
    try:
        cipher = _cipher_report(connection, path)
        if cipher.wrong_key:
            raise WrongPassphrase()
        findings: list[str] = []
        ran = True
        try:
            rows = connection.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()
            lines = [line for row in rows for line in str(row[0]).splitlines()]  # a row may hold several lines
            findings = [line for line in lines if line not in ("ok", "*** in database main ***")]
        except sqlcipher.DatabaseError as exc:  # page 1 or the schema cannot be read at all
            if not is_damage(exc):  # not the file's fault (a read-only folder: no -shm for the WAL): no verdict
                reason = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
                raise VaultError(
                    f"The vault {path} could not be checked here ({reason}): SQLite needs to write its index files "
                    "beside it. Copy the vault to a writable folder and check the copy."
                ) from None
            ran = False
            findings = [f"SQLite could not read the schema ({getattr(exc, 'sqlite_errorname', 'error')})"]
    finally:
        connection.close()
    return CheckReport(path, cipher, tuple(findings), ran, log)
