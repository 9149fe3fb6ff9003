"""Shapes that identity providers send and the RFC does not, turned into what they mean.

Each rule is listed, with the IdPs that need it, in docs/idp-tolerances.md. Rules only ever *add*
interpretation; none of them turns an ambiguous request into a wider deletion than it names.
"""

from __future__ import annotations

import copy
from typing import Any

from scim2_models.path import CompareOperator, Comparison, ValuePath

from app.directory.errors import ScimError
from app.directory.filter_sql import parse
from app.directory.schema import ENTERPRISE_SCHEMA, schema_for

_MANAGER_PATHS = {f"{ENTERPRISE_SCHEMA}:manager".lower(), "manager"}
_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
_MEMBER_NAMES = {name.lower(): name for name in ("value", "display", "type", "$ref")}
_BOOL_STRINGS = {"true": True, "false": False}


def normalise_resource(resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """Tolerances for POST/PUT bodies."""
    body = _drop_null_refs(copy.deepcopy(body))
    body = _drop_empty_foreign_schemas(resource_type, body)
    body = _drop_empty_strings(body)
    if resource_type == "Group":
        body = _canonical_group_members(body)
    if resource_type == "User":
        extension = body.get(ENTERPRISE_SCHEMA)
        if isinstance(extension, dict) and "manager" in extension:
            extension["manager"] = _manager_value(extension["manager"])
            if extension["manager"] is None:
                del extension["manager"]
        if isinstance(body.get("active"), str) and body["active"].lower() in _BOOL_STRINGS:
            body["active"] = _BOOL_STRINGS[body["active"].lower()]
    return body


def canonical_member(member: Any) -> Any:
    """A member object with its sub-attribute names as the schema spells them: names are case-insensitive (RFC 7643
    §2.1), and ``{"Value": id}`` was read as a member without a value (a remove refused with 400, a create refused).
    An object naming one sub-attribute twice in different cases is left as sent, for validation to judge."""
    if not isinstance(member, dict):
        return member
    renamed = {(_MEMBER_NAMES.get(k.lower(), k) if isinstance(k, str) else k): v for k, v in member.items()}
    return renamed if len(renamed) == len(member) else member


def canonical_members(value: Any) -> Any:
    return [canonical_member(item) for item in value] if isinstance(value, list) else value


def _names_members(name: Any) -> bool:
    """``members`` by its short or full name, in any case."""
    return isinstance(name, str) and name.strip().lower().removeprefix(f"{_GROUP_SCHEMA.lower()}:") == "members"


def _canonical_group_members(body: dict[str, Any]) -> dict[str, Any]:
    """A Group body's ``members`` under that name (when it is named once), its objects' sub-attributes canonical."""
    named = [key for key in body if _names_members(key)]
    if len(named) != 1:
        return body
    (key,) = named
    return {**{k: v for k, v in body.items() if k != key}, "members": canonical_members(body[key])}


def _drop_empty_foreign_schemas(resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """Entra lists a Microsoft schema URI on groups that carries no attribute: drop the URI, keep the data.

    A foreign schema whose attribute block is present is left alone, so that data outside the agreed schema is
    still refused by validation.
    """
    schemas = body.get("schemas")
    if not isinstance(schemas, list):
        return body
    known = {urn.lower() for urn in schema_for(resource_type).all_schemas()}
    present = {key.lower() for key in body}
    body["schemas"] = [
        urn for urn in schemas if not isinstance(urn, str) or urn.lower() in known or urn.lower() in present
    ]
    return body


_REQUIRED_KEYS = frozenset({"username", "displayname", "schemas"})


def _drop_empty_strings(body: dict[str, Any], top: bool = True) -> dict[str, Any]:
    """``"middleName": ""`` (Okta read-back, Entra clearing) means "no value", so nothing is stored.

    Required attributes keep their empty string, so that validation still refuses an empty ``userName``. The
    elements of a multi-valued attribute are cleaned too: a OneLogin template renders a user without a work phone
    as ``{"value": "", "type": "work"}``, an element with no value (dropped when stored,
    app/directory/empty_elements.py), not an invalid e-mail address or an empty phone number.
    """
    cleaned: dict[str, Any] = {}
    for key, value in body.items():
        if value == "" and not (top and key.lower() in _REQUIRED_KEYS):
            continue
        if isinstance(value, dict):
            value = _drop_empty_strings(value, top=False)
        elif isinstance(value, list):
            value = [_drop_empty_strings(item, top=False) if isinstance(item, dict) else item for item in value]
        cleaned[key] = value
    return cleaned


def _drop_null_refs(value: Any) -> Any:
    """``"$ref": null`` (Entra, OneLogin) means "no reference", not an invalid reference."""
    if isinstance(value, dict):
        return {k: _drop_null_refs(v) for k, v in value.items() if not (k == "$ref" and v is None)}
    if isinstance(value, list):
        return [_drop_null_refs(item) for item in value]
    return value


def _manager_value(value: Any) -> dict[str, Any] | None:
    """A manager may arrive as a bare id string, or an object without ``$ref``."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # Microsoft's tutorial sends the manager as a one-element array
    if value is None or value == "" or value == {} or value == []:
        return None
    if isinstance(value, str):
        value = {"value": value}
    if isinstance(value, dict):
        if not value.get("value"):
            return None
        # A client $ref points into the IdP's own API; the reference that means something here is ours.
        value = {**value, "$ref": f"../Users/{value['value']}"}
    return value


def normalise_patch(resource_type: str, body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Tolerances for PATCH bodies; ``current`` is the resource as stored (to decide add-vs-append)."""
    body = _drop_null_refs(copy.deepcopy(body))
    if "Operations" not in body and isinstance(body.get("operations"), list):
        body["Operations"] = body.pop("operations")
    operations = body.get("Operations")
    if not isinstance(operations, list):
        return body
    rewritten: list[Any] = []
    working = copy.deepcopy(current)  # elements appended by earlier operations of this request count as present
    for operation in operations:
        for result in _normalise_operation(resource_type, operation, working):
            rewritten.append(result)
            _note_appended_elements(result, working)
    body["Operations"] = rewritten
    return body


def _note_appended_elements(operation: Any, working: dict[str, Any]) -> None:
    if not isinstance(operation, dict) or operation.get("op") != "add" or not isinstance(operation.get("value"), list):
        return
    path = operation.get("path")
    if isinstance(path, str) and "[" not in path and "." not in path and ":" not in path:
        working.setdefault(path, [])
        if isinstance(working[path], list):
            working[path].extend(operation["value"])


def qualify_path(resource_type: str, path: str) -> str:
    """``manager`` or ``department.x`` → the enterprise URN form, when only an extension defines the name."""
    if path.lower().startswith("urn:"):
        return path
    schema = schema_for(resource_type)
    head = path.split("[", 1)[0].split(".", 1)[0].lower()
    if head in schema.attributes[schema.core] or head in ("id", "externalid", "meta", "schemas"):
        return path
    owners = [urn for urn in schema.extensions if head in schema.attributes[urn]]
    return f"{owners[0]}:{path}" if len(owners) == 1 else path


def _normalise_operation(resource_type: str, operation: Any, current: dict[str, Any]) -> list[Any]:
    if not isinstance(operation, dict):
        return [operation]
    operation = {(k.lower() if k.lower() in ("op", "path", "value") else k): v for k, v in operation.items()}
    op = str(operation.get("op", "")).lower()
    operation["op"] = op
    path = operation.get("path")
    if isinstance(path, str):
        path = operation["path"] = qualify_path(resource_type, path.strip())
    value = operation.get("value")
    if resource_type == "Group" and _names_members(path):
        value = operation["value"] = canonical_members(value)
    elif resource_type == "Group" and path is None and isinstance(value, dict):
        value = operation["value"] = {k: canonical_members(v) if _names_members(k) else v for k, v in value.items()}

    if resource_type == "User" and isinstance(path, str) and path.lower() in _MANAGER_PATHS:
        manager = _manager_value(value)
        if manager is None and op in ("replace", "add"):
            return [{"op": "remove", "path": path}]  # Entra clears the manager with an empty value
        operation["value"] = manager
        return [operation]

    if op in ("add", "replace") and isinstance(path, str) and value == "" and not _is_required(resource_type, path):
        # Entra clears an attribute by replacing it with "" (rows 9 and 13 of docs/idp-tolerances.md).
        return [{"op": "remove", "path": path}]

    if op == "remove" and isinstance(path, str) and isinstance(value, list) and "[" not in path:
        # Entra/Okta: {"op":"remove","path":"members","value":[{"value":"id"}]} removes just those values.
        selectors = [item.get("value") for item in value if isinstance(item, dict) and item.get("value")]
        if selectors:
            return [{"op": "remove", "path": f"{path}[value eq {_quote(v)}]"} for v in selectors]

    if op in ("add", "replace") and isinstance(path, str) and "[" in path:
        created = _create_missing_element(resource_type, path, value, current)
        if created is not None:
            return [created]

    if op in ("add", "replace") and path is None and isinstance(value, dict):
        operation["value"] = _path_less_value(resource_type, value, current.get("id"))
    elif (
        op in ("add", "replace")
        and isinstance(value, str)
        and value.lower() in _BOOL_STRINGS
        and _is_boolean_path(resource_type, path)
    ):
        operation["value"] = _BOOL_STRINGS[value.lower()]
    return [operation]


def _quote(value: Any) -> str:
    import json

    return json.dumps(str(value))


def _is_required(resource_type: str, path: str) -> bool:
    return path.split("[", 1)[0].lower() in ("username", "displayname")


def _is_boolean_path(resource_type: str, path: Any) -> bool:
    if not isinstance(path, str) or "[" in path:
        return False
    uri, _, rest = path.rpartition(":") if path.lower().startswith("urn:") else ("", "", path)
    attr, _, sub = rest.partition(".")
    resolved = schema_for(resource_type).resolve(uri or None, attr, sub or None)
    return resolved is not None and resolved.leaf.type == "boolean"


def _path_less_value(resource_type: str, value: dict[str, Any], resource_id: Any) -> dict[str, Any]:
    """Path-less replace values: booleans as strings, manager as a string, ``id`` echoed back."""
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if key.lower() == "id":
            if item != resource_id:
                raise ScimError(400, "'id' is readOnly and differs from the resource's id.", "mutability")
            continue  # Okta echoes the resource's own id in a group rename; it changes nothing
        key = qualify_path(resource_type, key)
        if isinstance(item, str) and item.lower() in _BOOL_STRINGS and _is_boolean_path(resource_type, key):
            item = _BOOL_STRINGS[item.lower()]
        if resource_type == "User" and key.lower() in _MANAGER_PATHS:
            item = _manager_value(item)
        if resource_type == "User" and key.lower() == ENTERPRISE_SCHEMA.lower() and isinstance(item, dict):
            item = {k: (_manager_value(v) if k.lower() == "manager" else v) for k, v in item.items()}
        cleaned[key] = item
    return cleaned


def _create_missing_element(resource_type: str, path: str, value: Any, current: dict[str, Any]) -> Any:
    """``emails[type eq "work"].value`` with no such element: Entra means "set the work e-mail".

    Only a single ``eq`` selector followed by a sub-attribute qualifies; the element is appended with
    the selector's value, so nothing existing is replaced or dropped.
    """
    head, _, tail = path.partition("]")
    if not tail.startswith(".") or "[" in tail:
        return None
    try:
        node = parse(head.split("[", 1)[0] + "[" + head.split("[", 1)[1] + "]")
    except Exception:
        return None
    if not isinstance(node, ValuePath) or not isinstance(node.val_filter, Comparison):
        return None
    selector = node.val_filter
    if selector.op != CompareOperator.eq or selector.attr_path.uri or selector.attr_path.sub_attr:
        return None
    attribute = node.attr_path.attr
    resolved = schema_for(resource_type).resolve(node.attr_path.uri, attribute, None)
    if resolved is None or not resolved.top.multi_valued:
        return None
    key, sub = selector.attr_path.attr, tail[1:]
    if any(schema_for(resource_type).resolve(node.attr_path.uri, attribute, name) is None for name in (key, sub)):
        return None  # not a sub-attribute of it: the library refuses the path (invalidPath), nothing is created
    existing = _find_attribute(current, resolved.top.name, node.attr_path.uri) or []
    for element in existing:
        if isinstance(element, dict) and str(element.get(key, "")).lower() == str(selector.value).lower():
            return None  # the element exists: the library applies the operation as written
    target = f"{node.attr_path.uri}:{attribute}" if node.attr_path.uri else attribute
    return {"op": "add", "path": target, "value": [{key: selector.value, sub: value}]}


def _find_attribute(document: dict[str, Any], name: str, uri: str | None) -> Any:
    container = document.get(uri, {}) if uri else document
    for key, value in container.items():
        if key.lower() == name.lower():
            return value
    return None
