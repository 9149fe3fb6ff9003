"""Minimisation at the SCIM endpoint, over real HTTPS on a real SQLCipher vault, in reject and strip modes.

After every request the database itself is read: nothing outside the agreed schema may be in a stored document
or in the attribute index, whatever the request looked like.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from app.audit.trail import of_kind
from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.policy.edit import set_outside_schema
from app.policy.versions import default_policy_text
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.models import ScimResource, with_paths
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, PASSPHRASE, LiveServer, new_user, patch_body

# What the default policy holds, as attribute-index paths (lower-cased) and document keys.
# ("emails" is the index's copy of each element's value, for filters such as `emails co "x"`.)
HELD_INDEX_PATHS = {
    "username",
    "externalid",
    "active",
    "displayname",
    "name.givenname",
    "name.familyname",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "title",
    f"{ENTERPRISE.lower()}:department",
}
SECRET_VALUE = "+44 7700 900123"  # a value that must never be stored, echoed or audited


@pytest.fixture(scope="module", params=["reject", "strip"])
def policy_live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"policy-{request.param}")
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    apply_policy(vault, set_outside_schema(default_policy_text(), request.param), "test-setup")
    _, token = TokenStore(vault).create("idp")
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, tls=tls, bus=EventBus())
    server.start()
    live = LiveServer(server, token, tls.cert_path, folder)
    live.mode = request.param  # type: ignore[attr-defined]
    yield live
    server.stop()
    vault.close()


def mode(live: LiveServer) -> str:
    return live.mode  # type: ignore[attr-defined,no-any-return]


def assert_mirror_within_schema(vault: Vault) -> None:
    with vault.read_connection() as conn:
        paths = {row[0] for row in conn.execute(with_paths().distinct())}
        documents = [json.loads(row[0]) for row in conn.execute(select(ScimResource.document))]
    outside = paths - HELD_INDEX_PATHS
    assert not outside, f"attribute index holds {outside}"
    for document in documents:
        assert "phoneNumbers" not in document and "addresses" not in document
        assert "middleName" not in document.get("name", {})
        assert "manager" not in document.get(ENTERPRISE, {})
        assert SECRET_VALUE not in json.dumps(document)


def stored_user_names(vault: Vault) -> set[str]:
    with vault.read_connection() as conn:
        return {
            row[0] for row in conn.execute(select(ScimResource.user_name).where(ScimResource.user_name.is_not(None)))
        }


def audit_details(vault: Vault, kind: str) -> list[dict[str, object]]:
    with vault.read_connection() as conn:
        return [event.details for event in of_kind(conn, kind)]


def check_outcome(live: LiveServer, response: httpx.Response, expect_names: list[str], kind_before: int) -> None:
    vault = live.server.vault
    if mode(live) == "reject":
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["scimType"] == "invalidValue"
        for name in expect_names:
            assert name in body["detail"]
        assert SECRET_VALUE not in response.text
        events = audit_details(vault, "scim.attributes.rejected")
    else:
        assert response.status_code in (200, 201), response.text
        assert SECRET_VALUE not in response.text
        events = audit_details(vault, "scim.attributes.stripped")
    assert len(events) == kind_before + 1
    newest = events[0]
    assert set(expect_names) <= set(newest["attributes"])  # type: ignore[arg-type]
    assert SECRET_VALUE not in json.dumps(events)
    assert_mirror_within_schema(vault)


def events_count(live: LiveServer) -> int:
    kind = "scim.attributes.rejected" if mode(live) == "reject" else "scim.attributes.stripped"
    return len(audit_details(live.server.vault, kind))


def test_post_outside_schema(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        before = events_count(policy_live)
        body = new_user(
            "post-1@example.test",
            phoneNumbers=[{"value": SECRET_VALUE, "type": "work"}],
            name={"givenName": "P", "middleName": "Q"},
        )
        response = http.post("/Users", json=body)
        check_outcome(policy_live, response, ["phoneNumbers", "name.middleName"], before)
        stored = "post-1@example.test" in stored_user_names(policy_live.server.vault)
        assert stored == (mode(policy_live) == "strip")


def test_put_outside_schema(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        created = http.post("/Users", json=new_user("put-1@example.test", emails=[{"value": "put-1@example.test"}]))
        assert created.status_code == 201
        user = created.json()
        before = events_count(policy_live)
        body = new_user(
            "put-1@example.test",
            addresses=[{"postalCode": SECRET_VALUE}],
            **{
                "schemas": [new_user("x")["schemas"][0], ENTERPRISE],
                ENTERPRISE: {"department": "R&D", "manager": {"value": user["id"]}},
            },
        )
        response = http.put(f"/Users/{user['id']}", json=body)
        check_outcome(policy_live, response, ["addresses", f"{ENTERPRISE}:manager"], before)
        current = http.get(f"/Users/{user['id']}").json()
        if mode(policy_live) == "reject":
            assert current["meta"]["version"] == user["meta"]["version"]  # nothing changed
        else:
            assert current[ENTERPRISE] == {"department": "R&D"}


def test_patch_outside_schema(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        user = http.post("/Users", json=new_user("patch-1@example.test")).json()
        before = events_count(policy_live)
        response = http.patch(
            f"/Users/{user['id']}",
            json=patch_body(
                {"op": "add", "path": "phoneNumbers", "value": [{"value": SECRET_VALUE}]},
                {"op": "replace", "path": "title", "value": "Engineer"},
            ),
        )
        check_outcome(policy_live, response, ["phoneNumbers"], before)
        title = http.get(f"/Users/{user['id']}").json().get("title")
        assert title == (None if mode(policy_live) == "reject" else "Engineer")  # reject: the whole PATCH is undone


def test_bulk_outside_schema(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        before = events_count(policy_live)
        response = http.post(
            "/Bulk",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
                    {"method": "POST", "path": "/Users", "bulkId": "ok", "data": new_user("bulk-ok@example.test")},
                    {
                        "method": "POST",
                        "path": "/Users",
                        "bulkId": "bad",
                        "data": new_user("bulk-bad@example.test", nickName=SECRET_VALUE),
                    },
                ],
            },
        )
        assert response.status_code == 200
        results = response.json()["Operations"]
        assert results[0]["status"] == "201"
        names = stored_user_names(policy_live.server.vault)
        assert "bulk-ok@example.test" in names
        if mode(policy_live) == "reject":
            assert results[1]["status"] == "400"
            assert results[1]["response"]["scimType"] == "invalidValue"
            assert "nickName" in results[1]["response"]["detail"]
            assert "bulk-bad@example.test" not in names
            assert len(audit_details(policy_live.server.vault, "scim.attributes.rejected")) == before + 1
        else:
            assert results[1]["status"] == "201"
            assert "bulk-bad@example.test" in names
            assert len(audit_details(policy_live.server.vault, "scim.attributes.stripped")) == before + 1
        assert SECRET_VALUE not in response.text
        assert_mirror_within_schema(policy_live.server.vault)


def test_group_members_follow_the_catalogue(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        user = http.post("/Users", json=new_user("member-1@example.test")).json()
        group = http.post(
            "/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [{"value": user["id"]}]}
        )
        assert group.status_code == 201  # the default policy holds Group members
        assert [m["value"] for m in group.json()["members"]] == [user["id"]]


def test_filter_on_unheld_attribute_is_refused(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        for expression in (
            f'phoneNumbers.value eq "{SECRET_VALUE}"',
            "name.middleName pr",
            'emails[type eq "work" and display co "x"]',
        ):
            response = http.get("/Users", params={"filter": expression})
            assert response.status_code == 400, expression
            assert response.json()["scimType"] == "invalidFilter"
            assert SECRET_VALUE not in response.text
        ok = http.get("/Users", params={"filter": 'emails[type eq "work"].value co "example" and name.givenName pr'})
        assert ok.status_code == 200
        assert http.get("/Users", params={"sortBy": "nickName"}).status_code == 400
        searched = http.post(
            "/.search",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": 'addresses.country eq "GB"',
            },
        )
        assert searched.status_code == 400 and searched.json()["scimType"] == "invalidFilter"


def test_schemas_publish_only_the_catalogue(policy_live: LiveServer) -> None:
    with policy_live.client() as http:
        schemas = {s["id"]: s for s in http.get("/Schemas").json()["Resources"]}
    user = {a["name"]: a for a in schemas["urn:ietf:params:scim:schemas:core:2.0:User"]["attributes"]}
    assert {"userName", "name", "displayName", "emails", "title", "active"} <= set(user)
    assert not {"phoneNumbers", "addresses", "nickName", "photos", "password", "x509Certificates"} & set(user)
    assert {s["name"] for s in user["name"]["subAttributes"]} == {"givenName", "familyName"}
    assert {s["name"] for s in user["emails"]["subAttributes"]} == {"value", "type", "primary"}
    enterprise = [a["name"] for a in schemas[ENTERPRISE]["attributes"]]
    assert enterprise == ["department"]
