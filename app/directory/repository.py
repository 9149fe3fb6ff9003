"""Reading and writing SCIM resources in the mirror: SQLAlchemy Core on a Connection in, plain data out."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from app.core.events import ResourcesChanged
from app.directory.identity_strings import lookup_key
from app.directory.indexing import Row, index_rows
from app.directory.schema import ENTERPRISE_SCHEMA, schema_for
from app.store.fastsql import FastStatement
from app.store.models import AttributePath, AttributeValue, GroupMember, ScimResource


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return utc(moment).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def etag(row: StoredResource) -> str:
    return f'W/"{row.version}"'


@dataclass(frozen=True)
class StoredResource:
    """One row of ``scim_resources`` as plain data (never a live ORM object across threads)."""

    id: str
    resource_type: str
    document: str
    version: int
    created: datetime
    modified: datetime
    active: bool | None = None
    rid: int | None = None  # the search index's number for it (None: read without it; looked up when needed)


RELATED_IDS = 1000
"""How many ids of each type ``Related`` keeps: past it a change event says "more" and a listener reads them all
again (the desktop table reloads above 2,000 changed rows anyway), not an event of 100,000 ids."""


@dataclass
class Related:
    """The other resources a write gave a new version because what they show changed (decision 0047), by type:
    up to ``RELATED_IDS`` ids each, and whether there were more. Filled by the writes below for the caller's change
    events after the commit; the ids come from the statements that wrote them, never from another read."""

    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    more_users: bool = False
    more_groups: bool = False

    def add(self, resource_type: str, ids: Iterable[str]) -> None:
        kept = self.users if resource_type == "User" else self.groups
        for resource_id in ids:
            if len(kept) >= RELATED_IDS:
                self._more(resource_type)
                return
            kept.append(resource_id)

    def changes(self) -> list[ResourcesChanged]:
        """The change events that say so: ``modified`` for each type with any, ``more_modified`` past the bound."""
        found = [("User", self.users, self.more_users), ("Group", self.groups, self.more_groups)]
        return [
            ResourcesChanged(kind, modified=tuple(ids), more_modified=more) for kind, ids, more in found if ids or more
        ]

    def _more(self, resource_type: str) -> None:
        if resource_type == "User":
            self.more_users = True
        else:
            self.more_groups = True


_R = ScimResource.__table__
_AV = AttributeValue.__table__
_GM = GroupMember.__table__
_COLUMNS = (
    _R.c.id, _R.c.resource_type, _R.c.document, _R.c.version, _R.c.created, _R.c.modified, _R.c.active, _R.c.rid
)  # fmt: skip

# Statements built once: constructing a SQLAlchemy statement costs more than SQLite takes to run it.
_LOAD = select(*_COLUMNS).where(_R.c.id == bindparam("rid"), _R.c.resource_type == bindparam("rtype"))
_LOAD_PREPARED = FastStatement(_LOAD, typed=True)
# A create's statements run prepared (app/store/fastsql.py): through ``Connection.execute`` they cost several times
# SQLite's own work on them.
_INSERT = FastStatement.insert_into(_R)
# The next resource number: the largest given so far, read on ix_resource_rid, plus one (inserts hold the writer).
_NEXT_RID = FastStatement(select(func.coalesce(func.max(_R.c.rid), 0) + 1))
_RID_OF = select(_R.c.rid).where(_R.c.id == bindparam("resource_id"))
_SET_RID = update(_R).where(_R.c.id == bindparam("resource_id")).values(rid=bindparam("new_rid"))
# A userName that does not change keeps its stored key: rows that collided when migration 0010 introduced the
# Unicode comparison key were given a unique one, and a write that leaves the name alone must not trip over it.
_UPDATE = (
    update(_R)
    .where(_R.c.id == bindparam("target_id"))
    .values(
        user_name_ci=case(
            (_R.c.user_name == bindparam("new_user_name"), _R.c.user_name_ci), else_=bindparam("new_user_name_key")
        )
    )
)
_UPDATES: dict[frozenset[str], FastStatement] = {}  # per set of columns written (deactivated_at is not always)


def _update_for(columns: frozenset[str]) -> FastStatement:
    """``_UPDATE`` setting these columns, prepared (a PATCH's statements through SQLAlchemy cost more than SQLite's
    work on them); the few column sets a write can have are built once each."""
    found = _UPDATES.get(columns)
    if found is None:
        values = {name: bindparam(name, type_=_R.c[name].type) for name in sorted(columns) if name in _R.c}
        found = _UPDATES[columns] = FastStatement(_UPDATE.values(values), typed=True)
    return found


_DELETE = FastStatement(delete(_R).where(_R.c.id == bindparam("rid")))
_INDEX_VALUES = ("value_str", "value_ci", "value_num", "value_bool")
_PATHS = AttributePath.__table__
# A path's code is given the first time a row of it is written, and never changes (migration 0018).
# On the DB-API cursor (app/store/fastsql.py): a few µs where SQLAlchemy's execution path took 10–20.
_ENSURE_PATHS = FastStatement(insert(_PATHS).prefix_with("OR IGNORE").values(path=bindparam("path")))
_INSERT_INDEX = FastStatement.insert_into(_AV)
# Every code, read in the transaction that uses them (the table holds one row per path the schema has): nothing is
# cached across transactions, so a code given in one that rolled back is never used.
_PATH_CODES = FastStatement(select(_PATHS.c.path, _PATHS.c.code))
_INDEX_OF = FastStatement(
    select(_AV.c.code, _PATHS.c.path, _AV.c.element, *(_AV.c[name] for name in _INDEX_VALUES))
    .join(_PATHS, _PATHS.c.code == _AV.c.code)
    .where(_AV.c.rid == bindparam("rid")),
    typed=True,  # booleans as bool, numbers as float: compared with the wanted rows' values
)
_ROW_KEY = (_AV.c.rid == bindparam("r"), _AV.c.code == bindparam("c"), _AV.c.element == bindparam("e"))
_DELETE_INDEX_ROW = FastStatement(delete(_AV).where(*_ROW_KEY))
_UPDATE_INDEX_ROW = FastStatement(
    update(_AV)
    .where(*_ROW_KEY)
    .values({name: bindparam(f"new_{name}", type_=_AV.c[name].type) for name in _INDEX_VALUES}),
    typed=True,
)
_MEMBERS_OF = select(_GM.c.member_id, _GM.c.member_type).where(_GM.c.group_id == bindparam("gid"))
_INSERT_MEMBER = insert(_GM)
_DELETE_MEMBERS = delete(_GM).where(
    _GM.c.group_id == bindparam("gid"), _GM.c.member_id.in_(bindparam("mids", expanding=True))
)
_HELD_MEMBERS = select(_GM.c.member_id).where(
    _GM.c.group_id == bindparam("gid"), _GM.c.member_id.in_(bindparam("mids", expanding=True))
)
_TOUCH = FastStatement(
    update(_R)
    .where(_R.c.id == bindparam("target_id"))
    .values({name: bindparam(name, type_=_R.c[name].type) for name in ("version", "modified")}),
    typed=True,
)
# The representations that show another row's data (``memberships`` below): a User's ``groups`` (each group's id
# and displayName) and a Group's ``members`` (each member's id and displayName, else userName). When that data
# changes, so does the representation, and a version that stayed would have a client holding the old ETag told
# 304 Not Modified about a changed body, or its If-Match honoured (RFC 7644 §3.14). The statements below give
# those resources a new version in the transaction that changes what they show, each one statement whatever the
# number of rows (decision 0047: its cost at 10,000 members).
_NEW_VERSION = {"version": _R.c.version + 1, "modified": bindparam("modified", type_=_R.c.modified.type)}
# Every group holding a member, a new version each (read on ix_group_members_member).
_TOUCH_GROUPS_OF = FastStatement(
    update(_R)
    .where(_R.c.id.in_(select(_GM.c.group_id).where(_GM.c.member_id == bindparam("member_id"))))
    .values(_NEW_VERSION)
    .returning(_R.c.id),
    typed=True,
)
# Users joining or leaving a group, by id: one JSON array parameter (json_each) instead of an expanding IN, which
# SQLAlchemy renders anew for each number of ids and SQLite bounds in parameters. A group shows no ``groups``.
_IDS = func.json_each(bindparam("ids")).table_valued("value")
_TOUCH_USERS = FastStatement(
    update(_R)
    .where(_R.c.id.in_(select(_IDS.c.value)), _R.c.resource_type == "User")
    .values(_NEW_VERSION)
    .returning(_R.c.id),
    typed=True,
)
# A group's member users (its displayName is in their ``groups``), read on the membership's primary key.
_MEMBER_USERS = select(_GM.c.member_id).where(_GM.c.group_id == bindparam("group_id"), _GM.c.member_type == "User")
_TOUCH_USER_MEMBERS_OF = FastStatement(
    update(_R).where(_R.c.id.in_(_MEMBER_USERS)).values(_NEW_VERSION).returning(_R.c.id), typed=True
)
# Every resource with a membership (all of them go at once when a policy stops holding ``members``).
_TOUCH_ALL_MEMBERSHIPS = (
    update(_R)
    .where(_R.c.id.in_(select(_GM.c.group_id).union(select(_GM.c.member_id).where(_GM.c.member_type == "User"))))
    .values(_NEW_VERSION)
)
_DELETE_ALL_MEMBERSHIPS = delete(_GM)
_TYPES_OF = select(_R.c.id, _R.c.resource_type).where(_R.c.id.in_(bindparam("ids", expanding=True)))
_MEMBER = aliased(ScimResource)
_GROUP_MEMBERS = (
    select(_GM.c.group_id, _GM.c.member_id, _GM.c.member_type, _MEMBER.display_name, _MEMBER.user_name)
    .join(_MEMBER, _MEMBER.id == _GM.c.member_id)
    .where(_GM.c.group_id.in_(bindparam("ids", expanding=True)))
    .order_by(_GM.c.group_id, _GM.c.member_id)
)
_USER_GROUPS = (
    select(_GM.c.member_id, _GM.c.group_id, _MEMBER.display_name)
    .join(_MEMBER, _MEMBER.id == _GM.c.group_id)
    .where(_GM.c.member_id.in_(bindparam("ids", expanding=True)))
    .order_by(_GM.c.member_id, _GM.c.group_id)
)
# The same for one resource (a GET, a lookup's single match): a plain parameter instead of an expanding IN, which
# SQLAlchemy renders anew on every call — about as long as SQLite takes to answer.
_GROUP_MEMBERS_ONE = (
    select(_GM.c.group_id, _GM.c.member_id, _GM.c.member_type, _MEMBER.display_name, _MEMBER.user_name)
    .join(_MEMBER, _MEMBER.id == _GM.c.member_id)
    .where(_GM.c.group_id == bindparam("id"))
    .order_by(_GM.c.member_id)
)
_USER_GROUPS_ONE = (
    select(_GM.c.member_id, _GM.c.group_id, _MEMBER.display_name)
    .join(_MEMBER, _MEMBER.id == _GM.c.group_id)
    .where(_GM.c.member_id == bindparam("id"))
    .order_by(_GM.c.group_id)
)
_INDEX_DEFAULTS = {"value_str": None, "value_ci": None, "value_num": None, "value_bool": None}


def stored(row: Any) -> StoredResource:
    return StoredResource(
        row.id, row.resource_type, row.document, row.version, row.created, row.modified, row.active,
        getattr(row, "rid", None),
    )  # fmt: skip


def columns_from(resource_type: str, document: dict[str, Any]) -> dict[str, Any]:
    user_name = document.get("userName") if resource_type == "User" else None
    display_name = document.get("displayName")
    return {
        "user_name": user_name,
        "user_name_ci": lookup_key(user_name) if isinstance(user_name, str) else None,
        "display_name": display_name,
        "display_name_ci": display_name.lower() if isinstance(display_name, str) else None,
        "external_id": document.get("externalId"),
        "active": document.get("active") if resource_type == "User" else None,
    }


def _index_rows(rid: int, resource_type: str, document: dict[str, Any]) -> dict[tuple[str, int], Row]:
    """The resource's index rows by their key (path, element), the table's primary key with the resource number."""
    rows: dict[tuple[str, int], Row] = {}
    for row in index_rows(rid, schema_for(resource_type), document):
        rows.setdefault((row["path"], row["element"]), {**_INDEX_DEFAULTS, **row})
    return rows


def _path_codes(conn: Connection) -> dict[str, int]:
    return {path: code for batch in _PATH_CODES.batches(conn) for path, code in batch}


def insert_index_rows(conn: Connection, rows: list[Row]) -> None:
    """Insert index rows (each naming its ``path``) under their paths' codes, giving a code to a path that has none
    yet (no write when they all have one, the usual case)."""
    codes = _path_codes(conn)
    missing = [path for path in dict.fromkeys(row["path"] for row in rows) if path not in codes]
    if missing:
        _ENSURE_PATHS.execute_many(conn, [{"path": path} for path in missing])
        codes = _path_codes(conn)
    coded = [{"rid": row["rid"], "code": codes[row["path"]], "element": row["element"]} for row in rows]
    for values, row in zip(coded, rows, strict=True):
        values.update((name, row[name]) for name in _INDEX_VALUES)
    _INSERT_INDEX.execute_many(conn, coded)


def _write_index(conn: Connection, rid: int, resource_type: str, document: dict[str, Any]) -> None:
    rows = _index_rows(rid, resource_type, document)
    if rows:
        insert_index_rows(conn, list(rows.values()))


def _rewrite_index(conn: Connection, rid: int, resource_type: str, document: dict[str, Any]) -> None:
    """Bring the resource's index rows to the new document by difference: only rows whose value changed are
    updated, and only those that appeared or went are inserted or deleted. A PATCH of one attribute touches its
    own rows, a ``replace active`` (a column) none; every untouched row spares its pages a secure-delete, a
    re-encryption and a WAL write."""
    wanted = _index_rows(rid, resource_type, document)
    stale, changed = [], []
    for code, path, element, *values in _INDEX_OF.all(conn, {"rid": rid}):
        row = wanted.pop((path, element), None)
        if row is None:
            stale.append({"r": rid, "c": code, "e": element})
        elif _changed(row, values):
            new_values = {f"new_{name}": row[name] for name in _INDEX_VALUES}
            changed.append({"r": rid, "c": code, "e": element, **new_values})
    if stale:
        _DELETE_INDEX_ROW.execute_many(conn, stale)
    if changed:
        _UPDATE_INDEX_ROW.execute_many(conn, changed)
    if wanted:
        insert_index_rows(conn, list(wanted.values()))


def _changed(row: Row, stored_values: list[Any]) -> bool:
    """Whether a stored row's values differ from the wanted row's (booleans come back as bool, numbers as float)."""
    return any(row[name] != value for name, value in zip(_INDEX_VALUES, stored_values, strict=True))


def insert_resource(
    conn: Connection, resource_type: str, resource_id: str, document: dict[str, Any], now: datetime
) -> StoredResource:
    """Insert; a userName clash raises IntegrityError from the unique index (the caller maps it to 409)."""
    text = json.dumps(document, separators=(",", ":"))
    columns = columns_from(resource_type, document)
    rid = _NEXT_RID.fetchone(conn)[0]
    _INSERT.execute(
        conn,
        {
            "id": resource_id,
            "rid": rid,
            "resource_type": resource_type,
            "document": text,
            "version": 1,
            "created": now,
            "modified": now,
            "deactivated_at": now if columns["active"] is False else None,
            **columns,
        },
    )
    _write_index(conn, rid, resource_type, document)
    return StoredResource(resource_id, resource_type, text, 1, now, now, columns["active"], rid)


def update_resource(
    conn: Connection, row: StoredResource, document: dict[str, Any], now: datetime, related: Related | None = None
) -> StoredResource:
    """Write the new document under a new version; the resources that show its name (see ``_NEW_VERSION``) get a
    new version too when the name changes, and go into ``related`` when given."""
    text = json.dumps(document, separators=(",", ":"))
    columns = columns_from(row.resource_type, document)
    if columns["active"] is not False:
        columns["deactivated_at"] = None
    elif row.active is not False:
        columns["deactivated_at"] = now  # the retention clock for a deactivated account starts now
    before = columns_from(row.resource_type, json.loads(row.document))
    columns["new_user_name"], columns["new_user_name_key"] = columns["user_name"], columns.pop("user_name_ci")
    changed = {"document": text, "version": row.version + 1, "modified": now, **columns}
    _update_for(frozenset(changed)).execute(conn, {"target_id": row.id, **changed})
    rid = row.rid if row.rid is not None else _rid_of(conn, row.id)
    _rewrite_index(conn, rid, row.resource_type, document)
    _renamed(conn, row, before, columns, now, related if related is not None else Related())
    return StoredResource(row.id, row.resource_type, text, row.version + 1, row.created, now, columns["active"], rid)


def _renamed(
    conn: Connection,
    row: StoredResource,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
    related: Related,
) -> None:
    """New versions for what shows the resource's name: its groups' ``members[].display`` (displayName, else
    userName) and, for a group, its member users' ``groups[].display`` (its displayName)."""
    if (before["display_name"] or before["user_name"]) != (after["display_name"] or after["user_name"]):
        related.add("Group", _touch_groups_of(conn, row.id, now))
    if row.resource_type == "Group" and before["display_name"] != after["display_name"]:
        _touch_member_users(conn, row.id, now, related)


def _touch_groups_of(conn: Connection, member_id: str, now: datetime) -> list[str]:
    """A new version for each group holding the member; their ids, all of them (a member is in few groups)."""
    return [group_id for (group_id,) in _TOUCH_GROUPS_OF.all(conn, {"member_id": member_id, "modified": now})]


def _touch_member_users(conn: Connection, group_id: str, now: datetime, related: Related) -> None:
    """A new version for each member user of the group; ``related`` is handed the first ids only (the rest are
    written all the same, see ``FastStatement.fetchmany``): a group of 100,000 builds no list of 100,000."""
    rows = _TOUCH_USER_MEMBERS_OF.fetchmany(conn, {"group_id": group_id, "modified": now}, RELATED_IDS + 1)
    related.add("User", [user_id for (user_id,) in rows])


def _rid_of(conn: Connection, resource_id: str) -> int:
    """The resource's number; one is given to a row written without it (by hand, or by an older version)."""
    rid = conn.execute(_RID_OF, {"resource_id": resource_id}).scalar()
    if rid is None:
        rid = _NEXT_RID.fetchone(conn)[0]
        conn.execute(_SET_RID, {"resource_id": resource_id, "new_rid": rid})
    return int(rid)


def delete_resource(
    conn: Connection, resource_id: str, now: datetime | None = None, related: Related | None = None
) -> list[str]:
    """Hard delete; index values and memberships go with it (ON DELETE CASCADE). Each group the resource was a
    member of, and each user member of a deleted group, gets a new version first: its member list (its groups)
    changes here, and a version that stayed would have a client holding its ETag told 304 Not Modified about a
    list that lost an entry. One statement on the membership indexes each, whatever the groups' sizes. ``now``:
    the change's time (the caller's clock; the wall clock if none); ``related``, when given, is handed both.

    Returns those groups' ids: the caller pushes them to the targets again (``outbox.enqueue_groups``)."""
    moment = now if now is not None else datetime.now(UTC)
    groups = _touch_groups_of(conn, resource_id, moment)
    related = related if related is not None else Related()
    related.add("Group", groups)
    # A deleted group leaves its member users' ``groups``: they get a new version too (none when it is a user).
    _touch_member_users(conn, resource_id, moment, related)
    _DELETE.execute(conn, {"rid": resource_id})
    return groups


def replace_members(
    conn: Connection, group_id: str, members: list[tuple[str, str]], now: datetime, related: Related | None = None
) -> list[str]:
    """Set the group's members; returns the ids whose membership changed (added or removed), the users among them
    at a new version (their ``groups`` changed) and in ``related`` when given."""
    current = {member_id: member_type for member_id, member_type in conn.execute(_MEMBERS_OF, {"gid": group_id})}
    wanted = dict(members)
    removed = [member_id for member_id in current if member_id not in wanted]
    if removed:
        conn.execute(_DELETE_MEMBERS, {"gid": group_id, "mids": removed})
    added = [
        {"group_id": group_id, "member_id": member_id, "member_type": member_type}
        for member_id, member_type in wanted.items()
        if member_id not in current
    ]
    if added:
        conn.execute(_INSERT_MEMBER, added)
    return _touch_users(conn, [*removed, *(row["member_id"] for row in added)], now, related)


def edit_members(
    conn: Connection,
    group_id: str,
    added: list[tuple[str, str]],
    removed: Iterable[str],
    clear: bool,
    now: datetime,
    related: Related | None = None,
) -> list[str]:
    """Add and remove members by id without reading the group's other members (``clear`` first drops them all);
    returns the ids whose membership changed, the users among them at a new version (and in ``related``). The rows
    named are read, not the whole membership: a join to a group of 100,000 costs what a join to a group of ten
    does."""
    if clear:
        return replace_members(conn, group_id, added, now, related)
    named = [member_id for member_id, _ in added] + [member_id for member_id in removed]
    held = _held_members(conn, group_id, named)
    gone = [member_id for member_id in dict.fromkeys(removed) if member_id in held]
    if gone:
        conn.execute(_DELETE_MEMBERS, {"gid": group_id, "mids": gone})
    joined = [
        {"group_id": group_id, "member_id": member_id, "member_type": member_type}
        for member_id, member_type in added
        if member_id not in held
    ]
    if joined:
        conn.execute(_INSERT_MEMBER, joined)
    return _touch_users(conn, [*gone, *(row["member_id"] for row in joined)], now, related)


def _touch_users(conn: Connection, changed: list[str], now: datetime, related: Related | None) -> list[str]:
    """A new version for each user among ``changed`` (ids whose membership of a group changed); returns them all.
    ``related`` is handed the users the statement wrote (groups among ``changed`` are not: they show no
    ``groups``), the first ``RELATED_IDS`` of them."""
    if changed:
        touched = _TOUCH_USERS.fetchmany(conn, {"ids": json.dumps(changed), "modified": now}, RELATED_IDS + 1)
        if related is not None:
            related.add("User", [user_id for (user_id,) in touched])
    return changed


def drop_all_memberships(conn: Connection, now: datetime) -> None:
    """Delete every membership (a policy no longer holds ``members``); every group that had members and every
    user that was in one gets a new version first, in one statement."""
    conn.execute(_TOUCH_ALL_MEMBERSHIPS, {"modified": now})
    conn.execute(_DELETE_ALL_MEMBERSHIPS)


def _held_members(conn: Connection, group_id: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` are members of the group, read on the primary key (group_id, member_id)."""
    wanted = list(set(ids))
    held: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = conn.execute(_HELD_MEMBERS, {"gid": group_id, "mids": wanted[start : start + 500]})
        held.update(member_id for (member_id,) in rows)
    return held


def touch(conn: Connection, row: StoredResource, now: datetime) -> StoredResource:
    """A new version of a resource whose document did not change (its membership did): version and time only."""
    _TOUCH.execute(conn, {"target_id": row.id, "version": row.version + 1, "modified": now})
    return dataclasses.replace(row, version=row.version + 1, modified=now)


def existing_types(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(_TYPES_OF, {"ids": wanted[start : start + 500]})
        found.update({resource_id: resource_type for resource_id, resource_type in rows})
    return found


def load(conn: Connection, resource_type: str, resource_id: str) -> StoredResource | None:
    # Through SQLAlchemy, not the prepared cursor: the prepared read cost 0.03 ms less CPU yet served GET by id 17 %
    # slower under 4 connections (less Python between its sqlite3 calls hands the interpreter lock to other threads
    # at each step; benchmarks/bench_vs_reference.py, side by side).
    row = conn.execute(_LOAD, {"rid": resource_id, "rtype": resource_type}).first()
    return None if row is None else stored(row)


def load_for_write(conn: Connection, resource_type: str, resource_id: str) -> StoredResource | None:
    """:func:`load`, prepared: in the single writer no reader waits on the interpreter lock between its steps, and
    SQLAlchemy's per-call work was a sixth of a DELETE's time there (issue 16)."""
    row = _LOAD_PREPARED.fetchone(conn, {"rid": resource_id, "rtype": resource_type})
    return None if row is None else stored_raw(row)


def stored_raw(row: tuple[Any, ...]) -> StoredResource:
    """A typed FastStatement row starting with ``_COLUMNS`` (columns after them are ignored)."""
    return StoredResource(*row[:8])


def memberships(conn: Connection, resource_type: str, ids: list[str], base_url: str) -> dict[str, list[dict[str, Any]]]:
    """``members`` of groups, or ``groups`` of users, for a page of resources in one query each."""
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return result
    if resource_type == "Group":
        one = len(ids) == 1
        rows = conn.execute(_GROUP_MEMBERS_ONE, {"id": ids[0]}) if one else conn.execute(_GROUP_MEMBERS, {"ids": ids})
        for group_id, member_id, member_type, display, user_name in rows:
            endpoint = "Users" if member_type == "User" else "Groups"
            entry: dict[str, Any] = {
                "value": member_id,
                "$ref": f"{base_url}/{endpoint}/{member_id}",
                "type": member_type,
            }
            if display or user_name:
                entry["display"] = display or user_name
            result[group_id].append(entry)
    else:
        one = len(ids) == 1
        rows = conn.execute(_USER_GROUPS_ONE, {"id": ids[0]}) if one else conn.execute(_USER_GROUPS, {"ids": ids})
        for member_id, group_id, display in rows:
            entry = {"value": group_id, "$ref": f"{base_url}/Groups/{group_id}", "type": "direct"}
            if display:
                entry["display"] = display
            result[member_id].append(entry)
    return result


def to_scim(row: StoredResource, base_url: str, related: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The full SCIM representation (before attribute projection)."""
    document: dict[str, Any] = json.loads(row.document)
    schema = schema_for(row.resource_type)
    output: dict[str, Any] = {"schemas": document.pop("schemas", [schema.core]), "id": row.id}
    output.update(document)
    _absolute_manager_ref(output, base_url)
    if related:
        output["members" if row.resource_type == "Group" else "groups"] = related
    output["meta"] = {
        "resourceType": row.resource_type,
        "created": iso(row.created),
        "lastModified": iso(row.modified),
        "location": f"{base_url}{schema.endpoint}/{row.id}",
        "version": etag(row),
    }
    return output


def _absolute_manager_ref(document: dict[str, Any], base_url: str) -> None:
    """Render the manager's ``$ref`` as this server's absolute User URL, derived from ``value``.

    The tolerances store ``../Users/<id>`` (or a PATCH round trip stores whatever was last rendered), because the
    base URL can change between runs. Sent as is, ``../Users/<id>`` is wrong: RFC 7643 §2.3.7 resolves relative
    references against the service root, i.e. outside ``/scim/v2``. Every other reference here is absolute too.
    """
    extension = document.get(ENTERPRISE_SCHEMA)
    manager = extension.get("manager") if isinstance(extension, dict) else None
    if isinstance(manager, dict) and manager.get("$ref") and isinstance(manager.get("value"), str):
        manager["$ref"] = f"{base_url}/Users/{manager['value']}"
