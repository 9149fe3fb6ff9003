"""Read-only queries behind the identity browser (Qt-free, safe to call from worker threads).

Pages use keyset pagination: ``WHERE (sort_key, id) > (:key, :id) ORDER BY sort_key, id LIMIT n``; never
OFFSET, so a page costs the same at row 100,000 as at row 0 and rows written meanwhile are neither skipped
nor repeated. NULL sort keys come first in ascending order and last in descending order, so a descending
listing is exactly the ascending one reversed. Everything returned is a plain frozen dataclass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, func, literal, select, tuple_
from sqlalchemy.orm import aliased

from app.store.models import GroupMember, ScimResource
from app.store.vault import Vault

R = ScimResource
SortKey = Literal["userName", "displayName", "modified"]
SortValue = str | datetime | None
PAGE_SIZE = 500
_ID_CHUNK = 500  # stays far below SQLite's bound-parameter limit

# Case-insensitive attributes sort on the lower-cased copies the server maintains (and indexes).
_SORT_COLUMNS: dict[str, Any] = {
    "userName": R.user_name_ci,
    "displayName": R.display_name_ci,
    "modified": R.modified,
}


@dataclass(frozen=True, eq=False)  # eq=False: comparing SQL expressions with == builds SQL, not a bool
class Query:
    """What to list: one resource type, an ordering and an optional extra WHERE clause."""

    resource_type: str
    sort: SortKey = "userName"
    descending: bool = False
    where: ColumnElement[bool] | None = None

    def __post_init__(self) -> None:
        if self.sort not in _SORT_COLUMNS:
            raise ValueError(f"cannot sort by {self.sort!r}")


@dataclass(frozen=True)
class Row:
    """One line of the table. ``key`` is the sort value as SQL sees it (used to place live updates)."""

    id: str
    user_name: str | None
    display_name: str | None
    external_id: str | None
    active: bool | None
    modified: datetime
    key: SortValue
    members: int | None = None  # Groups only: how many members (counted on the primary key, no scan)


@dataclass(frozen=True)
class Cursor:
    key: SortValue
    id: str


@dataclass(frozen=True)
class Page:
    rows: tuple[Row, ...]
    next: Cursor | None  # None once the listing is exhausted


@dataclass(frozen=True)
class Related:
    """A group of a user, or a member of a group."""

    id: str
    resource_type: str
    label: str | None


@dataclass(frozen=True)
class Detail:
    id: str
    resource_type: str
    document: dict[str, Any]
    version: int
    created: datetime
    modified: datetime
    groups: tuple[Related, ...]
    members: tuple[Related, ...]


def order_key(row_key: SortValue, row_id: str) -> tuple[Any, ...]:
    """The ascending SQL order as a Python tuple (NULLs first; strings compare by code point, as SQLite's
    BINARY collation does on UTF-8)."""
    return (row_key is not None, row_key if row_key is not None else "", row_id)


def sorts_before(query: Query, a: tuple[SortValue, str], b: tuple[SortValue, str]) -> bool:
    ascending = order_key(*a) < order_key(*b)
    return order_key(*b) < order_key(*a) if query.descending else ascending


def _column(query: Query) -> Any:
    return _SORT_COLUMNS[query.sort]


def _base(query: Query) -> ColumnElement[bool]:
    condition = R.resource_type == query.resource_type
    return and_(condition, query.where) if query.where is not None else condition


def _segments(query: Query, cursor: Cursor | None) -> list[tuple[ColumnElement[bool], tuple[Any, ...]]]:
    """The rows after ``cursor`` as up to two (condition, ordering) parts: NULL keys and non-NULL keys.

    Keeping NULLs out of the range condition (no ``OR col IS NULL``) lets SQLite answer each part with a
    range scan of the (resource_type, sort column) index instead of scanning and sorting the whole type.
    """
    column = _column(query)
    if query.descending:
        ordering: tuple[Any, ...] = (column.desc(), R.id.desc())
        keyed, nulls = (column.is_not(None), ordering), (column.is_(None), (R.id.desc(),))
        if cursor is None:
            return [keyed, nulls]
        if cursor.key is None:
            return [(and_(column.is_(None), R.id < cursor.id), nulls[1])]
        # The plain ``column <= key`` is redundant but gives the planner a range on indexes without id.
        after = and_(column <= cursor.key, tuple_(column, R.id) < _bound(column, cursor))
        return [(after, ordering), nulls]
    ordering = (column.asc(), R.id.asc())
    keyed, nulls = (column.is_not(None), ordering), (column.is_(None), (R.id.asc(),))
    if cursor is None:
        return [nulls, keyed]
    if cursor.key is None:
        return [(and_(column.is_(None), R.id > cursor.id), nulls[1]), keyed]
    return [(and_(column >= cursor.key, tuple_(column, R.id) > _bound(column, cursor)), ordering)]


def _bound(column: Any, cursor: Cursor) -> Any:
    """The cursor's (key, id) as a row value, the key bound with the column's own type: a time is stored as a number
    (decision 0033), and a bare datetime inside a tuple would be bound as SQLite's DATETIME text."""
    return tuple_(literal(cursor.key, column.type), cursor.id)


def _row_select(query: Query) -> Any:
    columns = [R.id, R.user_name, R.display_name, R.external_id, R.active, R.modified, _column(query)]
    if query.resource_type == "Group":
        members = select(func.count()).where(GroupMember.group_id == R.id).correlate(R).scalar_subquery()
        columns.append(members)
    return select(*columns)


def _to_row(values: Any) -> Row:
    return Row(*values)


def page(vault: Vault, query: Query, after: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    rows: list[Row] = []
    with vault.read_session() as session:
        for condition, ordering in _segments(query, after):
            wanted = limit + 1 - len(rows)  # one extra row tells whether more follow
            if wanted <= 0:
                break
            statement = _row_select(query).where(_base(query), condition).order_by(*ordering).limit(wanted)
            rows.extend(_to_row(values) for values in session.execute(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return Page(tuple(rows), Cursor(last.key, last.id) if more and last else None)


def count(vault: Vault, query: Query) -> int:
    with vault.read_session() as session:
        return session.scalar(select(func.count()).select_from(R).where(_base(query))) or 0


def counts(vault: Vault, query: Query) -> tuple[int, int]:
    """(rows matching the query, all rows of its resource type)."""
    return count(vault, query), count(vault, Query(query.resource_type, query.sort))


def rows_by_ids(vault: Vault, query: Query, ids: Iterable[str]) -> dict[str, Row]:
    """The rows among ``ids`` that still exist and match the query (for applying live changes)."""
    wanted = sorted(set(ids))
    found: dict[str, Row] = {}
    with vault.read_session() as session:
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            for values in session.execute(_row_select(query).where(_base(query), R.id.in_(chunk))):
                row = _to_row(values)
                found[row.id] = row
    return found


def document(vault: Vault, resource_id: str) -> Detail | None:
    """The stored document, parsed, with the group memberships held relationally."""
    other = aliased(R)
    with vault.read_session() as session:
        row = session.get(R, resource_id)
        if row is None:
            return None
        groups = session.execute(
            select(GroupMember.group_id, other.display_name)
            .join(other, other.id == GroupMember.group_id)
            .where(GroupMember.member_id == resource_id)
            .order_by(other.display_name_ci, GroupMember.group_id)
        ).all()
        members = session.execute(
            select(
                GroupMember.member_id,
                GroupMember.member_type,
                func.coalesce(other.display_name, other.user_name),
            )
            .join(other, other.id == GroupMember.member_id)
            .where(GroupMember.group_id == resource_id)
            .order_by(GroupMember.member_type, other.display_name_ci, GroupMember.member_id)
        ).all()
        return Detail(
            id=row.id,
            resource_type=row.resource_type,
            document=json.loads(row.document),
            version=row.version,
            created=row.created,
            modified=row.modified,
            groups=tuple(Related(gid, "Group", label) for gid, label in groups),
            members=tuple(Related(mid, kind, label) for mid, kind, label in members),
        )


def per_type(conn: Connection) -> dict[str, int]:
    """How many resources of each type the mirror holds (the Overview's identity counts)."""
    rows = conn.execute(select(R.resource_type, func.count()).group_by(R.resource_type))
    return {kind: number for kind, number in rows}


def names_of(conn: Connection, ids: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(display name, userName) of each of ``ids`` still held, by userName: for the operator's screen only."""
    wanted = sorted(set(ids))
    found: list[tuple[str, str, str]] = []
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        statement = select(R.display_name, R.user_name).where(R.id.in_(chunk))
        rows = conn.execute(statement)
        found.extend((user_name or "", display or "", user_name or "") for display, user_name in rows)
    return tuple((display, user_name) for _key, display, user_name in sorted(found))
