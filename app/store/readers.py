"""A read connection per reader thread, kept open (issue 16 step 3, decision 0031).

A pool hands its connections out in rotation, so each read met a connection whose page cache had gone cold
while others served; SQLCipher then decrypted and authenticated the same pages again. Here each thread keeps
its own connection for as long as the thread lives: the event loop that serves SCIM reads always reads through
the same, warm cache. The connection goes back to the pool when its thread ends, and is closed by ``close_all``
when the vault closes (no connection keeps the key past that).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DisconnectionError

from app.store.engine import SINGLE_STATEMENT_READS_OPTION


class _Held:
    """One thread's read connection; closed (back to the pool) when the thread's storage is dropped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn = engine.connect()
        self.conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})
        self.depth = 0  # nested reads on one thread share the connection
        # Guards depth and retired together: the vault closes connections from another thread, and closing one
        # between a reader's "is it idle?" and its statement crashed the process (SQLite freed under a query).
        self.lock = threading.Lock()
        self.retired = False  # the vault closed: no new read starts on it; the last one in use closes it
        self.thread = threading.get_ident()
        self.statistics = -1  # the planner statistics' generation this connection has loaded (set by its owner)

    @property
    def usable(self) -> bool:
        return not self.conn.closed and not self.conn.invalidated

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()

    def __del__(self) -> None:  # the thread ended: its storage, and with it this holder, is dropped
        with contextlib.suppress(Exception):  # at interpreter shutdown the pool may be gone already
            self.close()


class ThreadReaders:
    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[_Held] = []
        self.opened = 0  # how many read connections were taken, for tests: one per thread, not one per read
        # SQLite loads the planner's statistics (sqlite_stat1) when a connection reads the schema; an ANALYZE on
        # the writer's connection is not seen by connections already open, which kept planning as if the tables
        # were empty — a value-path filter walked the resource-type index instead of probing by resource number.
        # When an ANALYZE changed them, the generation goes up and older connections are replaced before their
        # next read (a fresh connection loads the statistics with the schema).
        self.statistics = 0

    def statistics_changed(self) -> None:
        self.statistics += 1

    def watch(self, engine: Engine) -> None:
        """Pooled connections taken straight from ``engine`` are replaced at checkout when their statistics are
        stale (a fresh connection loads them with the schema; reloading in place would need a lock the writer may
        hold)."""

        def opened(_dbapi_connection: object, record: object) -> None:
            record.info["statistics"] = self.statistics  # type: ignore[attr-defined]  # sqlalchemy's _ConnectionRecord

        def checked_out(_dbapi_connection: object, record: object, _proxy: object) -> None:
            if record.info.get("statistics") != self.statistics:  # type: ignore[attr-defined]  # as above
                raise DisconnectionError("planner statistics changed")  # the pool opens a fresh connection

        event.listen(engine, "connect", opened)
        event.listen(engine, "checkout", checked_out)

    @contextmanager
    def connection(self, engine: Engine) -> Iterator[Connection]:
        held = self._enter(engine)
        try:
            yield held.conn
        except BaseException:
            if held.conn.invalidated:  # a damaged page dropped it: the next read takes a fresh one
                self._local.held = None
            raise
        finally:
            with held.lock:
                held.depth -= 1
                done = held.depth == 0 and (held.retired or held.engine is not engine or held.conn.closed)
            if done:  # the vault closed or re-keyed meanwhile: this thread, its last user, closes it
                self._forget(held)

    def _enter(self, engine: Engine) -> _Held:
        """This thread's connection with one more read counted on it, taken under its lock: a connection the
        vault retired meanwhile is never used again (a fresh one is opened, or the engine refuses)."""
        while True:
            held: _Held | None = getattr(self._local, "held", None)
            stale = held is not None and held.statistics != self.statistics and held.depth == 0
            if held is None or held.engine is not engine or not held.usable or stale:
                held = self._open(engine)
            with held.lock:
                if not held.retired and held.usable:
                    held.depth += 1
                    return held
            self._local.held = None

    def _open(self, engine: Engine) -> _Held:
        stale = getattr(self._local, "held", None)
        if stale is not None:
            self._forget(stale)
        held = _Held(engine)
        held.statistics = self.statistics
        with self._lock:
            self._all = [h for h in self._all if not h.conn.closed]
            self._all.append(held)
            self.opened += 1
        self._local.held = held
        return held

    def _forget(self, held: _Held) -> None:
        with held.lock:
            idle = held.depth == 0
            held.retired = held.retired or idle
        if idle:
            held.close()
        if getattr(self._local, "held", None) is held:
            self._local.held = None

    def close_all(self) -> None:
        """Close every thread's connection that is not in use (the vault closes); those in use close after use,
        by the thread using them. Each is retired under its lock first, so no read starts on it afterwards."""
        with self._lock:
            held, self._all = self._all, []
        for item in held:
            with item.lock:
                item.retired = True
                idle = item.depth == 0
            if idle:
                item.close()
