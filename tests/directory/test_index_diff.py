"""An update rewrites only the index rows whose values changed: the others are not written at all, so their pages
are not secure-deleted, re-encrypted and written again; and what the filters find is what the document says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.directory.query import QueryParams, search
from app.scim.service import ScimService
from app.store.models import AttributeValue, ScimResource, with_paths
from app.store.vault import Vault
from tests.conftest import new_user, patch_body

BASE = "https://scim.test/scim/v2"


def person(user_name: str) -> dict[str, Any]:
    return new_user(
        user_name,
        name={"givenName": "Ada", "familyName": "Diff"},
        emails=[{"value": user_name, "type": "work", "primary": True}, {"value": f"alt.{user_name}", "type": "home"}],
        title="Engineer",
        active=True,
    )


def index_rows(vault: Vault, resource_id: str) -> set[tuple[Any, ...]]:
    with vault.read_connection() as conn:
        rows = conn.execute(
            with_paths(AttributeValue.element, AttributeValue.value_ci)
            .join(ScimResource, ScimResource.rid == AttributeValue.rid)
            .where(ScimResource.id == resource_id)
        )
        return {tuple(row) for row in rows}


class Writes:
    """Rows written to attribute_values, per kind of statement, while recording.

    SQLite's own statement trace on the write connection, not SQLAlchemy's events: the hot writes run prepared
    on the DB-API cursor (app/store/fastsql.py), and SQLite reports each execution, one per row of an
    ``executemany``.
    """

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def trace(self, statement: str) -> None:
        words = statement.split()
        kind = words[0].upper() if words else ""
        if kind in ("INSERT", "UPDATE", "DELETE") and "attribute_values" in statement.split("WHERE")[0]:
            self.rows[kind] = self.rows.get(kind, 0) + 1


@pytest.fixture
def service(module_vault: Vault) -> ScimService:
    return ScimService(module_vault, BASE)


@pytest.fixture
def writes(module_vault: Vault) -> Iterator[Writes]:
    recorder = Writes()
    with module_vault.writer.connection() as conn:  # every write runs on this one connection, kept open
        driver = conn.connection.driver_connection
    assert driver is not None
    driver.set_trace_callback(recorder.trace)
    yield recorder
    driver.set_trace_callback(None)


def created(service: ScimService, user_name: str) -> str:
    response = service.create("User", person(user_name))
    assert response.status == 201 and response.body is not None
    return str(response.body["id"])


def test_replace_active_writes_no_index_row(service: ScimService, module_vault: Vault, writes: Writes) -> None:
    uid = created(service, "diff-active@example.com")
    assert writes.rows == {"INSERT": len(index_rows(module_vault, uid))}  # the create wrote them, once each
    before, writes.rows = index_rows(module_vault, uid), {}
    response = service.patch("User", uid, patch_body({"op": "replace", "path": "active", "value": False}))
    assert response.status == 200 and response.body is not None and response.body["active"] is False
    assert writes.rows == {}
    assert index_rows(module_vault, uid) == before


def test_a_changed_attribute_rewrites_its_row_only(service: ScimService, module_vault: Vault, writes: Writes) -> None:
    uid = created(service, "diff-title@example.com")
    before, writes.rows = index_rows(module_vault, uid), {}
    service.patch("User", uid, patch_body({"op": "replace", "path": "title", "value": "Principal"}))
    assert writes.rows == {"UPDATE": 1}
    assert index_rows(module_vault, uid) == (before - {("title", 0, "engineer")}) | {("title", 0, "principal")}
    found = search(module_vault, None, BASE, ("User",), QueryParams(filter='title eq "Principal"'))
    assert [resource["id"] for resource in found["Resources"]] == [uid]
    old = QueryParams(filter=f'title eq "Engineer" and id eq "{uid}"')
    assert search(module_vault, None, BASE, ("User",), old)["totalResults"] == 0


def test_removed_and_added_values(service: ScimService, module_vault: Vault, writes: Writes) -> None:
    """Removing the title deletes its row; adding a nickname inserts one; nothing else is written."""
    uid = created(service, "diff-remove@example.com")
    before, writes.rows = index_rows(module_vault, uid), {}
    service.patch(
        "User",
        uid,
        patch_body({"op": "remove", "path": "title"}, {"op": "add", "path": "nickName", "value": "Countess"}),
    )
    assert writes.rows == {"DELETE": 1, "INSERT": 1}
    assert index_rows(module_vault, uid) == (before - {("title", 0, "engineer")}) | {("nickname", 0, "countess")}


def test_swapped_elements_are_indexed_as_stored(service: ScimService, module_vault: Vault) -> None:
    """Two e-mails exchanging their types: rows of equal value move between elements, and value paths still match
    the element each value now belongs to."""
    uid = created(service, "diff-swap@example.com")
    emails = [
        {"value": "diff-swap@example.com", "type": "home"},
        {"value": "alt.diff-swap@example.com", "type": "work", "primary": True},
    ]
    service.patch("User", uid, patch_body({"op": "replace", "path": "emails", "value": emails}))
    work = 'emails[type eq "work"].value eq "alt.diff-swap@example.com"'
    found = search(module_vault, None, BASE, ("User",), QueryParams(filter=work))["Resources"]
    assert [resource["id"] for resource in found] == [uid]
    stale = 'emails[type eq "work"].value eq "diff-swap@example.com"'
    assert search(module_vault, None, BASE, ("User",), QueryParams(filter=stale))["totalResults"] == 0
