"""Clearing references to an erased subject held in other resources' documents.

A user's ``manager`` (enterprise extension) names another user by SCIM id (``value``, ``$ref``) and often by name
(``displayName``). Once that user is erased, the reference is the erased person's identifier kept in someone
else's record, served back by the endpoint and sent to targets. The whole reference goes (its ``displayName`` is
the erased person's name too); the referring resource is updated like any other change: new version, index rows
rewritten, on the trail and queued for every target, in the erasure's transaction. Group memberships are
relational and go with the subject's row (ON DELETE CASCADE); the groups are queued again by app/erasure/local.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

from app.audit.trail import Event, append
from app.directory import repository as repo
from app.directory.indexing import REFERENCED_ID
from app.directory.schema import ENTERPRISE_SCHEMA
from app.feed import outbox
from app.store.fastsql import FastStatement
from app.store.models import AttributeValue, ScimResource, path_code

ACTOR = "system:erasure"
_AV = AttributeValue.__table__
_R = ScimResource.__table__
_MANAGER = f"{ENTERPRISE_SCHEMA.lower()}:manager"
# Index rows are the way in, each branch an equality search on the (code, value_ci) index: the id in
# ``manager.value``, or the id a ``manager.$ref`` URI ends in (its own index row, app/directory/indexing.py). A
# search for the URI's ending (LIKE '%/id') read every manager's row on every DELETE: 20 ms at 10,000 users.
_REFERRERS = FastStatement(
    select(_R.c.id)
    .join(_AV, _AV.c.rid == _R.c.rid)  # index rows name resources by number
    .where(
        or_(
            and_(_AV.c.code == path_code(f"{_MANAGER}.value"), _AV.c.value_ci == bindparam("rid_ci")),
            and_(_AV.c.code == path_code(f"{_MANAGER}.$ref{REFERENCED_ID}"), _AV.c.value_ci == bindparam("rid_ci")),
        ),
        _AV.c.value_str == bindparam("rid"),  # ids are case-exact; value_ci only finds the index entries
        _R.c.id != bindparam("rid"),
    )
    .distinct()
)


def referrers(conn: Connection, resource_id: str) -> list[str]:
    """Ids of the resources whose documents name ``resource_id`` (as manager)."""
    found = _REFERRERS.all(conn, {"rid": resource_id, "rid_ci": resource_id.lower()})
    return sorted(str(rid) for (rid,) in found)


def _names(reference: Any, resource_id: str) -> bool:
    if not isinstance(reference, dict):
        return reference == resource_id  # a bare id string, as some IdPs send it
    ref = reference.get("$ref")
    by_ref = isinstance(ref, str) and ref.rstrip("/").endswith(f"/{resource_id}")
    return reference.get("value") == resource_id or by_ref


def without_reference(document: dict[str, Any], resource_id: str) -> dict[str, Any] | None:
    """The document with every reference to ``resource_id`` removed; None when it holds none."""
    extension = document.get(ENTERPRISE_SCHEMA)
    if not isinstance(extension, dict) or not _names(extension.get("manager"), resource_id):
        return None
    kept = {name: value for name, value in extension.items() if name != "manager"}
    cleaned = {**document, ENTERPRISE_SCHEMA: kept}
    if not kept:  # an empty extension is no extension: drop it and its schema URI
        del cleaned[ENTERPRISE_SCHEMA]
        schemas = cleaned.get("schemas")
        if isinstance(schemas, list):
            cleaned["schemas"] = [urn for urn in schemas if urn != ENTERPRISE_SCHEMA]
    return cleaned


def clear(conn: Connection, resource_id: str, now: datetime | None = None) -> int:
    """Remove references to ``resource_id`` from every other User, in the caller's transaction; returns how many
    resources changed. Each change is recorded and queued for the targets like an IdP's update."""
    moment = now or datetime.now(UTC)
    changed = 0
    for referrer in referrers(conn, resource_id):
        row = repo.load(conn, "User", referrer)
        if row is None:
            continue
        cleaned = without_reference(json.loads(row.document), resource_id)
        if cleaned is None:  # the index named it but the document does not (e.g. a $ref to another server)
            continue
        repo.update_resource(conn, row, cleaned, moment)
        details = {"resource_type": "User", "attributes": ["manager"], "cause": "reference to an erased subject"}
        append(conn, Event("scim.resource.updated", ACTOR, subject=referrer, details=details))
        outbox.enqueue(conn, "User", referrer, "upsert", moment)
        changed += 1
    return changed
