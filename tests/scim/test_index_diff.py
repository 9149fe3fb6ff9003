"""An update rewrites only the index rows whose values changed: the others keep their row (same id), so their pages
are not secure-deleted, re-encrypted and written again; and what the filters find is the same as after a rewrite."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.scim.query import QueryParams, search
from app.scim.service import ScimService
from app.store.models import AttributeValue
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


def index_rows(vault: Vault, resource_id: str) -> dict[int, tuple[Any, ...]]:
    with vault.read_connection() as conn:
        rows = conn.execute(
            select(AttributeValue.id, AttributeValue.path, AttributeValue.element, AttributeValue.value_ci).where(
                AttributeValue.resource_id == resource_id
            )
        )
        return {row_id: (path, element, value) for row_id, path, element, value in rows}


@pytest.fixture
def service(module_vault: Vault) -> ScimService:
    return ScimService(module_vault, BASE)


def created(service: ScimService, user_name: str) -> str:
    response = service.create("User", person(user_name))
    assert response.status == 201 and response.body is not None
    # another user after it, so rows deleted and inserted again could not reuse the same ids
    assert service.create("User", person(f"after.{user_name}")).status == 201
    return str(response.body["id"])


def test_replace_active_touches_no_index_row(service: ScimService, module_vault: Vault) -> None:
    uid = created(service, "diff-active@example.com")
    before = index_rows(module_vault, uid)
    assert before  # the user has indexed attributes (name, emails, title)
    response = service.patch("User", uid, patch_body({"op": "replace", "path": "active", "value": False}))
    assert response.status == 200 and response.body is not None and response.body["active"] is False
    assert index_rows(module_vault, uid) == before


def test_a_changed_attribute_rewrites_its_rows_only(service: ScimService, module_vault: Vault) -> None:
    uid = created(service, "diff-title@example.com")
    before = index_rows(module_vault, uid)
    service.patch("User", uid, patch_body({"op": "replace", "path": "title", "value": "Principal"}))
    after = index_rows(module_vault, uid)
    kept = {row_id: row for row_id, row in before.items() if row[0] != "title"}
    assert {row_id: row for row_id, row in after.items() if row[0] != "title"} == kept
    assert [row for row in after.values() if row[0] == "title"] == [("title", 0, "principal")]
    assert not set(after) & {row_id for row_id, row in before.items() if row[0] == "title"}
    found = search(module_vault, None, BASE, ("User",), QueryParams(filter='title eq "Principal"'))
    assert [resource["id"] for resource in found["Resources"]] == [uid]
    assert (
        search(module_vault, None, BASE, ("User",), QueryParams(filter=f'title eq "Engineer" and id eq "{uid}"'))[
            "totalResults"
        ]
        == 0
    )


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
    rows = sorted(index_rows(module_vault, uid).values(), key=lambda row: (row[0], row[1]))
    assert len(rows) == len(set(rows))
