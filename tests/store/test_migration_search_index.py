"""Migration 0017: a vault made by revision 0016 keeps every index row, now keyed by the resource's number, with
the value as sent kept only where comparisons are case-exact; every kind of lookup still finds the same people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.directory.query import QueryParams, search
from app.erasure.references import referrers
from app.scim.service import ScimService
from app.store import migrate
from app.store.vault import Vault
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, PASSPHRASE, USER_SCHEMA, new_user
from tests.policy_support import hold_everything
from tests.store.old_vaults import engine_at

BASE = "https://scim.test/scim/v2"
MANAGER = f"{ENTERPRISE.lower()}:manager"
# (id, userName, work e-mail, title, manager id) as revision 0016 stored them.
PEOPLE = [
    ("b0ss-0000", "Boss@Example.org", "Boss@Example.org", "Director", None),
    ("a1ce-0001", "alice@example.org", "Alice.W@Example.org", "Engineer", "b0ss-0000"),
    ("b0b0-0002", "bob@example.org", "bob.w@example.org", None, "b0ss-0000"),
]


def _rows_0016(resource_id: str, mail: str, title: str | None, manager: str | None) -> list[dict[str, Any]]:
    """The index rows 0016 wrote: value_str always, the id repeated in each row."""
    rows = [("emails", 1, None), ("emails.value", 1, mail), ("emails.type", 1, "work")]
    if title:
        rows.append(("title", 0, title))
    if manager:
        rows.append((f"{MANAGER}.value", 0, manager))
    return [
        {"rid": resource_id, "p": path, "e": element, "s": value, "ci": None if value is None else value.lower()}
        for path, element, value in rows
    ]


def _vault_at_0016(data_dir: Path) -> None:
    engine = engine_at(data_dir, "0016")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for resource_id, user_name, mail, title, manager in PEOPLE:
            document: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": user_name}
            document["emails"] = [{"value": mail, "type": "work"}]
            if title:
                document["title"] = title
            if manager:
                document["schemas"].append(ENTERPRISE)
                document[ENTERPRISE] = {"manager": {"value": manager}}
            conn.execute(
                text(
                    "INSERT INTO scim_resources (id, resource_type, user_name, user_name_ci, document, version, "
                    "created, modified) VALUES (:id, 'User', :name, :ci, :doc, 1, :at, :at)"
                ),
                {"id": resource_id, "name": user_name, "ci": user_name.lower(), "doc": json.dumps(document), "at": now},
            )
            conn.execute(
                text(
                    "INSERT INTO attribute_values (resource_id, path, element, value_str, value_ci) "
                    "VALUES (:rid, :p, :e, :s, :ci)"
                ),
                _rows_0016(resource_id, mail, title, manager),
            )
        group = {"schemas": [GROUP_SCHEMA], "displayName": "Team"}
        conn.execute(
            text(
                "INSERT INTO scim_resources (id, resource_type, display_name, display_name_ci, document, version, "
                "created, modified) VALUES ('9r0u-0003', 'Group', 'Team', 'team', :doc, 1, :at, :at)"
            ),
            {"doc": json.dumps(group), "at": now},
        )
        conn.execute(text("INSERT INTO group_members VALUES ('9r0u-0003', 'a1ce-0001', 'User')"))
    engine.dispose()


def _ids(vault: Vault, expression: str, **extra: Any) -> list[str]:
    page = search(vault, None, BASE, ("User",), QueryParams(filter=expression, **extra))
    return [resource["id"] for resource in page["Resources"]]


def test_a_0016_vault_keeps_its_index_rows_under_resource_numbers(data_dir: Path) -> None:
    _vault_at_0016(data_dir)
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
        with vault.engine.connect() as conn:
            numbers = dict(conn.execute(text("SELECT id, rid FROM scim_resources")).all())
            rows = conn.execute(
                text(
                    "SELECT r.id, p.path, a.element, a.value_str, a.value_ci FROM attribute_values a "
                    "JOIN scim_resources r ON r.rid = a.rid JOIN attribute_paths p ON p.code = a.code"  # 0018: codes
                )
            ).all()
        assert None not in numbers.values() and len(set(numbers.values())) == len(numbers) == 4
        before = {(r["rid"], r["p"], r["e"], r["ci"]) for p in PEOPLE for r in _rows_0016(p[0], *p[2:])}
        assert {(row[0], row[1], row[2], row[4]) for row in rows} == before  # not one row lost or changed
        kept = {(row[0], row[1]): row[3] for row in rows}
        # case-insensitive attributes drop the value as sent; manager.value is case-exact and keeps it
        assert kept[("a1ce-0001", "emails.value")] is None and kept[("a1ce-0001", "title")] is None
        assert kept[("a1ce-0001", f"{MANAGER}.value")] == "b0ss-0000"

        assert _ids(vault, 'emails[type eq "work"].value eq "alice.w@example.org"') == ["a1ce-0001"]
        assert _ids(vault, '(emails[type eq "WORK"].value eq "ALICE.W@example.org")') == ["a1ce-0001"]
        assert _ids(vault, 'title sw "eng"') == ["a1ce-0001"]
        assert _ids(vault, f'{ENTERPRISE}:manager.value eq "b0ss-0000"') == ["a1ce-0001", "b0b0-0002"]
        assert _ids(vault, f'{ENTERPRISE}:manager.value eq "B0SS-0000"') == []  # still case-exact
        assert _ids(vault, "title pr", sort_by="title", sort_order="descending") == ["a1ce-0001", "b0ss-0000"]
        with vault.read_connection() as conn:
            assert referrers(conn, "b0ss-0000") == ["a1ce-0001", "b0b0-0002"]

        hold_everything(vault)
        service = ScimService(vault, BASE)
        try:  # a resource written after the migration gets the next number, and is found the same way
            body = new_user("carol@example.org", title="Engineer", emails=[{"value": "c@example.org", "type": "work"}])
            carol = service.create("User", body).body["id"]  # type: ignore[index]
            assert _ids(vault, 'title eq "engineer"') == sorted(["a1ce-0001", carol])
            with vault.engine.connect() as conn:
                assert conn.execute(text("SELECT rid FROM scim_resources WHERE id = :i"), {"i": carol}).scalar() == 5
            team = service.get("Group", "9r0u-0003").body
            assert [member["value"] for member in team["members"]] == ["a1ce-0001"]  # type: ignore[index]
            service.delete("User", "a1ce-0001")  # its index rows go with it (the foreign key on the number)
        finally:
            service.close()
        with vault.engine.connect() as conn:
            orphans = conn.execute(
                text("SELECT count(*) FROM attribute_values WHERE rid NOT IN (SELECT rid FROM scim_resources)")
            ).scalar()
        assert orphans == 0 and _ids(vault, 'title sw "eng"') == [carol]
    finally:
        vault.close()
