"""Resources are served from their stored JSON: GET and list pages splice the stored text with id, meta and the
memberships instead of parsing and re-encoding every document, and say exactly what the parsed path says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.directory import render
from app.directory import repository as repo
from app.directory.cursor_seal import unseal
from app.directory.query import QueryParams, search, search_json
from app.scim.service import ScimService
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, new_user

BASE = "https://scim.test/scim/v2"


@pytest.fixture(scope="module")
def directory(module_vault: Any) -> dict[str, str]:
    service = ScimService(module_vault, BASE)
    ids: dict[str, str] = {}
    boss = service.create("User", new_user("rnd-boss", displayName="Zoë Ünal — 老板"))  # non-ASCII, escaped as stored
    ids["boss"] = boss.body["id"]  # type: ignore[index]
    report = new_user("rnd-report", title='He said "manager"', emails=[{"value": "r@example.org", "type": "work"}])
    report["schemas"] = [report["schemas"][0], ENTERPRISE]  # type: ignore[index]
    report[ENTERPRISE] = {"manager": {"value": ids["boss"]}, "department": "R&D"}
    ids["report"] = service.create("User", report).body["id"]  # type: ignore[index]
    ids["plain"] = service.create("User", new_user("rnd-plain", active=True)).body["id"]  # type: ignore[index]
    group = {"schemas": [GROUP_SCHEMA], "displayName": "Render Team", "members": [{"value": ids["boss"]}]}
    ids["group"] = service.create("Group", group).body["id"]  # type: ignore[index]
    service.close()
    return ids


@pytest.mark.parametrize("name", ["boss", "report", "plain", "group"])
@pytest.mark.parametrize("projection", [{}, {"attributes": "userName,displayName"}, {"excluded": "groups,emails"}])
def test_get_as_bytes_says_what_the_parsed_representation_says(
    module_vault: Any, directory: dict[str, str], name: str, projection: dict[str, str]
) -> None:
    service = ScimService(module_vault, BASE)
    resource_type = "Group" if name == "group" else "User"
    parsed = service.get(resource_type, directory[name], projection.get("attributes"), projection.get("excluded"))
    encoded = service.get_json(resource_type, directory[name], projection.get("attributes"), projection.get("excluded"))
    assert encoded.status == parsed.status == 200 and encoded.headers == parsed.headers
    assert json.loads(encoded.body) == parsed.body


@pytest.mark.parametrize(
    "params",
    [
        QueryParams(filter='userName sw "rnd-"'),
        QueryParams(filter='userName sw "rnd-"', sort_by="userName", sort_order="descending", count=2),
        QueryParams(filter='userName sw "rnd-"', cursor="", count=2),
        QueryParams(filter='displayName eq "Render Team"'),
        QueryParams(filter='userName sw "rnd-"', attributes="userName,groups"),
        QueryParams(count=0),
    ],
)
def test_list_pages_as_bytes_say_what_the_parsed_pages_say(
    module_vault: Any, directory: dict[str, str], params: QueryParams
) -> None:
    types = ("Group",) if params.filter and "Render" in params.filter else ("User",)
    content, returned, total = search_json(module_vault, None, BASE, types, params, clock=lambda: 1e9)
    parsed = search(module_vault, None, BASE, types, params, clock=lambda: 1e9)
    encoded = json.loads(content)
    if "nextCursor" in parsed:  # sealed with a fresh nonce each time: the same position, not the same text
        assert unseal(encoded.pop("nextCursor")) == unseal(parsed.pop("nextCursor"))
    assert encoded == parsed
    assert (returned, total) == (len(parsed["Resources"]), parsed["totalResults"])


def test_the_read_path_does_not_parse_stored_documents(
    module_vault: Any, directory: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a projection, a plain resource never goes through to_scim (json.loads of the document, then the
    encoder); one with a manager (its $ref follows the base URL) or a look-alike name in a value still does."""
    parsed: list[str] = []
    original = repo.to_scim

    def counting(row: repo.StoredResource, *args: Any) -> dict[str, Any]:
        parsed.append(row.id)
        return original(row, *args)

    monkeypatch.setattr(render, "to_scim", counting)
    monkeypatch.setattr(repo, "to_scim", counting)
    service = ScimService(module_vault, BASE)
    for name in ("boss", "plain"):
        assert json.loads(service.get_json("User", directory[name]).body)["id"] == directory[name]
    listing = QueryParams(filter='userName sw "rnd-"')
    content, returned, _total = search_json(module_vault, None, BASE, ("User",), listing)
    assert returned == 3 and len(json.loads(content)["Resources"]) == 3
    assert parsed == [directory["report"]]  # the manager's: once, in the list


@pytest.mark.parametrize("name", ["boss", "report", "plain", "group"])
def test_a_prepared_read_types_the_row_as_sqlalchemy_does(
    module_vault: Any, directory: dict[str, str], name: str
) -> None:
    """load() and a single resource's memberships run prepared on the DB-API cursor (no SQLAlchemy typing): the
    times, ``active`` and the memberships must come back exactly as the typed statements give them."""
    from sqlalchemy import select

    from app.store.models import ScimResource

    resource_id = directory[name]
    resource_type = "Group" if name == "group" else "User"
    with module_vault.read_connection() as conn:
        raw = repo.load(conn, resource_type, resource_id)
        typed = repo.stored(conn.execute(select(*repo._COLUMNS).where(ScimResource.id == resource_id)).one())
        one = repo.memberships(conn, resource_type, [resource_id], BASE)
        other = "plain" if name != "plain" else "boss"
        batched = repo.memberships(conn, resource_type, [resource_id, directory[other]], BASE)
    assert raw == typed
    assert raw is not None and raw.created.tzinfo is None and isinstance(raw.version, int)
    assert raw.active is (True if name == "plain" else None if name == "group" else typed.active)
    assert one.get(resource_id) == batched.get(resource_id)
    if name in ("boss", "group"):  # the group holds the boss: both sides of the membership are read
        assert one[resource_id]
