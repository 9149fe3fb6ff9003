"""A manager's ``$ref`` only where the manager is a User here.

RFC 7643 §4.3: ``manager.$ref`` is "the URI of the SCIM resource representing the User's manager". The IdP's
tolerances (docs/idp-tolerances.md rows 6-8) derive it from ``value``; but OneLogin fills ``value`` with its own
manager id and an IdP may name a manager it never provisioned here, and the answer then pointed at
``/Users/<that id>``, a URL that is 404. ``value`` is kept as the IdP sent it; ``$ref`` is kept only when it leads
somewhere. Ids are assigned by this server, so an id unknown now never becomes a User later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from app.directory import repository as repo
from app.directory.schema import ENTERPRISE_SCHEMA


def with_reachable_manager(conn: Connection, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its manager's ``$ref`` dropped when ``value`` is not the id of a User in the vault."""
    extension = document.get(ENTERPRISE_SCHEMA)
    if not isinstance(extension, dict):
        return document
    manager = extension.get("manager")
    if not isinstance(manager, dict) or "$ref" not in manager:
        return document
    value = manager.get("value")
    if isinstance(value, str) and repo.existing_types(conn, [value]).get(value) == "User":
        return document
    unreferenced = {key: item for key, item in manager.items() if key != "$ref"}
    return {**document, ENTERPRISE_SCHEMA: {**extension, "manager": unreferenced}}
