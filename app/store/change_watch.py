"""What the one writer changed, and what another process changed: cache invalidation and wake-ups (decision 0031).

Every write of this process runs on one connection (app/store/writer.py). On it, TEMP triggers (they live in
that connection only: no migration, nothing in the file) call back into Python when a watched table changes:

- ``targets``, ``policy_versions``, ``erasure_tombstone_key``, ``erasure_tombstones``: small values every SCIM
  write needs (the enabled targets an outbox item is queued for, the policy version in force, the tombstone key
  and whether any tombstone is unreleased) are cached per table and dropped when the table changes. While the
  current transaction has changed a table, its cache is bypassed (a value read then may yet be rolled back).
- ``outbox``, ``erasure_steps``: listeners (the provisioning dispatcher, the erasure worker) are told after the
  commit that work was queued, instead of every write waking them.

Another process (``custos target add``, ``custos policy apply`` while ``serve`` runs) commits on its own
connection; SQLite's ``PRAGMA data_version`` on this connection then changes. It is read once per write
transaction, right after BEGIN IMMEDIATE: nobody else can commit while this transaction holds the write lock,
so a cache checked in the transaction is never older than the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)
T = TypeVar("T")
INFO_KEY = "custos_change_watch"
CACHED_TABLES = ("targets", "policy_versions", "erasure_tombstone_key", "erasure_tombstones")
NOTIFIED_TABLES = ("outbox", "erasure_steps")
_FUNCTION = "custos_table_changed"


class ChangeWatch:
    """One per write engine; every method runs on the thread that holds the writer (one at a time)."""

    def __init__(self) -> None:
        self._generation: dict[str, int] = {}
        self._touched: set[str] = set()  # tables changed by the transaction in progress
        self._committed = False
        self._data_version: int | None = None
        self._values: dict[tuple[str, str], tuple[int, Any]] = {}
        self._listeners: list[Callable[[frozenset[str]], None]] = []
        self.hits = 0
        self.misses = 0

    # -- wiring ---------------------------------------------------------------------------------------------
    def attach(self, engine: Engine) -> None:
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "begin", self._on_begin)  # after make_engine's: BEGIN IMMEDIATE has been sent
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)

    def install(self, dbapi_connection: Any) -> None:
        """The callback and the TEMP triggers on the tables that exist (a new file gets them after migrating)."""
        dbapi_connection.create_function(_FUNCTION, 1, self._changed, deterministic=False)
        present = {row[0] for row in dbapi_connection.execute("SELECT name FROM main.sqlite_master WHERE type='table'")}
        for table in (*CACHED_TABLES, *NOTIFIED_TABLES):
            if table not in present:
                continue
            for action in ("INSERT", "UPDATE", "DELETE"):
                name = f"custos_watch_{table}_{action.lower()}"
                dbapi_connection.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS {name} AFTER {action} ON main.{table} "
                    f"BEGIN SELECT {_FUNCTION}('{table}'); END"
                )
        self.forget()

    def subscribe(self, listener: Callable[[frozenset[str]], None]) -> Callable[[], None]:
        """``listener(tables)`` after each commit that changed watched tables (on the committing thread)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- caching --------------------------------------------------------------------------------------------
    def cached(self, table: str, key: str, load: Callable[[], T]) -> T:
        if table in self._touched:
            return load()  # this transaction changed the table: read it as the transaction sees it
        generation = self._generation.get(table, 0)
        entry = self._values.get((table, key))
        if entry is not None and entry[0] == generation:
            self.hits += 1
            return entry[1]
        self.misses += 1
        value = load()
        self._values[(table, key)] = (generation, value)
        return value

    def forget(self) -> None:
        """Drop every cached value (another process committed, or the connection was replaced)."""
        for table in CACHED_TABLES:
            self._generation[table] = self._generation.get(table, 0) + 1
        self._values.clear()

    # -- SQLite and SQLAlchemy callbacks --------------------------------------------------------------------
    def _changed(self, table: str) -> None:
        self._touched.add(table)

    def _on_connect(self, dbapi_connection: Any, record: Any) -> None:
        self.install(dbapi_connection)
        record.info[INFO_KEY] = self  # Connection.info is this record's: how ``cached`` finds the watch
        self._data_version = None

    def _on_begin(self, conn: Connection) -> None:
        self._touched.clear()
        self._committed = False
        version = conn.exec_driver_sql("PRAGMA data_version").scalar()
        if self._data_version is not None and version != self._data_version:
            self.forget()  # another process committed since our last transaction
        self._data_version = version

    def _on_commit(self, _conn: Connection) -> None:
        self._committed = True

    def _on_rollback(self, _conn: Connection) -> None:
        self._committed = False

    def settle(self) -> None:
        """The transaction ended (the writer's block is over): drop what it changed; tell who listens."""
        touched, self._touched = frozenset(self._touched), set()
        if not touched:
            return
        for table in touched & set(CACHED_TABLES):
            self._generation[table] = self._generation.get(table, 0) + 1
        if self._committed and touched & set(NOTIFIED_TABLES):
            for listener in list(self._listeners):
                try:
                    listener(touched)
                except Exception as exc:  # a listener's fault must not fail the write that was committed
                    log.error("change listener failed: %s", type(exc).__name__)


def cached(conn: Connection, table: str, key: str, load: Callable[[], T]) -> T:
    """``load()``, cached on the one write connection until ``table`` changes; read through elsewhere."""
    watch: ChangeWatch | None = conn.info.get(INFO_KEY)
    if watch is None:
        return load()
    return watch.cached(table, key, load)
