"""How a list is ordered in SQL so that every page is a range read on an index, never a sort of every match.

A sorted list is one or two *segments*, each read in the order of one index:

* ``sortBy`` on an attribute held in a column (userName, displayName, externalId, id, meta.created,
  meta.lastModified): the resources without a value (NULL, read on the column's index with ``IS NULL``), then
  those with one, in the column's index order — reversed for ``descending``. userName is unique, so its value
  alone orders; the others' indexes end with the resource number (``rid``), which breaks ties;
* ``sortBy`` on a single-valued attribute held in ``attribute_values`` (name.familyName, title, an enterprise
  attribute…): the resources without a row for it (id order), then a walk of the (path, value, rid) index
  joined to each resource — ties broken by the resource's number (its order of creation), which that index
  holds, where the other orders break them by id;
* unsorted: one segment in (resource_type, id) order.

A page is the rows of the first segment past the cursor or offset, then of the next ones; the offset skips whole
segments by counting them on the same index. Resources without a value sort before every value when ascending
and after them when descending, as before (then among themselves by id, where an empty string used to tie with
them). A multi-valued or boolean attribute has no such index (its sort value is a resource's primary value, else
its first, RFC 7644 §3.4.2.3): it keeps one segment ordered by that computed value, sorted by SQLite — the one
case that still sorts. Memberships and ``meta.version`` have no value to sort by and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, func, literal, null, select, tuple_, type_coerce
from sqlalchemy.types import NullType

from app.directory.errors import ScimError, invalid_cursor, invalid_value
from app.directory.filter_sql import _column_for, parse
from app.directory.schema import CORE_SCHEMAS, Resolved, schema_for
from app.store.models import AttributeValue, ScimResource, path_code

_R = ScimResource.__table__
_AV = AttributeValue.__table__
_UNIQUE_PER_TYPE = frozenset({"user_name_ci"})  # uq_resource_user_name_ci: the value alone orders the rows
# Indexed as (resource_type, column, rid) (migration 0017): ties are broken by the resource number.
_BY_NUMBER = frozenset({"display_name_ci", "external_id", "created", "modified"})


def raw(expression: Any) -> Any:
    """Compared and returned as SQLite stores it (text or a number; a dateTime stays its stored text): a cursor
    carries that raw value and binds it back the same way."""
    return type_coerce(expression, NullType())


@dataclass(frozen=True)
class Segment:
    """Rows read in one index's order: ``keys`` ascending (the last one identifies a row), ``value`` is the sort
    value a cursor carries (None for the rows without one)."""

    source: FromClause
    condition: tuple[ColumnElement[bool], ...]
    value: Any
    keys: tuple[Any, ...]
    has_values: bool
    # The tie-breaking key of the row a cursor names by its id: the id itself, or the resource number (rid) where
    # the index breaks ties by that (attribute_values names resources by number).
    tie_by_rid: bool = False
    # Read only after a lookup finds a row in it: its index is not in id order (a unique column's NULLs), and it
    # is empty by construction (every User has a userName), so the lookup is all it ever costs.
    looked_up: bool = False

    def after(self, last_value: Any, last_id: str, descending: bool) -> ColumnElement[bool]:
        """Keyset condition: the rows past (sort value, id) of the last row served, as a row-value range."""
        tie: Any = literal(last_id)
        if self.tie_by_rid:
            tie = select(_R.c.rid).where(_R.c.id == literal(last_id)).scalar_subquery()
        if len(self.keys) == 1:
            # the id or the number alone, or a value unique within the type, which orders the rows alone
            bound = tie if self.keys[0] is _R.c.id or self.keys[0] is _R.c.rid else literal(last_value, NullType())
            return self.keys[0] < bound if descending else self.keys[0] > bound
        row, after = tuple_(*self.keys), tuple_(literal(last_value, NullType()), tie)
        return row < after if descending else row > after


@dataclass(frozen=True)
class SortPlan:
    segments: tuple[Segment, ...]  # in ascending order

    @property
    def may_be_missing(self) -> bool:
        """Whether a row can have no sort value (a cursor may then carry none)."""
        return any(not segment.has_values for segment in self.segments)

    def ordered(self, descending: bool) -> tuple[Segment, ...]:
        return tuple(reversed(self.segments)) if descending else self.segments

    def resuming(self, last_value: Any, descending: bool) -> tuple[Segment, ...]:
        """The segments a cursor resumes in: the one its last row came from, then the following ones."""
        ordered = self.ordered(descending)
        has_values = last_value is not None
        index = next((i for i, segment in enumerate(ordered) if segment.has_values == has_values), None)
        if index is None:  # e.g. no value where every row has one: not a cursor this server issued for this query
            raise invalid_cursor()
        return ordered[index:]


_UNSORTED = SortPlan((Segment(_R, (), literal(""), (_R.c.id,), True),))


def sort_attribute(sort_by: str) -> Any:
    """The ``Present`` node of ``sortBy`` read as an attribute path, or 400 invalidValue.

    A sortBy that is no attribute path (a syntax error, or an expression such as ``userName eq "…" or title``)
    is named by the parameter, never quoted: it may carry a filter's literal, an e-mail or a name."""
    from scim2_models.path import Present  # loaded with the filter grammar parse() uses

    try:
        node = parse(f"{sort_by} pr")  # reuse the attribute-path grammar
    except ScimError as exc:
        raise _not_a_path() from exc
    if not isinstance(node, Present):  # "title pr or userName": an expression, not a path
        raise _not_a_path()
    return node


def _not_a_path() -> ScimError:
    return invalid_value("'sortBy' names one attribute, such as userName or name.familyName.")


def plan_for(resource_type: str | None, sort_by: str | None) -> SortPlan:
    """The segments of a list of ``resource_type`` sorted by ``sort_by`` (None: unsorted)."""
    if not sort_by or resource_type is None:
        return _UNSORTED
    schema = schema_for(resource_type)
    path = sort_attribute(sort_by).attr_path
    resolved = schema.resolve(path.uri, path.attr, path.sub_attr)
    if (
        resolved is None
        or (resolved.leaf.type == "complex" and not resolved.leaf.multi_valued)
        or _unsortable(resolved)
    ):
        raise invalid_value(f"Cannot sort by '{path}'.")
    if resolved.leaf.type == "complex":
        resolved = schema.resolve(path.uri, path.attr, "value") or resolved
    column = _column_for(schema, resolved)
    if column is not None:
        folded = {"user_name": "user_name_ci", "display_name": "display_name_ci"}.get(column.key, column.key)
        return _column_plan(_R.c[folded])
    numeric = resolved.leaf.type in ("integer", "decimal")
    if resolved.top.multi_valued or resolved.leaf.type == "boolean":
        primary = f"{resolved.prefix}{resolved.top.name.lower()}.primary" if resolved.sub_name else None
        return _computed_plan(resolved.index_path, numeric, resolved.leaf.type == "boolean", primary)
    return _attribute_plan(resolved.index_path, numeric)


def _unsortable(resolved: Resolved) -> bool:
    """Attributes with no value in the index to sort by. They were served "sorted" in id order, which is not their
    order: memberships (``members``, ``groups``) live in their own table, and ``meta.version`` is computed."""
    if resolved.schema not in CORE_SCHEMAS:  # an extension's "members" is its own attribute
        return False
    top = resolved.top.name.lower()
    return top in ("members", "groups") or (top == "meta" and (resolved.sub_name or "").lower() == "version")


def _column_plan(column: Any) -> SortPlan:
    if column.key == "id":
        return _UNSORTED
    if column.key in _UNIQUE_PER_TYPE:
        missing = Segment(_R, (column.is_(None),), null(), (_R.c.id,), False, looked_up=True)
        return SortPlan((missing, Segment(_R, (column.is_not(None),), raw(column), (raw(column),), True)))
    if column.key in _BY_NUMBER:  # (resource_type, column, rid): ties and missing values in order of creation
        present = Segment(_R, (column.is_not(None),), raw(column), (raw(column), _R.c.rid), True, tie_by_rid=True)
        if not column.nullable:  # meta.created, meta.lastModified: every resource has one
            return SortPlan((present,))
        missing = Segment(_R, (column.is_(None),), null(), (_R.c.rid,), False, tie_by_rid=True)
        return SortPlan((missing, present))
    missing = Segment(_R, (column.is_(None),), null(), (_R.c.id,), False)  # resource_type: (resource_type, id)
    return SortPlan((missing, Segment(_R, (column.is_not(None),), raw(column), (raw(column), _R.c.id), True)))


def _attribute_plan(index_path: str, numeric: bool) -> SortPlan:
    """A single-valued attribute: at most one row per resource and path, so the index order is the sort order."""
    value = _AV.c.value_num if numeric else _AV.c.value_ci
    code = path_code(index_path)
    joined = _R.join(_AV, and_(_AV.c.rid == _R.c.rid, _AV.c.code == code, value.is_not(None)))
    has_row = select(_AV.c.element).where(_AV.c.rid == _R.c.rid, _AV.c.code == code, value.is_not(None))
    missing = Segment(_R, (~has_row.exists(),), null(), (_R.c.id,), False)
    present = Segment(joined, (), raw(value), (raw(value), _AV.c.rid), True, tie_by_rid=True)
    return SortPlan((missing, present))


def _computed_plan(index_path: str, numeric: bool, boolean: bool, primary: str | None) -> SortPlan:
    """A multi-valued attribute sorts by one value per resource, computed per resource, so SQLite sorts.

    RFC 7644 §3.4.2.3: "sorted by the value of the primary attribute …, if any, or else the first value in the
    multi-valued attribute". It sorted by the smallest value instead: a person whose primary e-mail is
    z@example.com, with a@example.com beside it, came first. ``primary`` is the element's ``primary`` path when the
    attribute is complex; "first" is the lowest element number, the position the value was sent in."""
    name = "value_num" if numeric else "value_bool" if boolean else "value_ci"
    code = path_code(index_path)
    first = _AV.alias()
    first_value = (
        select(first.c[name])
        .where(first.c.rid == _R.c.rid, first.c.code == code, first.c[name].is_not(None))
        .order_by(first.c.element)
        .limit(1)
        .scalar_subquery()
    )
    chosen: list[Any] = [first_value]
    if primary is not None:
        value, flag = _AV.alias(), _AV.alias()
        is_primary = select(flag.c.element).where(
            flag.c.rid == value.c.rid, flag.c.element == value.c.element, flag.c.code == path_code(primary),
            flag.c.value_bool.is_(True),
        )  # fmt: skip
        primary_value = (
            select(value.c[name])
            .where(value.c.rid == _R.c.rid, value.c.code == code, value.c[name].is_not(None), is_primary.exists())
            .order_by(value.c.element)
            .limit(1)
            .scalar_subquery()
        )
        chosen.insert(0, primary_value)
    sort_value = raw(func.coalesce(*chosen, ""))
    return SortPlan((Segment(_R, (), sort_value, (sort_value, _R.c.id), True),))
