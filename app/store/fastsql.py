"""SQLAlchemy Core statements compiled once per dialect and run on the DB-API cursor.

Appending an event runs three statements (chain tail, subject key, insert), and a GET two (the row, its
memberships). Through ``Connection.execute`` each costs about ten times what SQLite itself spends on it, which
would make the audit trail and the read a visible share of every SCIM request. The statements stay SQLAlchemy
Core (no SQL dialect written here); only the execution skips SQLAlchemy's per-call work. Untyped, parameters must
be plain str/int/bytes/None and results come back as SQLite holds them; typed, both go through the columns' types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


def driver_cursor(conn: Connection) -> Any:
    """A DB-API cursor on the connection under ``conn`` (plain tuples, no Row objects)."""
    driver = conn.connection.driver_connection
    if driver is None:  # only after the pool invalidated it; SQLAlchemy would raise on its own execute too
        raise RuntimeError("the database connection was invalidated")
    return driver.cursor()


Processor = Callable[[Any], Any]


_Compiled = tuple[str, tuple[str, ...] | None, dict[str, Any], dict[str, Processor]]


class FastStatement:
    """``typed=True``: result rows are converted as SQLAlchemy converts them (each selected column's type's result
    processor: times, booleans, a TypeDecorator's own reading), and parameters as SQLAlchemy binds them (each bound
    parameter's type's bind processor: a time to its stored integer, a document packed), so the rows written and
    read are the same either way. Insert with an explicit ``values()`` of typed ``bindparam``s: a bare
    ``insert(table)`` would name every column, and no Python-side column default runs here."""

    def __init__(self, statement: ClauseElement, *, typed: bool = False) -> None:
        self._statement = statement
        self._typed = typed
        self._compiled: dict[str, _Compiled] = {}
        self._processors: dict[str, tuple[Processor | None, ...] | None] = {}

    @property
    def statement(self) -> ClauseElement:
        """The SQLAlchemy statement it runs (for a query-plan test, or to run it through SQLAlchemy)."""
        return self._statement

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

    def _for(self, conn: Connection) -> _Compiled:
        found = self._compiled.get(conn.dialect.name)
        if found is None:
            compiled = self._statement.compile(dialect=conn.dialect)
            assert isinstance(compiled, SQLCompiler)  # a statement, not DDL: it has a parameter order
            order = tuple(compiled.positiontup) if compiled.positiontup else None
            binders = self._binders(compiled, conn) if self._typed else {}
            found = (str(compiled), order, dict(compiled.params), binders)  # params: literals bound by the statement
            self._compiled[conn.dialect.name] = found
        return found

    @staticmethod
    def _binders(compiled: SQLCompiler, conn: Connection) -> dict[str, Processor]:
        """Per bound parameter whose type converts values on the way in, its bind processor for this dialect."""
        found: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            if processor is not None:
                found[name] = processor
        return found

    @staticmethod
    def _arguments(
        order: tuple[str, ...] | None, fixed: dict[str, Any], params: Mapping[str, Any], binders: dict[str, Processor]
    ) -> Any:
        if not binders and order is not None:  # the hot untyped path: no merged dict
            return tuple(params[name] if name in params else fixed[name] for name in order)
        merged = {**fixed, **params}
        for name, processor in binders.items():
            if name in merged:
                merged[name] = processor(merged[name])
        if order is None:
            return merged
        return tuple(merged[name] for name in order)

    def _fetch(self, conn: Connection, params: Mapping[str, Any] | None, limit: int | None) -> list[Any]:
        """The result rows (at most ``limit``), converted when the statement is typed."""
        sql, order, fixed, binders = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            cursor.execute(sql, self._arguments(order, fixed, params or {}, binders))
            rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(exc, sql, conn) from exc
        finally:
            cursor.close()
        processors = self._converters(conn)
        return list(rows) if processors is None else [self._convert(row, processors) for row in rows]

    def fetchone(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        rows = self._fetch(conn, params, 1)
        return rows[0] if rows else None

    def fetchmany(self, conn: Connection, params: Mapping[str, Any] | None, limit: int) -> list[Any]:
        """At most ``limit`` result rows. For a write with RETURNING the whole write is done all the same: SQLite
        makes every change on the statement's first step and only hands the rows out after."""
        return self._fetch(conn, params, limit)

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        return self._fetch(conn, params, None)

    def batches(
        self, conn: Connection, params: Mapping[str, Any] | None = None, size: int = 50_000
    ) -> Iterator[list[Any]]:
        """The result rows as plain tuples, ``size`` at a time."""
        sql, order, fixed, binders = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            cursor.execute(sql, self._arguments(order, fixed, params or {}, binders))
            while rows := cursor.fetchmany(size):
                yield rows
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(exc, sql, conn) from exc
        finally:
            cursor.close()

    @classmethod
    def insert_into(cls, table: Table) -> FastStatement:
        """A typed INSERT naming every column of ``table`` (each row gives them all: no column default runs here)."""
        values = {column.name: bindparam(column.name, type_=column.type) for column in table.columns}
        return cls(insert(table).values(values), typed=True)

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        self.execute_many(conn, [params])

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        sql, order, fixed, binders = self._for(conn)
        cursor = driver_cursor(conn)
        try:
            if len(rows) == 1:
                cursor.execute(sql, self._arguments(order, fixed, rows[0], binders))
            else:
                cursor.executemany(sql, [self._arguments(order, fixed, row, binders) for row in rows])
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(exc, sql, conn) from exc
        finally:
            cursor.close()


def _wrapped(exc: Exception, sql: str, conn: Connection) -> BaseException:
    """The driver's error as SQLAlchemy raises it from ``Connection.execute`` (``IntegrityError``,
    ``OperationalError``…), so callers catch one family either way. The parameters are left out: they may be
    personal data, and the error may be logged."""
    return DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error, hide_parameters=True)
