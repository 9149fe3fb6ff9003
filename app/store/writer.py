"""The process's one write connection (issue 16 step 3, decision 0031).

Every write of this process — SCIM (through the group commit, app/store/group_commit.py), the request recorder,
alert cursors, dispatcher outcomes, erasure, policy, tokens — runs on this one pinned connection, one
transaction at a time. Why one:

- SQLite drops a connection's page cache whenever *another* connection committed. With the writes spread over a
  pool, nearly every transaction decrypted (SQLCipher: AES + HMAC per page) the same index pages again; the
  one writer only sees its own commits, so its cache stays warm.
- Two writers of one process would queue on SQLite's file lock, which polls (busy_timeout); one lock here wakes
  the next writer at once.

A CLI command that writes while ``serve`` runs is another process with its own writer: SQLite's file locking
orders the two, as before. Nesting a write inside a write on the same thread never worked (the inner BEGIN
IMMEDIATE waited out the busy timeout on the outer's lock); it is refused at once with a clear error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from app.store.change_watch import ChangeWatch
from app.store.engine import SINGLE_STATEMENT_READS_OPTION, WRITE_OPTION


class NestedWrite(RuntimeError):
    """A write transaction was asked for by a thread that already holds the writer (a programming error)."""


class PinnedWriter:
    def __init__(
        self, engine: Engine, watch: ChangeWatch | None = None, guard: Callable[[], None] | None = None
    ) -> None:
        self.engine = engine  # a pool of exactly one connection (make_engine(..., writer=True))
        self.guard = guard  # run before each transaction: raises if the file may no longer be written (vault.py)
        # caches dropped on change, listeners told of queued work (change_watch.py); the vault's, so that what
        # subscribed to it outlives a re-key or a reopen, which make a new writer
        self.watch = watch or ChangeWatch()
        self.watch.attach(engine)
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._conn: Connection | None = None  # kept checked out between transactions: no pool round trip per write
        self.transactions = 0  # for tests and the benchmark: how many transactions ran here

    @property
    def holder(self) -> int | None:
        """The thread id that holds the writer now (None: free)."""
        return self._owner

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """The write connection, held by this thread until the block ends; its transactions BEGIN IMMEDIATE."""
        me = threading.get_ident()
        if self._owner == me:
            raise NestedWrite("A write was started inside another write on the same thread.")
        with self._lock:
            self._owner = me
            try:
                conn = self._kept()
                try:
                    yield conn
                finally:
                    if not conn.invalidated and conn.in_transaction():  # left open by a statement outside a
                        conn.rollback()  # ``begin()`` block (a checkpoint, a scrub): nothing of it is kept
            finally:
                self._owner = None
                self.watch.settle()

    def _kept(self) -> Connection:
        """The one connection, checked out once and kept; replaced if SQLAlchemy invalidated it (a damaged page)."""
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self._conn = self.engine.connect()
        # options set by the last holder (a scrub's single-statement mode) do not carry over to the next
        conn.execution_options(**{WRITE_OPTION: True, SINGLE_STATEMENT_READS_OPTION: False})
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction on the pinned connection, committed when the block ends without an error."""
        if self.guard is not None:
            self.guard()
        with self.connection() as conn, conn.begin():
            self.transactions += 1
            yield conn

    def watch_tables(self) -> None:
        """Put the watch's triggers on tables made since the connection opened (a new vault, after migrating)."""
        with self.connection() as conn:
            self.watch.install(conn.connection.driver_connection)

    def release(self) -> None:
        """Give the connection back to its pool (before something else must use the write engine directly)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def dispose(self) -> None:
        """Close the connection (the vault closes or changes its key); waits for a write in progress."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self.engine.dispose()
