"""SQLAlchemy Core statements compiled once per dialect and run on the DB-API cursor.

Appending an event runs three statements (chain tail, subject key, insert), and a GET two (the row, its
memberships). Through ``Connection.execute`` each costs about ten times what SQLite itself spends on it, which
would make the audit trail and the read a visible share of every SCIM request. The statements stay SQLAlchemy
Core (no SQL dialect written here); only the execution skips SQLAlchemy's per-call work. Parameters must be
plain str/int/bytes/None, and results come back as SQLite holds them (no type processing runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


def driver_cursor(conn: Connection) -> Any:
    """A DB-API cursor on the connection under ``conn`` (plain tuples, no Row objects)."""
    driver = conn.connection.driver_connection
    if driver is None:  # only after the pool invalidated it; SQLAlchemy would raise on its own execute too
        raise RuntimeError("the database connection was invalidated")
    return driver.cursor()


Processor = Callable[[Any], Any]


class FastStatement:
    """``typed=True``: result rows are converted as SQLAlchemy converts them (each selected column's type's result
    processor: times, booleans, a TypeDecorator's own reading), so a reader gets the same values either way."""

    def __init__(self, statement: ClauseElement, *, typed: bool = False) -> None:
        self._statement = statement
        self._typed = typed
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._processors: dict[str, tuple[Processor | None, ...] | None] = {}

    def _converters(self, conn: Connection) -> tuple[Processor | None, ...] | None:
        """Per column, the type's result processor for this dialect; None when no column needs one."""
        if not self._typed:
            return None
        name = conn.dialect.name
        if name not in self._processors:
            columns = getattr(self._statement, "selected_columns", ())
            found = tuple(
                column.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None) for column in columns
            )
            self._processors[name] = found if any(found) else None
        return self._processors[name]

    @staticmethod
    def _convert(row: Any, processors: tuple[Processor | None, ...]) -> tuple[Any, ...]:
        return tuple(value if p is None else p(value) for value, p in zip(row, processors, strict=True))

    def _for(self, conn: Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        found = self._compiled.get(conn.dialect.name)
        if found is None:
            compiled = self._statement.compile(dialect=conn.dialect)
            assert isinstance(compiled, SQLCompiler)  # a statement, not DDL: it has a parameter order
            order = tuple(compiled.positiontup) if compiled.positiontup else None
            found = (str(compiled), order, dict(compiled.params))  # params: literals bound by the statement
            self._compiled[conn.dialect.name] = found
        return found

    @staticmethod
    def _arguments(order: tuple[str, ...] | None, fixed: dict[str, Any], params: Mapping[str, Any]) -> Any:
        if order is None:
            return {**fixed, **params}
        return tuple(params[name] if name in params else fixed[name] for name in order)

    def _fetch(self, conn: Connection, params: Mapping[str, Any] | None, limit: int | None) -> list[Any]:
        """The result rows (at most ``limit``), converted when the statement is typed."""
        sql, order, fixed = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            cursor.execute(sql, self._arguments(order, fixed, params or {}))
            rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        finally:
            cursor.close()
        processors = self._converters(conn)
        return list(rows) if processors is None else [self._convert(row, processors) for row in rows]

    def fetchone(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        rows = self._fetch(conn, params, 1)
        return rows[0] if rows else None

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        return self._fetch(conn, params, None)

    def batches(
        self, conn: Connection, params: Mapping[str, Any] | None = None, size: int = 50_000
    ) -> Iterator[list[Any]]:
        """The result rows as plain tuples, ``size`` at a time."""
        sql, order, fixed = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            cursor.execute(sql, self._arguments(order, fixed, params or {}))
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        sql, order, fixed = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            if len(rows) == 1:
                cursor.execute(sql, self._arguments(order, fixed, rows[0]))
            else:
                cursor.executemany(sql, [self._arguments(order, fixed, row) for row in rows])
        finally:
            cursor.close()
