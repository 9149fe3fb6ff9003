"""SCIM filters (RFC 7644 §3.4.2.2) translated to SQL over the mirror's indexes.

scim2-models parses the filter; this visitor turns the tree into a SQLAlchemy boolean over
``scim_resources``. Leaves never load resources into Python:

* attributes held in columns (id, externalId, userName, displayName, active, meta.*) compare on the column;
* other attributes become ``rid IN (SELECT rid FROM attribute_values WHERE code = … AND value …)``, the code
  being the path's number in ``attribute_paths`` (looked up once per statement), which the (code, value_ci) index
  answers;
* value paths such as ``emails[type eq "work" and value eq "x"]`` work on (rid, element) pairs,
  combined with INTERSECT / UNION / EXCEPT so that every sub-condition holds on the same element;
* group membership (``members``, ``groups``) reads the relational ``group_members`` table.

Case-exactness comes from the schema: case-insensitive attributes compare on the lower-cased column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from scim2_models import ScimFilter
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from app.directory.errors import invalid_filter
from app.directory.filter_time import filter_moment
from app.directory.identity_strings import lookup_key
from app.directory.input_guard import refuse_unpaired_surrogates
from app.directory.schema import AttrDef, Resolved, ResourceSchema, schema_for
from app.store.engine import contains_exact, ends_with_exact
from app.store.models import AttributePath, path_code, path_codes
from app.store.models import AttributeValue as AV
from app.store.models import GroupMember as GM
from app.store.models import ScimResource as R

_DIRECT = literal("direct")
MAX_FILTER_LENGTH = 4096
MAX_TERMS = 64
_HIGH = "\U0010ffff"  # sorts after every character: upper bound of a prefix range
Op = CompareOperator


def parse(expression: str) -> FilterNode:
    if not expression.strip():
        # RFC 7644 §3.4.2.2: a filter is at least one expression. "?filter=" was served as no filter at all: every
        # resource listed (and named on the trail), and an erasure "--filter" that selected everyone.
        raise invalid_filter("The filter is empty: give an expression, such as 'userName eq \"…\"', or leave it out.")
    if len(expression) > MAX_FILTER_LENGTH:
        raise invalid_filter(f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    try:
        node = ScimFilter(expression).ast
    except Exception as exc:  # the parser raises several types; the message locates the syntax error
        raise invalid_filter(f"The filter is not valid SCIM filter syntax: {_position_only(exc)}") from exc
    if _count_terms(node) > MAX_TERMS:
        raise invalid_filter(f"The filter has more than {MAX_TERMS} terms.")
    refuse_unpaired_surrogates(_compared_values(node), "The filter", invalid_filter)
    return node


def _null_as_presence(node: FilterNode) -> FilterNode:
    """``x eq null`` as ``not (x pr)`` and ``x ne null`` as ``x pr``, for the SQL only (the policy's checks read
    the tree as sent). RFC 7643 §2.5 makes null the same as unassigned, and RFC 7644 §3.4.2.2 lets a filter compare
    with null; it was refused ("use 'pr'"), though the answer is as certain as the presence one. Another operator
    with null (``gt null``) means nothing: refused when the leaf is compiled."""
    if isinstance(node, LogicalExpr):
        return LogicalExpr(node.op, tuple(_null_as_presence(term) for term in node.terms))
    if isinstance(node, Not):
        return Not(_null_as_presence(node.expr))
    if isinstance(node, ValuePath):
        return ValuePath(node.attr_path, _null_as_presence(node.val_filter), node.sub_attr)
    if isinstance(node, Comparison) and node.value is None and node.op in (Op.eq, Op.ne):
        present = Present(node.attr_path)
        return present if node.op == Op.ne else Not(present)
    return node


def _compared_values(node: FilterNode) -> list[Any]:
    """Every value a filter compares with, after the parser decoded its escapes (``"\ud800"`` included)."""
    if isinstance(node, LogicalExpr):
        return [value for term in node.terms for value in _compared_values(term)]
    if isinstance(node, Not):
        return _compared_values(node.expr)
    if isinstance(node, ValuePath):
        return [str(node.attr_path), *_compared_values(node.val_filter)]
    if isinstance(node, Comparison):
        return [str(node.attr_path), node.value]
    return [str(getattr(node, "attr_path", ""))]


def _position_only(exc: Exception) -> str:
    # Parser messages can quote the input (which may hold personal data); keep only the first line's head.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split("'")[0].split('"')[0].strip()[:120] or "syntax error"


def _count_terms(node: FilterNode) -> int:
    if isinstance(node, LogicalExpr):
        return sum(_count_terms(term) for term in node.terms)
    if isinstance(node, Not):
        return _count_terms(node.expr)
    if isinstance(node, ValuePath):
        return 1 + _count_terms(node.val_filter)
    return 1


def compile_filter(resource_type: str, expression: str | FilterNode) -> ColumnElement[bool]:
    """A WHERE clause over ScimResource for one resource type (the type itself is not included)."""
    node = parse(expression) if isinstance(expression, str) else expression
    return _ResourceFilter(schema_for(resource_type), strict=True).visit(_null_as_presence(node))


def compile_filter_lenient(resource_type: str, node: FilterNode) -> ColumnElement[bool]:
    """For queries across resource types: an attribute this type lacks evaluates to false (RFC 7644 §3.4.2.1)."""
    return _ResourceFilter(schema_for(resource_type), strict=False).visit(_null_as_presence(node))


# -- value coercion -------------------------------------------------------------------------------------
def _typed_value(definition: AttrDef, op: Op, value: Any, name: str) -> Any:
    kind = definition.type
    if value is None:  # eq and ne with null are presence tests (parse): what is left orders a null
        raise invalid_filter(f"'{name}' compared with null: only eq and ne apply (as 'not (… pr)' and 'pr').")
    if kind == "boolean":
        if op not in (Op.eq, Op.ne) or not isinstance(value, bool):
            raise invalid_filter(f"'{name}' is boolean: only eq/ne with true or false apply.")
        return value
    if kind in ("integer", "decimal"):
        if op in (Op.co, Op.sw, Op.ew) or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid_filter(f"'{name}' is numeric: compare it with a number.")
        return float(value)
    if kind == "complex":
        raise invalid_filter(f"'{name}' is complex: compare one of its sub-attributes.")
    if kind == "binary" and op in (Op.gt, Op.ge, Op.lt, Op.le):
        raise invalid_filter(f"'{name}' is binary: ordering comparisons do not apply.")
    if kind == "dateTime" and (op not in (Op.co, Op.sw, Op.ew) or not isinstance(value, str)):
        return filter_moment(value, name)  # strict: a moment it can place, or 400 (decision 0053)
    if not isinstance(value, str):
        raise invalid_filter(f"'{name}' is a string: compare it with a quoted string.")
    return value


def _string_condition(
    raw: Any, folded: Any, case_exact: bool, op: Op, value: str, fold: Callable[[str], str] = str.lower
) -> ColumnElement[bool]:
    """Compare a string attribute.

    ``folded`` is an indexed copy of ``raw`` folded by ``fold`` (lower-cased; userName's comparison key), or None
    when there is none: then a case-exact comparison uses ``raw`` alone and a case-insensitive one lower-cases
    ``raw`` in SQL.
    """
    if folded is None:
        if case_exact:
            return _exact_string(raw, op, value)
        folded = func.lower(raw)
    low = fold(value)
    if op == Op.ne:
        return not_(_string_condition(raw, folded, case_exact, Op.eq, value, fold))
    folded_match = _exact_string(folded, op, low, folded_column=True)
    return and_(folded_match, _exact_string(raw, op, value)) if case_exact else folded_match


def _exact_string(column: Any, op: Op, value: str, folded_column: bool = False) -> ColumnElement[bool]:
    if op == Op.eq:
        return column == value
    if op == Op.ne:
        return column != value
    if op == Op.sw:
        return and_(column >= value, column < value + _HIGH)
    if op == Op.co:
        return column.contains(value, autoescape=True) if folded_column else contains_exact(column, value)
    if op == Op.ew:
        return column.endswith(value, autoescape=True) if folded_column else ends_with_exact(column, value)
    return {Op.gt: column > value, Op.ge: column >= value, Op.lt: column < value, Op.le: column <= value}[op]


def _ordered(column: Any, op: Op, operand: Any) -> ColumnElement[bool]:
    return {
        Op.eq: column == operand,
        Op.ne: column != operand,
        Op.gt: column > operand,
        Op.ge: column >= operand,
        Op.lt: column < operand,
        Op.le: column <= operand,
    }[op]


def _value_condition(definition: AttrDef, op: Op, value: Any, name: str, av: Any = AV) -> ColumnElement[bool]:
    """A condition over AttributeValue columns (of ``av``, an alias) for one leaf value; ``ne`` is the caller's."""
    typed = _typed_value(definition, op, value, name)
    if definition.type == "boolean":
        return av.value_bool == typed
    if definition.type in ("integer", "decimal"):
        return _ordered(av.value_num, op, typed)
    return _string_condition(av.value_str, av.value_ci, definition.case_exact, op, typed)


# -- the visitor ----------------------------------------------------------------------------------------
class _BooleanFilter(FilterVisitor[ColumnElement[bool]]):
    """``not``, ``and`` and ``or`` as SQL booleans; value paths cannot nest inside a value path."""

    def visit_not(self, node: Not) -> ColumnElement[bool]:
        return not_(self.visit(node.expr))

    def visit_logical_expr(self, node: LogicalExpr) -> ColumnElement[bool]:
        parts = [self.visit(term) for term in node.terms]
        return and_(*parts) if node.op == LogicalOperator.and_ else or_(*parts)

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        raise invalid_filter("Value paths cannot be nested.")


class _ResourceFilter(_BooleanFilter):
    def __init__(self, schema: ResourceSchema, strict: bool) -> None:
        self.schema = schema
        self.strict = strict

    def _resolve(self, path: AttrPath, for_comparison: bool) -> Resolved | None:
        resolved = self.schema.resolve(path.uri, path.attr, path.sub_attr)
        if resolved is None:
            if self.strict:
                raise invalid_filter(f"'{path}' is not an attribute of {self.schema.name} held by this service.")
            return None
        if for_comparison and resolved.leaf.type == "complex" and resolved.leaf.multi_valued:
            # RFC 7644 §3.4.2.2: comparing a multi-valued complex attribute compares its "value".
            value_path = AttrPath(path.attr, "value", path.uri)
            return self._resolve(value_path, for_comparison=False)
        return resolved

    # leaves
    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        resolved = self._resolve(node.attr_path, for_comparison=True)
        if resolved is None:
            return false()
        name = str(node.attr_path)
        if resolved.schema == "" and resolved.top.name.lower() == "meta" and resolved.sub_name in _COMPUTED_META:
            raise invalid_filter(_COMPUTED_META[resolved.sub_name].format(name=name))
        column = self._column_condition(resolved, node.op, node.value, name)
        if column is not None:
            return column
        if resolved.top.name.lower() in ("members", "groups"):
            return self._membership(
                resolved.top.name.lower(), Comparison(AttrPath(resolved.leaf.name), node.op, node.value)
            )
        if node.op == Op.ne:
            return self._not_equal(resolved, node.value, name)
        return self._values_in(resolved, _value_condition(resolved.leaf, node.op, node.value, name))

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        resolved = self._resolve(node.attr_path, for_comparison=False)
        if resolved is None:
            return false()
        top = resolved.top.name.lower()
        if resolved.schema == "" or (resolved.schema == self.schema.core and top in _COLUMNS):
            column = _column_for(self.schema, resolved)
            if column is not None:
                return column.is_not(None)
            return true() if top in ("id", "meta") else false()
        if top in ("members", "groups"):
            gm_side = GM.group_id if top == "members" else GM.member_id
            return R.id.in_(select(gm_side))
        paths = _leaf_paths(resolved)
        return R.rid.in_(select(AV.rid).where(AV.code.in_(path_codes(AttributePath.path.in_(paths)))))

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        resolved = self._resolve(node.attr_path, for_comparison=False)
        if resolved is None:
            return false()
        if not resolved.top.multi_valued or resolved.top.type != "complex" or resolved.sub_name:
            raise invalid_filter(f"'{node.attr_path}' is not a multi-valued complex attribute.")
        top = resolved.top.name.lower()
        if top in ("members", "groups"):
            return self._membership(top, node.val_filter)
        return R.rid.in_(_element_rows(resolved, str(node.attr_path), node.val_filter))

    # helpers
    def _column_condition(self, resolved: Resolved, op: Op, value: Any, name: str) -> ColumnElement[bool] | None:
        column = _column_for(self.schema, resolved)
        if column is None:
            return None
        typed = _typed_value(resolved.leaf, op, value, name)
        if resolved.leaf.type == "dateTime":
            if op in (Op.co, Op.sw, Op.ew):
                raise invalid_filter(f"'{name}' is a dateTime: use eq, ne, gt, ge, lt or le.")
            moment = datetime.fromisoformat(typed.replace("Z", "+00:00"))
            return _ordered(column, op, moment)
        if resolved.leaf.type == "boolean":
            condition = column == typed
            return or_(column != typed, column.is_(None)) if op == Op.ne else condition
        folded = _FOLDED.get(column.key)
        folded_column = getattr(R, folded) if folded else None
        fold = lookup_key if column.key == "user_name" else str.lower  # the key the unique index compares
        condition = _string_condition(column, folded_column, resolved.leaf.case_exact, op, typed, fold)
        return or_(condition, column.is_(None)) if op == Op.ne else condition

    def _not_equal(self, resolved: Resolved, value: Any, name: str) -> ColumnElement[bool]:
        """``ne``: no value at all, as for an attribute held in a column, or a value that differs.

        RFC 7644 §3.4.2.2: a filter on a multi-valued attribute "matches if any of the values … match". ``ne`` was
        read as "none of the values equals", so ``emails.value ne "a@x"`` left out a person holding a@x *and* b@x.
        A single value differs exactly when it does not equal, so that reading (and its SQL) is kept there."""
        equal = _value_condition(resolved.leaf, Op.eq, value, name)
        if not resolved.top.multi_valued:
            return not_(self._values_in(resolved, equal))
        has_any = R.rid.in_(select(AV.rid).where(AV.code == path_code(resolved.index_path)))
        return or_(not_(has_any), self._values_in(resolved, not_(equal)))

    def _values_in(self, resolved: Resolved, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return R.rid.in_(select(AV.rid).where(AV.code == path_code(resolved.index_path), condition))

    def _membership(self, top: str, inner: FilterNode) -> ColumnElement[bool]:
        other = aliased(R)
        columns: dict[str, InstrumentedAttribute[str | None] | None]  # no type column for a user's groups
        if top == "members":
            rows = select(GM.group_id).join(other, other.id == GM.member_id)
            columns = {"value": GM.member_id, "type": GM.member_type, "display": other.display_name_ci}
            named_by: Any = other.user_name_ci  # a member without a displayName is shown by its userName
        else:
            rows = select(GM.member_id).join(other, other.id == GM.group_id)
            columns = {"value": GM.group_id, "type": None, "display": other.display_name_ci}
            named_by = None
        condition = _MembershipFilter(columns, top, named_by).visit(inner)
        return R.id.in_(rows.where(condition))


# Computed for each answer, never indexed: a comparison on them matched nothing, so `meta.location eq "<a User's own
# location>"` answered "no such User". Presence stays true (every resource has both).
_COMPUTED_META = {
    "location": "'{name}' is computed from the id and the server's address: filter on 'id' instead.",
    "version": "'{name}' is computed for each answer and cannot be filtered on; read it, or send it in If-Match.",
}
_COLUMNS = frozenset({"id", "externalid", "username", "displayname", "active", "meta"})
_FOLDED = {"user_name": "user_name_ci", "display_name": "display_name_ci"}


def _column_for(schema: ResourceSchema, resolved: Resolved) -> Any | None:
    top = resolved.top.name.lower()
    if resolved.schema == "":
        if top == "id":
            return R.id
        if top == "externalid":
            return R.external_id
        if top == "meta":
            return {"created": R.created, "lastmodified": R.modified, "resourcetype": R.resource_type}.get(
                resolved.sub_name or ""
            )
        return None
    if resolved.schema != schema.core:
        return None
    return {"username": R.user_name, "displayname": R.display_name, "active": R.active}.get(top)


def _leaf_paths(resolved: Resolved) -> list[str]:
    if resolved.sub_name or resolved.top.type != "complex":
        return [resolved.index_path]
    base = resolved.index_path
    return [base] + [f"{base}.{sub}" for sub in resolved.top.sub]


_DRIVING_OPERATORS = (Op.eq, Op.sw, Op.gt, Op.ge, Op.lt, Op.le)
_AV_TABLE = AV.__table__  # Core aliases of the table: far cheaper to build than ORM aliases


def _element_rows(parent: Resolved, name: str, inner: FilterNode) -> Select[Any] | CompoundSelect:
    """Resource numbers (rid) having one element of ``parent`` on which ``inner`` holds.

    The query is driven from the index: one indexable sub-condition (``value eq "x"`` first) selects the
    candidate elements through (path, value_ci), and the others are checked on each candidate's own element
    through (rid, path, element). Only a filter with no indexable positive term walks every element.
    """
    if isinstance(inner, LogicalExpr) and inner.op == LogicalOperator.or_:
        return union(*(_element_rows(parent, name, term) for term in inner.terms))
    terms = list(inner.terms) if isinstance(inner, LogicalExpr) else [inner]
    anchor = _AV_TABLE.alias()
    checks = _ElementCondition(parent, name, anchor)
    driver = _pick_driver(terms)
    if driver is None:
        where = [anchor.c.code == path_code(parent.index_path)]
    else:
        terms.remove(driver)
        where = checks.leaf(driver, on=anchor)
    return select(anchor.c.rid).where(*where, *(checks.visit(term) for term in terms))


def _pick_driver(terms: list[FilterNode]) -> Comparison | Present | None:
    comparisons = [t for t in terms if isinstance(t, Comparison) and t.op in _DRIVING_OPERATORS]
    comparisons.sort(key=lambda t: (t.op != Op.eq, t.attr_path.attr.lower() != "value"))
    if comparisons:
        return comparisons[0]
    present = [t for t in terms if isinstance(t, Present)]
    return present[0] if present else None


class _ElementCondition(_BooleanFilter):
    """Inside ``attr[…]``: a condition on the element identified by ``anchor`` (rid, element)."""

    def __init__(self, parent: Resolved, name: str, anchor: Any) -> None:
        self.parent = parent
        self.name = name
        self.anchor = anchor

    def _sub(self, path: AttrPath) -> AttrDef:
        definition = self.parent.top.sub.get(path.attr.lower())
        if path.uri or path.sub_attr or definition is None:
            raise invalid_filter(f"'{path}' is not a sub-attribute of '{self.name}'.")
        return definition

    def leaf(self, node: Comparison | Present, on: Any) -> list[ColumnElement[bool]]:
        """Conditions on the rows of ``on`` (an AttributeValue alias) for one positive leaf."""
        definition = self._sub(node.attr_path)
        where = [on.c.code == path_code(f"{self.parent.index_path}.{definition.name.lower()}")]
        if isinstance(node, Comparison):
            where.append(_value_condition(definition, node.op, node.value, f"{self.name}.{definition.name}", on.c))
        return where

    def _same_element(self, node: Comparison | Present) -> ColumnElement[bool]:
        other = _AV_TABLE.alias()
        return (
            select(other.c.element)
            .where(other.c.rid == self.anchor.c.rid, other.c.element == self.anchor.c.element)
            .where(*self.leaf(node, on=other))
            .exists()
        )

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        if node.op == Op.ne:
            return not_(self._same_element(Comparison(node.attr_path, Op.eq, node.value)))
        return self._same_element(node)

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        return self._same_element(node)


class _MembershipFilter(_BooleanFilter):
    """Inside ``members[…]`` / ``groups[…]``: a condition on one membership row."""

    def __init__(self, columns: dict[str, Any], top: str, named_by: Any = None) -> None:
        self.columns = columns
        self.top = top
        # The folded userName a member's "display" falls back to, as a group is rendered
        # (app.directory.repository.memberships): "members.display" compared only displayName, so a member shown
        # as "ann@example.com" was not found by 'members.display eq "ann@example.com"', nor by 'members[display pr]'.
        self.named_by = named_by

    def _column(self, path: AttrPath) -> Any:
        key = path.attr.lower()
        if path.uri or path.sub_attr or key not in self.columns:
            raise invalid_filter(f"'{path}' cannot be filtered inside '{self.top}'.")
        return self.columns[key]

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        column = self._column(node.attr_path)
        key = node.attr_path.attr.lower()
        if not isinstance(node.value, str):
            raise invalid_filter(f"'{self.top}.{key}' is a string: compare it with a quoted string.")
        if column is None:  # groups.type: every membership Custos holds is direct
            return _string_condition(_DIRECT, _DIRECT, False, node.op, node.value)
        if key == "display":  # already a lower-cased column
            return self._display(column, node.op, node.value)
        return _string_condition(column, None, key == "value", node.op, node.value)

    def _display(self, named: Any, op: Op, value: str) -> ColumnElement[bool]:
        by_name = _string_condition(named, named, False, op, value)
        if self.named_by is None:
            return by_name
        shown = and_(named.is_not(None), named != "")
        by_user_name = _string_condition(self.named_by, self.named_by, False, op, value, lookup_key)
        return or_(and_(shown, by_name), and_(not_(shown), self.named_by.is_not(None), by_user_name))

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        column = self._column(node.attr_path)
        if column is None:
            return true()
        if node.attr_path.attr.lower() == "display" and self.named_by is not None:
            return or_(and_(column.is_not(None), column != ""), self.named_by.is_not(None))
        return column.is_not(None)
