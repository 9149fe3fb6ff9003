"""The real server over HTTPS on loopback: authentication, semantics, errors and limits."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from app.audit.vault_lifecycle import create_vault
from app.core.errors import ConfigError
from app.scim.server import ScimServer
from app.setup.tokens import TokenStore
from app.store.models import AttributeValue, GroupMember, ScimResource
from app.store.vault import Vault
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, PASSPHRASE, LiveServer, new_user, patch_body

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def resource_count(vault: Vault) -> int:
    with vault.read_session() as session:
        return session.scalar(select(func.count()).select_from(ScimResource)) or 0


def assert_scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    if scim_type:
        assert body.get("scimType") == scim_type, body
    assert "Traceback" not in response.text and 'File "' not in response.text


# -- authentication ---------------------------------------------------------------------------------
def test_missing_or_wrong_token_is_401(live: LiveServer) -> None:
    with live.client(token="") as anonymous:
        response = anonymous.get("/Users")
    assert_scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with live.client(token="cst_not-a-real-token") as wrong:
        assert_scim_error(wrong.get("/ServiceProviderConfig"), 401)


def test_revoked_token_stops_working(live: LiveServer) -> None:
    store = TokenStore(live.server.vault)
    _, secret = store.create("short-lived")
    live.server.tokens._cache = None  # the server's own store caches; a new store instance is separate
    with live.client(token=secret) as temporary:
        assert temporary.get("/ServiceProviderConfig").status_code == 200
        live.server.tokens.revoke("short-lived")
        assert_scim_error(temporary.get("/ServiceProviderConfig"), 401)


@pytest.fixture
def throttled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScimServer, str]]:
    folder = tmp_path_factory.mktemp("throttle")
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    _, token = TokenStore(vault).create("good")
    server = ScimServer(vault, tls=None)  # plain HTTP is allowed on loopback when asked for
    server.start()
    yield server, token
    server.stop()
    vault.close()


def test_repeated_failures_are_throttled(throttled_server: tuple[ScimServer, str]) -> None:
    server, token = throttled_server
    with httpx.Client(base_url=server.base_url) as http:
        statuses = [http.get("/Users", headers={"Authorization": "Bearer wrong"}).status_code for _ in range(12)]
        assert statuses[:10] == [401] * 10
        assert statuses[10:] == [429, 429]
        throttled = http.get("/Users", headers={"Authorization": "Bearer still-wrong"})
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
        # the throttle refuses failures only: the same address with a valid token is served (issue 11 §3)
        assert http.get("/Users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_plain_http_only_on_loopback(vault: Vault) -> None:
    with pytest.raises(ConfigError):
        ScimServer(vault, host="0.0.0.0", tls=None)


def test_tls_below_1_2_is_refused(live: LiveServer) -> None:
    context = ssl.create_default_context(cafile=str(live.cert))
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises((httpx.ConnectError, ssl.SSLError)):
        httpx.get(live.server.base_url + "/ServiceProviderConfig", verify=context)


# -- discovery --------------------------------------------------------------------------------------
def test_discovery_is_truthful(client: httpx.Client) -> None:
    config = client.get("/ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["bulk"]["supported"] and config["filter"]["supported"]
    assert config["changePassword"]["supported"] is False
    assert config["pagination"]["cursor"] and config["pagination"]["index"]
    assert "documentationUri" not in config  # before: https://custos.invalid/…, a page that cannot exist
    assert ".invalid" not in client.get("/ServiceProviderConfig").text
    types = client.get("/ResourceTypes").json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    schemas = client.get("/Schemas").json()
    assert {s["id"] for s in schemas["Resources"]} >= {"urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE}
    assert client.get(f"/Schemas/{ENTERPRISE}").status_code == 200
    assert_scim_error(client.get("/Schemas/urn:nope"), 404)
    assert client.headers["Authorization"]
    assert client.get("/ServiceProviderConfig").headers["content-type"].startswith("application/scim+json")


# -- lifecycle ----------------------------------------------------------------------------------------
def test_user_lifecycle(client: httpx.Client, live: LiveServer) -> None:
    body = new_user(
        "life-1@example.com",
        id="chosen-by-client",
        meta={"version": 'W/"9"'},
        password="Secret-Passw0rd!",
        name={"givenName": "Lif", "familyName": "Cycle"},
        emails=[{"value": "life-1@example.com", "type": "work", "primary": True}],
        active=True,
    )
    created = client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["id"] != "chosen-by-client"  # readOnly: ignored on input
    assert "password" not in user
    assert created.headers["Location"] == user["meta"]["location"]
    assert created.headers["ETag"] == user["meta"]["version"]
    with live.server.vault.read_session() as session:
        stored = session.scalar(select(ScimResource.document).where(ScimResource.id == user["id"]))
    assert "Secret-Passw0rd!" not in stored and "password" not in stored

    uid = user["id"]
    fetched = client.get(f"/Users/{uid}")
    assert fetched.json()["userName"] == "life-1@example.com"
    assert client.get(f"/Users/{uid}", headers={"If-None-Match": fetched.headers["ETag"]}).status_code == 304

    deactivated = client.patch(f"/Users/{uid}", json=patch_body({"op": "replace", "path": "active", "value": False}))
    assert deactivated.json()["active"] is False
    assert deactivated.json()["name"]["givenName"] == "Lif"  # nothing else lost
    reactivated = client.patch(f"/Users/{uid}", json=patch_body({"op": "replace", "value": {"active": True}}))
    assert reactivated.json()["active"] is True

    stale = client.put(
        f"/Users/{uid}", json=new_user("life-1@example.com"), headers={"If-Match": fetched.headers["ETag"]}
    )
    assert_scim_error(stale, 412)
    replaced = client.put(
        f"/Users/{uid}",
        json=new_user("life-1@example.com", title="Replaced"),
        headers={"If-Match": reactivated.headers["ETag"]},
    )
    assert replaced.status_code == 200
    assert replaced.json()["title"] == "Replaced" and "emails" not in replaced.json()

    with live.server.vault.read_session() as session:
        rid = session.scalar(select(ScimResource.rid).where(ScimResource.id == uid))
        assert session.scalar(select(func.count()).select_from(AttributeValue).where(AttributeValue.rid == rid))
    assert client.delete(f"/Users/{uid}").status_code == 204
    assert_scim_error(client.get(f"/Users/{uid}"), 404)
    with live.server.vault.read_session() as session:
        left = session.scalar(select(func.count()).select_from(AttributeValue).where(AttributeValue.rid == rid))
    assert left == 0


def test_user_name_is_unique_case_insensitively(client: httpx.Client) -> None:
    assert client.post("/Users", json=new_user("Unique.One@example.com")).status_code == 201
    assert_scim_error(client.post("/Users", json=new_user("unique.one@EXAMPLE.com")), 409, "uniqueness")
    other = client.post("/Users", json=new_user("unique.two@example.com")).json()
    clash = client.patch(
        f"/Users/{other['id']}",
        json=patch_body({"op": "replace", "path": "userName", "value": "UNIQUE.ONE@example.com"}),
    )
    assert_scim_error(clash, 409, "uniqueness")


def test_group_membership_and_cascade(client: httpx.Client, live: LiveServer) -> None:
    alice = client.post("/Users", json=new_user("grp-a@example.com")).json()["id"]
    bob = client.post("/Users", json=new_user("grp-b@example.com")).json()["id"]
    group = client.post(
        "/Groups",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Readers", "members": [{"value": alice, "$ref": None}]},
    )
    assert group.status_code == 201, group.text
    gid = group.json()["id"]
    added = client.patch(f"/Groups/{gid}", json=patch_body({"op": "add", "path": "members", "value": [{"value": bob}]}))
    assert {m["value"] for m in added.json()["members"]} == {alice, bob}
    assert client.get(f"/Users/{bob}").json()["groups"][0]["value"] == gid
    removed = client.patch(f"/Groups/{gid}", json=patch_body({"op": "remove", "path": f'members[value eq "{alice}"]'}))
    assert [m["value"] for m in removed.json()["members"]] == [bob]
    listed = client.get("/Groups", params={"filter": 'displayName eq "readers"', "excludedAttributes": "members"})
    assert listed.json()["totalResults"] == 1 and "members" not in listed.json()["Resources"][0]
    unknown = client.patch(
        f"/Groups/{gid}", json=patch_body({"op": "add", "path": "members", "value": [{"value": "nobody"}]})
    )
    assert_scim_error(unknown, 400, "invalidValue")
    client.delete(f"/Users/{bob}")
    with live.server.vault.read_session() as session:
        assert session.scalar(select(func.count()).select_from(GroupMember).where(GroupMember.group_id == gid)) == 0


def test_writes_answer_with_the_attributes_asked(client: httpx.Client, live: LiveServer) -> None:
    """RFC 7644 §3.9: ``attributes`` / ``excludedAttributes`` apply to any operation that returns a resource. They
    were ignored on POST, PUT and PATCH: a membership change of a large group always answered every member."""
    created = client.post("/Users", params={"attributes": "userName"}, json=new_user("proj-a@example.com"))
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"schemas", "id", "userName"}
    assert created.headers["ETag"] == 'W/"1"' and created.headers["Location"].endswith(created.json()["id"])
    member = created.json()["id"]
    group = client.post(
        "/Groups",
        params={"excludedAttributes": "members,meta"},
        json={"schemas": [GROUP_SCHEMA], "displayName": "Projected", "members": [{"value": member}]},
    )
    assert group.status_code == 201 and set(group.json()) == {"schemas", "id", "displayName"}
    gid = group.json()["id"]
    rename = patch_body({"op": "replace", "path": "displayName", "value": "Projected 2"})
    patched = client.patch(f"/Groups/{gid}", params={"excludedAttributes": "members"}, json=rename)
    assert patched.status_code == 200 and "members" not in patched.json()
    assert patched.json()["meta"]["version"] == patched.headers["ETag"] == 'W/"2"'
    replaced = client.put(
        f"/Users/{member}", params={"attributes": "active"}, json=new_user("proj-a@example.com", active=False)
    )
    assert replaced.status_code == 200 and replaced.json()["active"] is False and "userName" not in replaced.json()
    assert client.get(f"/Groups/{gid}").json()["members"][0]["value"] == member


def test_a_write_asking_for_both_projections_is_refused_before_it_is_written(
    client: httpx.Client, live: LiveServer
) -> None:
    before = resource_count(live.server.vault)
    both = {"attributes": "userName", "excludedAttributes": "emails"}
    refused = client.post("/Users", params=both, json=new_user("proj-both@example.com"))
    assert_scim_error(refused, 400, "invalidValue")
    assert resource_count(live.server.vault) == before


# -- errors leave the store unchanged -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "content_type", "status", "scim_type"),
    [
        (b"{not json", "application/scim+json", 400, "invalidSyntax"),
        (b"[1, 2]", "application/scim+json", 400, "invalidSyntax"),
        (b'{"a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}", "application/scim+json", 400, "invalidSyntax"),
        (b"[" * 100_000, "application/scim+json", 400, "invalidSyntax"),
        (b'{"userName": "x"}', "text/plain", 415, None),
        (b'{"userName": "' + b"x" * 1_100_000 + b'"}', "application/scim+json", 413, None),
        (b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', "application/scim+json", 400, None),
        (
            b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], '
            b'"userName": "e@example.com", "active": "maybe"}',
            "application/scim+json",
            400,
            "invalidValue",
        ),
    ],
)
def test_bad_requests_are_4xx_and_change_nothing(
    client: httpx.Client, live: LiveServer, content: bytes, content_type: str, status: int, scim_type: str | None
) -> None:
    before = resource_count(live.server.vault)
    response = client.post("/Users", content=content, headers={"Content-Type": content_type})
    assert_scim_error(response, status, scim_type)
    assert resource_count(live.server.vault) == before


def test_error_details_do_not_echo_values(client: httpx.Client) -> None:
    response = client.post("/Users", json=new_user("echo@example.com", emails=[{"value": "not-an-email-sensitive"}]))
    assert response.status_code == 400
    assert "not-an-email-sensitive" not in response.text


def test_huge_filter_is_rejected(client: httpx.Client) -> None:
    assert_scim_error(client.get("/Users", params={"filter": 'userName eq "' + "a" * 5000 + '"'}), 400, "invalidFilter")


def test_unknown_routes_and_methods(client: httpx.Client) -> None:
    assert_scim_error(client.get("/Nope"), 404)
    assert_scim_error(client.delete("/Users"), 405)
    assert_scim_error(client.post("/ServiceProviderConfig", json={}), 405)


def test_patch_errors(client: httpx.Client) -> None:
    uid = client.post("/Users", json=new_user("patch-err@example.com")).json()["id"]
    assert_scim_error(
        client.patch(f"/Users/{uid}", json=patch_body({"op": "replace", "path": "nosuch", "value": 1})),
        400,
        "invalidPath",
    )
    assert_scim_error(
        client.patch(f"/Users/{uid}", json=patch_body({"op": "replace", "path": "id", "value": "x"})), 400, "mutability"
    )
    assert_scim_error(
        client.patch(f"/Users/{uid}", json=patch_body({"op": "jump", "path": "title", "value": "x"})),
        400,
        "invalidValue",
    )
    assert_scim_error(
        client.patch(
            f"/Users/{uid}",
            json=patch_body({"op": "replace", "path": 'emails[type eq "work"]', "value": {"value": "w@example.com"}}),
        ),
        400,
        "noTarget",
    )
    assert_scim_error(
        client.patch("/Users/does-not-exist", json=patch_body({"op": "replace", "path": "title", "value": "x"})), 404
    )


# -- bulk ---------------------------------------------------------------------------------------------
def test_bulk_with_bulk_id_references(client: httpx.Client) -> None:
    request = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g1",
                "data": {"schemas": [GROUP_SCHEMA], "displayName": "Bulk G", "members": [{"value": "bulkId:u1"}]},
            },
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": new_user("bulk-1@example.com")},
            {
                "method": "PATCH",
                "path": "/Users/bulkId:u1",
                "data": patch_body({"op": "replace", "path": "title", "value": "Bulk"}),
            },
            {"method": "POST", "path": "/Users", "bulkId": "dup", "data": new_user("bulk-1@example.com")},
        ],
    }
    response = client.post("/Bulk", json=request)
    assert response.status_code == 200, response.text
    results = {op["bulkId"]: op for op in response.json()["Operations"] if "bulkId" in op}
    assert results["u1"]["status"] == "201" and results["g1"]["status"] == "201"
    assert results["dup"]["status"] == "409"
    group = client.get(results["g1"]["location"].split("/scim/v2")[1]).json()
    user_id = results["u1"]["location"].rsplit("/", 1)[1]
    assert group["members"][0]["value"] == user_id
    assert client.get(f"/Users/{user_id}").json()["title"] == "Bulk"


def test_bulk_fail_on_errors_and_limits(client: httpx.Client) -> None:
    operations = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}", "data": new_user("")} for i in range(3)]
    response = client.post("/Bulk", json={"schemas": [], "failOnErrors": 1, "Operations": operations})
    assert len(response.json()["Operations"]) == 1
    too_many = [{"method": "DELETE", "path": "/Users/x"}] * 1001
    refused = client.post("/Bulk", json={"schemas": [], "Operations": too_many})
    assert_scim_error(refused, 413)
    assert "scimType" not in refused.json()  # "tooMany" is for a filter's results (RFC 7644 §3.12), not a size


def test_a_body_too_large_is_413_without_a_scim_type(client: httpx.Client) -> None:
    refused = client.post("/Users", content=b'{"userName": "' + b"x" * 1_100_000 + b'"}',
                          headers={"Content-Type": "application/scim+json"})  # fmt: skip
    assert_scim_error(refused, 413)
    assert "scimType" not in refused.json()  # RFC 7644 §3.7.4's 413 carries none


def test_delete_truncates_the_wal_soon_after(client: httpx.Client, live: LiveServer) -> None:
    uid = client.post("/Users", json=new_user("wal-gone@example.com", title="x")).json()["id"]
    assert client.delete(f"/Users/{uid}").status_code == 204
    assert live.server.service is not None and live.server.recorder is not None
    # The request entries still queued (this test's and earlier tests') are written first: a batch landing between
    # the checkpoint and the look at the file would grow the WAL again (seen once under load in the full run).
    live.server.recorder.flush()
    live.server.service.janitor.flush()  # the same checkpoint the timer runs two seconds later
    wal = live.data_dir / "custos.vault-wal"
    assert not wal.exists() or wal.stat().st_size == 0
