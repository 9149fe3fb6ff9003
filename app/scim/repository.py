"""Reading and writing SCIM resources in the mirror (SQLAlchemy sessions in, plain dicts out)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.scim.indexing import index_rows
from app.scim.schema import ENTERPRISE_SCHEMA, ResourceSchema, schema_for
from app.store.models import AttributeValue, GroupMember, ScimResource

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def etag(row: ScimResource) -> str:
    return f'W/"{row.version}"'


def columns_from(resource_type: str, document: dict[str, Any]) -> dict[str, Any]:
    user_name = document.get("userName") if resource_type == "User" else None
    display_name = document.get("displayName")
    return {
        "user_name": user_name,
        "user_name_ci": user_name.lower() if isinstance(user_name, str) else None,
        "display_name": display_name,
        "display_name_ci": display_name.lower() if isinstance(display_name, str) else None,
        "external_id": document.get("externalId"),
        "active": document.get("active") if resource_type == "User" else None,
    }


def write_index(session: Session, schema: ResourceSchema, resource_id: str, document: dict[str, Any]) -> None:
    session.execute(delete(AttributeValue).where(AttributeValue.resource_id == resource_id))
    rows = index_rows(resource_id, schema, document)
    if rows:
        for row in rows:
            for column in ("value_str", "value_ci", "value_num", "value_bool"):
                row.setdefault(column, None)
        session.execute(insert(AttributeValue), rows)


def insert_resource(
    session: Session, resource_type: str, resource_id: str, document: dict[str, Any], now: datetime
) -> ScimResource:
    row = ScimResource(
        id=resource_id,
        resource_type=resource_type,
        document=json.dumps(document, separators=(",", ":")),
        version=1,
        created=now,
        modified=now,
        **columns_from(resource_type, document),
    )
    session.add(row)
    session.flush()
    write_index(session, schema_for(resource_type), resource_id, document)
    return row


def update_resource(session: Session, row: ScimResource, document: dict[str, Any], now: datetime) -> None:
    for key, value in columns_from(row.resource_type, document).items():
        setattr(row, key, value)
    row.document = json.dumps(document, separators=(",", ":"))
    row.version += 1
    row.modified = now
    session.flush()
    write_index(session, schema_for(row.resource_type), row.id, document)


def replace_members(session: Session, group_id: str, members: list[tuple[str, str]]) -> None:
    current = {
        member_id: member_type
        for member_id, member_type in session.execute(
            select(GroupMember.member_id, GroupMember.member_type).where(GroupMember.group_id == group_id)
        )
    }
    wanted = dict(members)
    removed = [member_id for member_id in current if member_id not in wanted]
    if removed:
        session.execute(delete(GroupMember).where(GroupMember.group_id == group_id, GroupMember.member_id.in_(removed)))
    added = [
        {"group_id": group_id, "member_id": member_id, "member_type": member_type}
        for member_id, member_type in wanted.items()
        if member_id not in current
    ]
    if added:
        session.execute(insert(GroupMember), added)


def existing_types(session: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(select(ScimResource.id, ScimResource.resource_type).where(ScimResource.id.in_(chunk)))
        found.update({resource_id: resource_type for resource_id, resource_type in rows})
    return found


def load(session: Session, resource_type: str, resource_id: str) -> ScimResource | None:
    row = session.get(ScimResource, resource_id)
    if row is None or row.resource_type != resource_type:
        return None
    return row


def memberships(session: Session, resource_type: str, ids: list[str], base_url: str) -> dict[str, list[dict[str, Any]]]:
    """``members`` of groups, or ``groups`` of users, for a page of resources in one query each."""
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return result
    other = ScimResource
    if resource_type == "Group":
        rows = session.execute(
            select(
                GroupMember.group_id,
                GroupMember.member_id,
                GroupMember.member_type,
                other.display_name,
                other.user_name,
            )
            .join(other, other.id == GroupMember.member_id)
            .where(GroupMember.group_id.in_(ids))
            .order_by(GroupMember.group_id, GroupMember.member_id)
        )
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
        rows = session.execute(
            select(GroupMember.member_id, GroupMember.group_id, other.display_name)
            .join(other, other.id == GroupMember.group_id)
            .where(GroupMember.member_id.in_(ids))
            .order_by(GroupMember.member_id, GroupMember.group_id)
        )
        for member_id, group_id, display in rows:
            entry = {"value": group_id, "$ref": f"{base_url}/Groups/{group_id}", "type": "direct"}
            if display:
                entry["display"] = display
            result[member_id].append(entry)
    return result


def to_scim(row: ScimResource, base_url: str, related: list[dict[str, Any]] | None) -> dict[str, Any]:
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
