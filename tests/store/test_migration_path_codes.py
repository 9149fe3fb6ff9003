"""Migration 0018: a vault made by revision 0017 keeps every index row, now naming its path by a code, every
document, now stored packed, and every time, now a number; every kind of lookup finds the same people, and a
downgrade gives the text back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.directory.query import QueryParams, search
from app.erasure.references import referrers
from app.scim.service import ScimService
from app.store import engine as sqlcipher_engine
from app.store import migrate
from app.store.vault import Vault, vault_path
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, PASSPHRASE, USER_SCHEMA, new_user
from tests.policy_support import hold_everything
from tests.store.old_vaults import downgrade_to, engine_at

BASE = "https://scim.test/scim/v2"
MANAGER = f"{ENTERPRISE.lower()}:manager"
# (id, rid, userName, work e-mail, title, manager id) as revision 0017 stored them.
PEOPLE = [
    ("b0ss-0000", 1, "Boss@Example.org", "Boss@Example.org", "Director", None),
    ("a1ce-0001", 2, "alice@example.org", "Alice.W@Example.org", "Engineer", "b0ss-0000"),
    ("b0b0-0002", 3, "bob@example.org", "bob.w@example.org", None, "b0ss-0000"),
]


def _rows_0017(rid: int, mail: str, title: str | None, manager: str | None) -> list[dict[str, Any]]:
    """The index rows 0017 wrote: the path's text in each, value_str only where case-exact."""
    rows: list[tuple[str, int, str | None, str | None]] = [
        ("emails", 1, None, None),
        ("emails.value", 1, None, mail.lower()),
        ("emails.type", 1, None, "work"),
    ]
    if title:
        rows.append(("title", 0, None, title.lower()))
    if manager:
        rows.append((f"{MANAGER}.value", 0, manager, manager.lower()))
    return [{"rid": rid, "p": path, "e": element, "s": exact, "ci": folded} for path, element, exact, folded in rows]


def _document(user_name: str, mail: str, title: str | None, manager: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": user_name}
    document["emails"] = [{"value": mail, "type": "work"}]
    if title:
        document["title"] = title
    if manager:
        document["schemas"].append(ENTERPRISE)
        document[ENTERPRISE] = {"manager": {"value": manager}}
    return document


def _vault_at_0017(data_dir: Path) -> None:
    engine = engine_at(data_dir, "0017")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for resource_id, rid, user_name, mail, title, manager in PEOPLE:
            conn.execute(
                text(
                    "INSERT INTO scim_resources (id, rid, resource_type, user_name, user_name_ci, document, version, "
                    "created, modified) VALUES (:id, :rid, 'User', :name, :ci, :doc, 1, :at, :at)"
                ),
                {
                    "id": resource_id,
                    "rid": rid,
                    "name": user_name,
                    "ci": user_name.lower(),
                    "doc": json.dumps(_document(user_name, mail, title, manager)),
                    "at": now,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO attribute_values (rid, path, element, value_str, value_ci) "
                    "VALUES (:rid, :p, :e, :s, :ci)"
                ),
                _rows_0017(rid, mail, title, manager),
            )
        group = {"schemas": [GROUP_SCHEMA], "displayName": "Team"}
        conn.execute(
            text(
                "INSERT INTO scim_resources (id, rid, resource_type, display_name, display_name_ci, document, "
                "version, created, modified) VALUES ('9r0u-0003', 4, 'Group', 'Team', 'team', :doc, 1, :at, :at)"
            ),
            {"doc": json.dumps(group), "at": now},
        )
        conn.execute(text("INSERT INTO group_members VALUES ('9r0u-0003', 'a1ce-0001', 'User')"))
    engine.dispose()


def _ids(vault: Vault, expression: str, **extra: Any) -> list[str]:
    page = search(vault, None, BASE, ("User",), QueryParams(filter=expression, **extra))
    return [resource["id"] for resource in page["Resources"]]


_VALUES = "element, value_str, value_ci"
_ROWS = (
    "SELECT a.rid, p.path, a.element, a.value_str, a.value_ci FROM attribute_values a "
    "JOIN attribute_paths p ON p.code = a.code"
)


def test_a_0017_vault_keeps_its_index_rows_under_path_codes_and_its_documents_packed(data_dir: Path) -> None:
    _vault_at_0017(data_dir)
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
        with vault.engine.connect() as conn:
            rows = {tuple(row) for row in conn.execute(text(_ROWS))}
            paths = conn.execute(text("SELECT path FROM attribute_paths")).scalars().all()
            kinds = set(conn.execute(text("SELECT typeof(document) FROM scim_resources")).scalars())
            times = set(conn.execute(text("SELECT typeof(created) || typeof(modified) FROM scim_resources")).scalars())
            free = conn.execute(text("PRAGMA freelist_count")).scalar()  # the old tables' pages went back (VACUUM)
            raw: bytes = conn.execute(text("SELECT document FROM scim_resources WHERE id = 'a1ce-0001'")).scalar_one()
        before = {(r["rid"], r["p"], r["e"], r["s"], r["ci"]) for p in PEOPLE for r in _rows_0017(p[1], *p[3:])}
        assert rows == before  # not one row lost or changed
        assert sorted(paths) == sorted({row[1] for row in before})  # one code per path
        assert times == {"integerinteger"} and free == 0
        assert kinds == {"blob"} and b"Alice" not in raw and len(raw) < len(json.dumps(_document(*PEOPLE[1][2:])))

        assert _ids(vault, 'emails[type eq "work"].value eq "alice.w@example.org"') == ["a1ce-0001"]
        assert _ids(vault, '(emails[type eq "WORK"].value eq "ALICE.W@example.org")') == ["a1ce-0001"]
        assert _ids(vault, 'title sw "eng"') == ["a1ce-0001"]
        assert _ids(vault, "emails pr") == ["a1ce-0001", "b0b0-0002", "b0ss-0000"]
        assert _ids(vault, f'{ENTERPRISE}:manager.value eq "b0ss-0000"') == ["a1ce-0001", "b0b0-0002"]
        assert _ids(vault, f'{ENTERPRISE}:manager.value eq "B0SS-0000"') == []  # still case-exact
        assert _ids(vault, "title pr", sort_by="title", sort_order="descending") == ["a1ce-0001", "b0ss-0000"]
        assert len(_ids(vault, 'meta.lastModified ge "2026-06-01T00:00:00Z"')) == 3  # the times, now numbers
        assert _ids(vault, 'meta.created gt "2026-06-01T00:00:00Z"') == []
        with vault.read_connection() as conn:
            assert referrers(conn, "b0ss-0000") == ["a1ce-0001", "b0b0-0002"]

        hold_everything(vault)
        service = ScimService(vault, BASE)
        try:
            alice = service.get("User", "a1ce-0001").body  # the packed document, served as it was stored
            assert alice["emails"] == [{"value": "Alice.W@Example.org", "type": "work"}]  # type: ignore[index]
            assert alice[ENTERPRISE]["manager"]["value"] == "b0ss-0000"  # type: ignore[index]
            assert alice["meta"]["created"] == "2026-06-01T00:00:00.000000Z"  # type: ignore[index]
            # a path no row had yet gets its code on first use, and is found the same way
            body = new_user("carol@example.org", title="Engineer", phoneNumbers=[{"value": "+1 555", "type": "work"}])
            carol = service.create("User", body).body["id"]  # type: ignore[index]
            assert _ids(vault, 'phoneNumbers[type eq "work"].value eq "+1 555"') == [carol]
            assert _ids(vault, 'title eq "engineer"') == sorted(["a1ce-0001", carol])
            team = service.get("Group", "9r0u-0003").body
            assert [member["value"] for member in team["members"]] == ["a1ce-0001"]  # type: ignore[index]
            service.delete("User", "a1ce-0001")  # its index rows go with it (the foreign key on the number)
        finally:
            service.close()
        with vault.engine.connect() as conn:
            orphans = conn.execute(
                text("SELECT count(*) FROM attribute_values WHERE rid NOT IN (SELECT rid FROM scim_resources)")
            ).scalar()
            codes = conn.execute(text("SELECT count(*), count(DISTINCT path) FROM attribute_paths")).one()
        assert orphans == 0 and _ids(vault, 'title sw "eng"') == [carol]
        assert codes[0] == codes[1] > len(paths)  # the new paths were added once each

        downgrade_to(vault.engine, "0017")  # and back: the rows under their path's text, the documents as JSON text
        with vault.engine.connect() as conn:
            kept = {tuple(row) for row in conn.execute(text(f"SELECT rid, path, {_VALUES} FROM attribute_values"))}
            documents: dict[str, str] = dict(conn.execute(text("SELECT id, document FROM scim_resources")).all())
            created = conn.execute(text("SELECT created FROM scim_resources WHERE id = 'b0ss-0000'")).scalar()
        assert {row for row in before if row[0] != 2} <= kept
        assert json.loads(documents["b0ss-0000"]) == _document(*PEOPLE[0][2:])
        assert created == "2026-06-01 00:00:00.000000"  # SQLAlchemy's DATETIME text again
    finally:
        vault.close()


def test_the_pages_the_upgrade_freed_are_given_back(data_dir: Path) -> None:
    """Without a VACUUM after the upgrade, the old index table's pages would stay in the file, free: an upgraded
    vault would be as large as before however much smaller its new layout is."""
    _vault_at_0017(data_dir)
    path = vault_path(data_dir)
    key, salt = Vault.derive_key(data_dir, PASSPHRASE), sqlcipher_engine.read_salt(path)
    engine = sqlcipher_engine.make_engine(path, key, salt)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:  # 600 more users' index rows, as 0017 wrote them
        for rid in range(10, 610):
            conn.execute(
                text(
                    "INSERT INTO scim_resources (id, rid, resource_type, user_name, user_name_ci, document, version, "
                    "created, modified) VALUES (:id, :rid, 'User', :id, :id, '{}', 1, :at, :at)"
                ),
                {"id": f"filler-{rid}", "rid": rid, "at": now},
            )
            conn.execute(
                text("INSERT INTO attribute_values (rid, path, element, value_ci) VALUES (:rid, :p, :e, :ci)"),
                _rows_0017(rid, f"filler-{rid}@example.org", "Engineer", None),
            )
    engine.dispose()  # the last connection closed checkpoints the WAL into the file
    before = path.stat().st_size
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with vault.engine.connect() as conn:
            assert conn.execute(text("PRAGMA freelist_count")).scalar() == 0
        assert _ids(vault, 'emails.value eq "filler-42@example.org"') == ["filler-42"]
    finally:
        vault.close()
    assert path.stat().st_size < before
