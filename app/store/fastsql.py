"""SQLAlchemy Core statements compiled once per dialect and run on the DB-API cursor.

Appending an event runs three statements (chain tail, subject key, insert), and a GET two (the row, its
memberships). Through ``Connection.execute`` each costs about ten times what SQLite itself spends on it, which
would make the audit trail and the read a visible share of every SCIM request. The statements stay SQLAlchemy
Core (no SQL dialect written here); only the execution skips SQLAlchemy's per-call work. Parameters must be
plain str/int/bytes/None, and results come back as SQLite holds them (no type processing runs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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


class FastStatement:
    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

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

    def fetchone(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        sql, order, fixed = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            return cursor.execute(sql, self._arguments(order, fixed, params or {})).fetchone()
        finally:
            cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        sql, order, fixed = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            return list(cursor.execute(sql, self._arguments(order, fixed, params or {})).fetchall())
        finally:
            cursor.close()

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
