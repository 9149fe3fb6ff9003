"""List and search (RFC 7644 §3.4.2, §3.4.3): filtering, sorting and both kinds of pagination, in SQL.

Index pagination uses OFFSET/LIMIT; cursor pagination (RFC 9865) uses keyset pagination on
(sort key, id), so a walk over every resource costs the same per page whatever the position.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, or_, select

from app.directory import render
from app.directory import repository as repo
from app.directory.cursor_seal import seal, unseal
from app.directory.errors import ScimError, invalid_cursor, invalid_filter, invalid_value
from app.directory.filter_sql import MAX_FILTER_LENGTH, compile_filter, compile_filter_lenient, parse
from app.directory.held import HeldSchema
from app.directory.identity_strings import lookup_key
from app.directory.input_guard import INT64_MAX, INT64_MIN, has_unpaired_surrogate, refuse_unpaired_surrogates
from app.directory.ordering import Segment, SortPlan, plan_for, sort_attribute
from app.directory.projection import parse_list, project, wants_related
from app.directory.schema import schema_for
from app.store.fastsql import FastStatement
from app.store.models import AttributeValue, ScimResource, path_code
from app.store.vault import Vault

_R = ScimResource.__table__
_RESOURCE_COLUMNS = (
    ScimResource.id,
    ScimResource.resource_type,
    ScimResource.document,
    ScimResource.version,
    ScimResource.created,
    ScimResource.modified,
    ScimResource.active,
    ScimResource.rid,  # read, not looked up: a Row without the column makes repo.stored() pay for an exception
)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CURSOR_TIMEOUT_SECONDS = 3600  # published as cursorTimeout in /ServiceProviderConfig, and enforced here
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# An integer in ASCII digits, optionally signed (as a JSON body writes it, RFC 8259 §6). Python's int() also takes
# Arabic-Indic or fullwidth digits ("١٢" was startIndex 12), underscores ("1_0") and surrounding blanks; a client
# that sends those did not mean an integer, and another layer (a proxy, a log) would not read 12 there.
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass
class QueryParams:
    filter: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    start_index: int | None = None
    count: int | None = None
    cursor: str | None = None
    attributes: str | list[str] | None = None
    excluded: str | list[str] | None = None

    @classmethod
    def from_query_string(cls, params: dict[str, str]) -> QueryParams:
        def integer(name: str) -> int | None:
            raw = params.get(name)
            if raw is None or raw == "":
                return None
            try:
                if _ASCII_INTEGER.fullmatch(raw) is None:
                    raise ValueError(name)
                return int(raw)  # ValueError too past Python's limit on digits (sys.get_int_max_str_digits)
            except ValueError as exc:
                raise invalid_value(f"'{name}' must be an integer.") from exc

        return cls(
            filter=params.get("filter"),
            sort_by=params.get("sortBy"),
            sort_order=params.get("sortOrder"),
            start_index=integer("startIndex"),
            count=integer("count"),
            cursor=params.get("cursor"),
            attributes=params.get("attributes"),
            excluded=params.get("excludedAttributes"),
        )

    @classmethod
    def from_search_body(cls, body: Any) -> QueryParams:
        if not isinstance(body, dict):
            raise ScimError(400, "A search request is a JSON object.", "invalidSyntax")
        lowered = {key.lower(): value for key, value in body.items()}
        _check_search_types(lowered)
        return cls(
            filter=lowered.get("filter"),
            sort_by=lowered.get("sortby"),
            sort_order=lowered.get("sortorder"),
            start_index=lowered.get("startindex"),
            count=lowered.get("count"),
            cursor=lowered.get("cursor"),
            attributes=lowered.get("attributes"),
            excluded=lowered.get("excludedattributes"),
        )


# RFC 7644 §3.4.3: the SearchRequest members and their JSON types (the body's key case does not matter).
_SEARCH_STRINGS = {"filter": "filter", "sortby": "sortBy", "sortorder": "sortOrder", "cursor": "cursor"}
_SEARCH_LISTS = {"attributes": "attributes", "excludedattributes": "excludedAttributes"}


def _check_search_types(body: dict[str, Any]) -> None:
    """Each member of a search body has the type the RFC gives it; anything else is a 400, never a crash later."""
    for key, name in (("startindex", "startIndex"), ("count", "count")):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise invalid_value(f"'{name}' must be an integer.")
    for key, name in _SEARCH_STRINGS.items():
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            if key == "filter":
                raise invalid_filter("'filter' must be a string holding a SCIM filter.")
            if key == "cursor":
                raise invalid_cursor()
            raise invalid_value(f"'{name}' must be a string.")
    for key, name in _SEARCH_LISTS.items():
        value = body.get(key)
        if value is not None and not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))
        ):
            raise invalid_value(f"'{name}' must be a list of attribute names.")
    if isinstance(body.get("filter"), str):
        refuse_unpaired_surrogates(body["filter"], "The filter", invalid_filter)
    refuse_unpaired_surrogates(body, "The search request")


def _cursor_token(values: list[Any], fingerprint: str, issued: float) -> str:
    """The next page's cursor, sealed: the sort value in it is personal data (app/directory/cursor_seal.py)."""
    raw = json.dumps({"k": values, "q": fingerprint, "t": int(issued)}, separators=(",", ":"), default=str).encode()
    return seal(raw)


def _read_cursor(token: str, fingerprint: str, now: float, may_be_missing: bool = False) -> list[Any]:
    """The (sort value, id) a cursor resumes after. A cursor comes back from the client, so it is checked like
    any other input: the sort value is what SQLite stored (text, or a number it can hold), the id is text, and
    it was issued less than ``cursorTimeout`` ago, as /ServiceProviderConfig promises (RFC 9865 §2.3). The seal
    already refuses any cursor this process did not write; the checks stay, in case a bug in it is ever found."""
    try:
        data = json.loads(unseal(token), parse_constant=_not_a_number)
        values, issued = data["k"], data.get("t")
        if data["q"] != fingerprint or not isinstance(values, list) or len(values) != 2:
            raise ValueError
        if not (_stored_value(values[0], may_be_missing) and isinstance(values[1], str)):
            raise ValueError
        if has_unpaired_surrogate(values):
            raise ValueError
        if issued is not None and (isinstance(issued, bool) or not isinstance(issued, int) or issued > now + 60):
            raise ValueError  # a time from the future (beyond clock skew) was not written by this server
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise invalid_cursor() from exc
    if issued is None or now - issued > CURSOR_TIMEOUT_SECONDS:
        raise ScimError(
            400, f"The cursor has expired (cursors last {CURSOR_TIMEOUT_SECONDS} s); start again.", "expiredCursor"
        )
    return values


def _not_a_number(name: str) -> Any:
    raise ValueError(name)


def _stored_value(value: Any, may_be_missing: bool) -> bool:
    if value is None:
        return may_be_missing  # the last row served had no value for the sort attribute
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    return isinstance(value, str) or (isinstance(value, float) and math.isfinite(value))


# The probes every IdP sends before each create ("userName eq …", "externalId eq …") take a prepared statement
# instead of the general filter parser and translator; the answer is the same.
_EQUALITY_PROBE = re.compile(r'^\s*(userName|externalId|id|displayName)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$', re.IGNORECASE)
_PROBE_COLUMNS = {
    "username": (ScimResource.user_name_ci, True),
    "externalid": (ScimResource.external_id, False),
    "id": (ScimResource.id, False),
    "displayname": (ScimResource.display_name_ci, True),
}
_PROBES = {
    name: select(*_RESOURCE_COLUMNS, literal("").label("sort_value"))
    .where(ScimResource.resource_type == bindparam("rtype"), column == bindparam("value"))
    .order_by(ScimResource.id)
    .limit(MAX_PAGE_SIZE + 1)
    for name, (column, _folded) in _PROBE_COLUMNS.items()
}
# Run prepared on the DB-API cursor: Connection.execute cost more than SQLite's work and the rendering together.
_PROBES_RAW = {name: FastStatement(statement, typed=True) for name, statement in _PROBES.items()}


# `emails[type eq "work"].value eq "…"`: how IdPs match on a work e-mail (PingFederate, Okta), same idea. Only
# attributes whose value compares case-insensitively: photos.value is case-exact (a URL), and the probe's folded
# comparison found "https://x/A.jpg" for "https://x/a.jpg", where the general path does not.
_TYPED_VALUE_PROBE = re.compile(
    r'^\s*(emails|phoneNumbers|ims)\s*\[\s*type\s+eq\s+("(?:[^"\\]|\\.)*")\s*\]\s*\.\s*value\s+eq\s+'
    r'("(?:[^"\\]|\\.)*")\s*$',
    re.IGNORECASE,
)
_VALUE_ROW, _TYPE_ROW = AttributeValue.__table__.alias(), AttributeValue.__table__.alias()
_TYPED_VALUE = (
    select(*_RESOURCE_COLUMNS, literal("").label("sort_value"))
    .where(
        ScimResource.resource_type == "User",
        ScimResource.rid.in_(
            select(_VALUE_ROW.c.rid).where(
                _VALUE_ROW.c.code == path_code(bindparam("value_path")),
                _VALUE_ROW.c.value_ci == bindparam("value"),
                select(_TYPE_ROW.c.element)
                .where(
                    _TYPE_ROW.c.rid == _VALUE_ROW.c.rid,
                    _TYPE_ROW.c.element == _VALUE_ROW.c.element,
                    _TYPE_ROW.c.code == path_code(bindparam("type_path")),
                    _TYPE_ROW.c.value_ci == bindparam("type"),
                )
                .exists(),
            )
        ),
    )
    .order_by(ScimResource.id)
    .limit(MAX_PAGE_SIZE + 1)
)


def _probe(resource_types: tuple[str, ...], params: QueryParams) -> tuple[Any, dict[str, Any]] | None:
    """A prepared statement and its parameters for the lookups IdPs make before each write, or None.

    They mean exactly what the general translator would produce (both attributes compare case-insensitively).
    """
    if len(resource_types) != 1 or params.sort_by or params.cursor is not None or not params.filter:
        return None
    if len(params.filter) > MAX_FILTER_LENGTH:
        return None  # the general path refuses it with invalidFilter
    resource_type = resource_types[0]
    match = _EQUALITY_PROBE.match(params.filter)
    if match is not None:
        name = match.group(1).lower()
        value = _literal(match.group(2))
        if (name == "username" and resource_type != "User") or value is None:
            return None
        if name == "username":
            value = lookup_key(value)  # the key the unique index compares, as the general translator does
        elif _PROBE_COLUMNS[name][1]:
            value = value.lower()
        return _PROBES_RAW[name], {"rtype": resource_type, "value": value}
    match = _TYPED_VALUE_PROBE.match(params.filter)
    if match is not None and resource_type == "User":
        attribute = match.group(1).lower()
        value, kind = _literal(match.group(3)), _literal(match.group(2))
        if value is None or kind is None:
            return None
        return _TYPED_VALUE, {
            "value_path": f"{attribute}.value",
            "type_path": f"{attribute}.type",
            "value": value.lower(),
            "type": kind.lower(),
        }
    return None


def _probe_rows(conn: Any, statement: Any, bound: dict[str, Any]) -> list[repo.StoredResource]:
    """A probe's matches: the equality probes run prepared on the cursor, the typed-value one through SQLAlchemy."""
    if isinstance(statement, FastStatement):
        return [repo.stored_raw(row) for row in statement.all(conn, bound)]
    return [repo.stored(row) for row in conn.execute(statement, bound)]


def _literal(quoted: str) -> str | None:
    """A filter's quoted string as text, or None (the general path then refuses it with invalidFilter)."""
    try:
        value = json.loads(quoted)
    except ValueError:
        return None
    return None if has_unpaired_surrogate(value) else value


def _require_held(held: HeldSchema | None, resource_types: tuple[str, ...], params: QueryParams) -> None:
    """A filter or sort on an attribute the agreed schema does not hold is refused, not silently empty."""
    if held is None:
        return
    if params.filter is not None:
        unheld = held.unheld_in_filter(resource_types, parse(params.filter))
        if unheld is not None:
            raise invalid_filter(
                f"'{unheld}' is not held under the agreed schema{unheld.because} and cannot be filtered on."
            )
    if params.sort_by:
        unheld = held.unheld_in_filter(resource_types, sort_attribute(params.sort_by))
        if unheld is not None:
            raise invalid_value(
                f"'{unheld}' is not held under the agreed schema{unheld.because} and cannot be sorted on."
            )


@dataclass
class _Page:
    """The rows of one page with what its ListResponse says about them."""

    rows: list[repo.StoredResource]
    related: dict[str, dict[str, list[dict[str, Any]]]]
    total: int
    start_index: int | None  # index pagination
    next_cursor: str | None  # cursor pagination, when there is a next page
    include: list[str]
    exclude: list[str]

    def header(self, items: int) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [LIST_SCHEMA], "totalResults": self.total, "itemsPerPage": items}
        if self.start_index is not None:
            body["startIndex"] = self.start_index
        elif self.next_cursor is not None:
            body["nextCursor"] = self.next_cursor
        return body

    def related_of(self, row: repo.StoredResource) -> list[dict[str, Any]] | None:
        return self.related.get(row.resource_type, {}).get(row.id)


def search(
    vault: Vault,
    held: HeldSchema | None,
    base_url: str,
    resource_types: tuple[str, ...],
    params: QueryParams,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """One page of results. ``held`` is the minimiser in force (None: no policy check, for internal callers);
    ``clock`` gives the time cursors are issued at and checked against."""
    page = _page(vault, held, base_url, resource_types, params, clock)
    resources = [
        project(repo.to_scim(row, base_url, page.related_of(row)), schema_for(row.resource_type), page.include,
                page.exclude)
        for row in page.rows
    ]  # fmt: skip
    body = page.header(len(resources))
    body["Resources"] = resources
    return body


@dataclass(frozen=True)
class Listing:
    """One page of a list or ``.search`` as sent: its encoded ListResponse, and which resources it returned (the
    ids, for the audit trail: a list read names the people it returned, as a read by id does)."""

    content: bytes
    total: int
    ids: tuple[str, ...]
    # Whether the page answered with its groups' member lists (``members`` not left out): each member's id and name
    # are read with the group, so the entry says so and a breach's scope counts the members (decision 0049).
    members_read: bool = False

    @property
    def returned(self) -> int:
        return len(self.ids)


def search_json(
    vault: Vault,
    held: HeldSchema | None,
    base_url: str,
    resource_types: tuple[str, ...],
    params: QueryParams,
    clock: Callable[[], float] = time.time,
) -> tuple[bytes, int, int]:
    """The same page as ``search`` as the bytes of its ListResponse, with (resources returned, totalResults)."""
    listed = search_listing(vault, held, base_url, resource_types, params, clock)
    return listed.content, listed.returned, listed.total


def search_listing(
    vault: Vault,
    held: HeldSchema | None,
    base_url: str,
    resource_types: tuple[str, ...],
    params: QueryParams,
    clock: Callable[[], float] = time.time,
) -> Listing:
    """The page of ``search_json`` with the ids of the resources it returned.

    Without ``attributes``/``excludedAttributes`` each resource is its stored JSON spliced with its id, meta and
    memberships (app/directory/render.py); with them, the projected document is encoded."""
    page = _page(vault, held, base_url, resource_types, params, clock)
    if page.include or page.exclude:
        texts = [
            render.dumps(project(repo.to_scim(row, base_url, page.related_of(row)), schema_for(row.resource_type),
                                 page.include, page.exclude))
            for row in page.rows
        ]  # fmt: skip
    else:
        texts = [render.resource_text(row, base_url, page.related_of(row)) for row in page.rows]
    ids = tuple(row.id for row in page.rows)
    return Listing(render.list_bytes(page.header(len(texts)), texts), page.total, ids, "Group" in page.related)


def _page(
    vault: Vault,
    held: HeldSchema | None,
    base_url: str,
    resource_types: tuple[str, ...],
    params: QueryParams,
    clock: Callable[[], float],
) -> _Page:
    _require_held(held, resource_types, params)
    if params.cursor is not None and params.start_index is not None:
        raise invalid_value("Use either 'cursor' or 'startIndex', not both.")
    descending = (params.sort_order or "ascending").lower() == "descending"
    if params.sort_order and params.sort_order.lower() not in ("ascending", "descending"):
        raise invalid_value("'sortOrder' is 'ascending' or 'descending'.")
    count = DEFAULT_PAGE_SIZE if params.count is None else max(0, min(params.count, MAX_PAGE_SIZE))
    include, exclude = parse_list(params.attributes), parse_list(params.excluded)
    start_index = max(1, params.start_index or 1)
    next_cursor: str | None = None
    probe = _probe(resource_types, params)
    with vault.read_connection() as conn:
        # A probe reads at most MAX_PAGE_SIZE + 1 matches; more (a displayName or externalId many share) go the
        # general way, which counts them all: the probe alone answered totalResults 1001 and pages past it empty.
        matching = _probe_rows(conn, *probe) if probe is not None else None
        if matching is not None and len(matching) <= MAX_PAGE_SIZE:
            total = len(matching)
            rows = matching[start_index - 1 : start_index - 1 + count]
        else:
            where = _where(resource_types, params.filter)
            if len(resource_types) > 1 and params.sort_by:
                raise invalid_value("Sorting is only supported within one resource type.")
            plan = plan_for(resource_types[0] if len(resource_types) == 1 else None, params.sort_by)
            fingerprint = hashlib.sha256(
                f"{resource_types}|{params.filter}|{params.sort_by}|{descending}".encode()
            ).hexdigest()[:16]
            if params.cursor is not None:
                page, has_more = _cursor_page(conn, plan, where, params.cursor, fingerprint, descending, count, clock)
                if has_more and page:
                    next_cursor = _cursor_token([page[-1].sort_value, page[-1].id], fingerprint, clock())
                first_page = not params.cursor
            else:
                page, has_more = _offset_page(conn, plan, where, _offset(start_index), descending, count), False
                first_page = start_index == 1
            # A first page that is not full already says how many there are; otherwise COUNT on the index.
            complete = first_page and count > 0 and len(page) < count and not has_more
            total = len(page) if complete else _count(conn, _R, where)
            rows = [repo.stored(row) for row in page]
        related: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for resource_type in resource_types:
            ids = [row.id for row in rows if row.resource_type == resource_type]
            if ids and wants_related(resource_type, include, exclude):
                related[resource_type] = repo.memberships(conn, resource_type, ids, base_url)
    index_start = start_index if params.cursor is None else None
    return _Page(rows, related, total, index_start, next_cursor, include, exclude)


def _statement(segment: Segment, where: ColumnElement[bool], descending: bool) -> Any:
    order = [key.desc() for key in segment.keys] if descending else list(segment.keys)
    return (
        select(*_RESOURCE_COLUMNS, segment.value.label("sort_value"))
        .select_from(segment.source)
        .where(where, *segment.condition)
        .order_by(*order)
    )


def _count(conn: Any, source: Any, where: ColumnElement[bool], *condition: ColumnElement[bool]) -> int:
    return conn.execute(select(func.count()).select_from(source).where(where, *condition)).scalar() or 0


def _any(conn: Any, segment: Segment, where: ColumnElement[bool]) -> bool:
    found = select(literal(1)).select_from(segment.source).where(where, *segment.condition).limit(1)
    return conn.execute(found).first() is not None


def _offset_page(conn: Any, plan: SortPlan, where: Any, offset: int, descending: bool, count: int) -> list[Any]:
    """``count`` rows from ``offset`` on: whole segments before it are skipped by their COUNT on the index."""
    rows: list[Any] = []
    segments = plan.ordered(descending)
    for position, segment in enumerate(segments):
        if len(rows) >= count:
            break
        if segment.looked_up and not _any(conn, segment, where):
            continue
        if offset > 0 and position < len(segments) - 1:
            size = _count(conn, segment.source, where, *segment.condition)
            if offset >= size:
                offset -= size
                continue
        wanted = count - len(rows)
        rows += conn.execute(_statement(segment, where, descending).offset(offset).limit(wanted)).all()
        offset = 0
    return rows


def _cursor_page(
    conn: Any,
    plan: SortPlan,
    where: Any,
    cursor: str,
    fingerprint: str,
    descending: bool,
    count: int,
    clock: Callable[[], float],
) -> tuple[list[Any], bool]:
    """``count`` rows past the cursor (and whether there are more): a range on each segment's index."""
    if not count:
        if cursor:
            _read_cursor(cursor, fingerprint, clock())
        return [], False
    segments = plan.ordered(descending)
    resume: ColumnElement[bool] | None = None
    if cursor:
        last_value, last_id = _read_cursor(cursor, fingerprint, clock(), plan.may_be_missing)
        segments = plan.resuming(last_value, descending)
        resume = segments[0].after(last_value, last_id, descending)
    rows: list[Any] = []
    for segment in segments:
        statement = _statement(segment, where, descending)
        if resume is not None:
            statement, resume = statement.where(resume), None
        elif segment.looked_up and not _any(conn, segment, where):
            continue
        rows += conn.execute(statement.limit(count + 1 - len(rows))).all()
        if len(rows) > count:
            break
    return rows[:count], len(rows) > count


def _offset(start_index: int) -> int:
    """RFC 7644 §3.4.2.4 bounds neither startIndex nor the list; SQLite's OFFSET is a 64-bit integer. A start past
    every row is an empty page whether it is one past the end or 10^20 past it."""
    return min(start_index - 1, INT64_MAX)


def _where(resource_types: tuple[str, ...], expression: str | None) -> ColumnElement[bool]:
    if expression is None:  # "" is a filter given empty, which parse() refuses: never "no filter"
        return ScimResource.resource_type.in_(resource_types)
    if len(resource_types) == 1:
        return and_(ScimResource.resource_type == resource_types[0], compile_filter(resource_types[0], expression))
    node = parse(expression)
    return or_(
        *(
            and_(ScimResource.resource_type == resource_type, compile_filter_lenient(resource_type, node))
            for resource_type in resource_types
        )
    )
