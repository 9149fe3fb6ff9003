"""Flatten a SCIM document into ``attribute_values`` rows: one row per leaf value.

Rows name their resource by its small number (``rid``, scim_resources.rid), and keep the value as sent
(``value_str``) only for case-exact attributes: every other comparison, and every sort, reads ``value_ci``. A row
here names its path by text; the repository stores the path's code from ``attribute_paths`` (migration 0018).

Multi-valued complex attributes get a marker row per element (``path == "emails"``) plus one row per
sub-attribute with the same ``element`` number, so value-path filters can require that sub-conditions
hold on the same element. Attributes kept in columns of ``scim_resources`` (userName, displayName,
externalId, active) and relational membership (members, groups) are not repeated here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from app.directory.schema import AttrDef, ResourceSchema

# A reference's ``$ref`` (a URI ending in the referenced resource's id) also gets a row under ``<path>.$ref`` + this
# suffix holding that id alone, so "who names resource X" is an index search on the id, not a scan of every URI for
# one ending in it (app/erasure/references.py; migration 0021 wrote these rows for references stored before). No
# client path can name it: '#' is not an attribute name character (RFC 7644 §3.4.2.2 ATTRNAME).
REFERENCED_ID = "#id"

COLUMN_ATTRIBUTES = frozenset({"id", "externalid", "username", "displayname", "active", "meta", "schemas"})
RELATIONAL_ATTRIBUTES = frozenset({"members", "groups", "password"})

Row = dict[str, Any]


def normalise_datetime(value: str) -> str:
    """ISO 8601 in UTC with a fixed shape, so that string order is time order."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_columns(definition: AttrDef, value: Any) -> dict[str, Any] | None:
    """Typed columns for one leaf value; None when the value cannot be indexed (e.g. null)."""
    if value is None:
        return None
    kind = definition.type
    if kind == "boolean":
        if isinstance(value, bool):
            return {"value_bool": value}
        return None
    if kind in ("integer", "decimal"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"value_num": float(value)}
        return None
    text = str(value)
    if kind == "dateTime":
        with contextlib.suppress(ValueError):
            text = normalise_datetime(text)
    return {"value_str": text if definition.case_exact else None, "value_ci": text.lower()}


def _rows_for(rid: int, path: str, element: int, definition: AttrDef, value: Any) -> Iterator[Row]:
    columns = leaf_columns(definition, value)
    if columns is not None:
        yield {"rid": rid, "path": path, "element": element, **columns}


def index_rows(rid: int, schema: ResourceSchema, document: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for urn in schema.all_schemas():
        if urn == schema.core:
            part, prefix = document, ""
        else:
            part, prefix = document.get(urn) or {}, urn.lower() + ":"
        if not isinstance(part, dict):
            continue
        definitions = schema.attributes[urn]
        for key, value in part.items():
            lower = key.lower()
            if urn == schema.core and (lower in COLUMN_ATTRIBUTES or lower in RELATIONAL_ATTRIBUTES):
                continue
            definition = definitions.get(lower)
            if definition is None or value is None:
                continue
            rows.extend(_attribute_rows(rid, prefix + lower, definition, value))
    return rows


def _attribute_rows(rid: int, path: str, definition: AttrDef, value: Any) -> Iterator[Row]:
    values = value if definition.multi_valued and isinstance(value, list) else [value]
    for position, item in enumerate(values, start=1):
        element = position if definition.multi_valued else 0
        if definition.type != "complex":
            yield from _rows_for(rid, path, element, definition, item)
            continue
        if not isinstance(item, dict):
            continue
        if definition.multi_valued:
            yield {"rid": rid, "path": path, "element": element}  # element marker
        for sub_key, sub_value in item.items():
            sub_definition = definition.sub.get(sub_key.lower())
            if sub_definition is not None:
                yield from _rows_for(rid, f"{path}.{sub_key.lower()}", element, sub_definition, sub_value)
                if sub_key == "$ref" and sub_definition.type == "reference":
                    yield from _referenced_id_row(rid, f"{path}.$ref", element, sub_value)


def referenced_id(uri: object) -> str | None:
    """The id a ``$ref`` URI ends in (its last path segment), or None when it has none."""
    if not isinstance(uri, str):
        return None
    stripped = uri.rstrip("/")
    if "/" not in stripped:
        return None
    tail = stripped.rsplit("/", 1)[1]
    return tail or None


def _referenced_id_row(rid: int, ref_path: str, element: int, uri: object) -> Iterator[Row]:
    tail = referenced_id(uri)
    if tail is not None:  # ids are case-exact: the value as sent, and folded for the (code, value_ci) index
        yield {"rid": rid, "path": ref_path + REFERENCED_ID, "element": element, "value_str": tail,
               "value_ci": tail.lower()}  # fmt: skip
