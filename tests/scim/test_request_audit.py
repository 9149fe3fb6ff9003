"""Every SCIM request, authentication failure and change reaches the audit trail, with no personal data."""

from __future__ import annotations

import json

import pytest

from app.audit.trail import of_kind
from app.scim.request_audit import matched_route
from app.setup.tokens import TokenStore
from tests.conftest import LiveServer, new_user


def test_requests_and_changes_are_recorded(live: LiveServer) -> None:
    secret_name = "audit-subject-7@example.test"
    with live.client() as http:
        created = http.post("/Users", json=new_user(secret_name, name={"givenName": "Wilhelmina"}))
        user_id = created.json()["id"]
        assert http.get(f"/Users/{user_id}").status_code == 200
        assert http.get("/Users", params={"filter": f'userName eq "{secret_name}"'}).status_code == 200
        assert http.delete(f"/Users/{user_id}").status_code == 204
    with live.client(token="cst_not-a-token") as anonymous:
        assert anonymous.get("/Users").status_code == 401
    assert live.server.recorder is not None
    live.server.recorder.flush()

    vault = live.server.vault
    with vault.read_connection() as conn:
        requests = of_kind(conn, "scim.request", limit=20)
        created_events = of_kind(conn, "scim.resource.created", limit=50)
        deleted_events = of_kind(conn, "scim.resource.deleted", limit=50)
        failures = of_kind(conn, "scim.auth.failed")
    mine = [e for e in requests if e.actor == "token:test-idp"][:4]
    assert [(e.details["method"], e.details["endpoint"], e.details["status"]) for e in reversed(mine)] == [
        ("POST", "Users", 201),
        ("GET", "Users", 200),
        ("GET", "Users", 200),
        ("DELETE", "Users", 204),
    ]
    assert all(e.actor != "anonymous" for e in requests)  # a failed authentication has no request entry …
    assert failures and failures[0].details["source"] == "127.0.0.1"  # … it is tallied per source and minute
    assert failures[0].details["count"] >= 1 and failures[0].subject is None
    assert any(e.actor == "token:test-idp" for e in created_events)
    assert deleted_events[0].details == {"resource_type": "User"}
    everything = json.dumps([e.content() for e in requests + created_events + deleted_events + failures])
    assert secret_name not in everything and "Wilhelmina" not in everything and "cst_" not in everything


def test_token_changes_are_recorded(vault) -> None:  # type: ignore[no-untyped-def]
    store = TokenStore(vault)
    store.create("entra-prod")
    store.revoke("entra-prod")
    with vault.read_connection() as conn:
        kinds = [(e.kind, e.details.get("token")) for e in of_kind(conn, "token.")]
        opened = of_kind(conn, "vault.")
    assert kinds == [("token.revoked", "entra-prod"), ("token.created", "entra-prod")]
    assert [e.kind for e in opened] == ["vault.created"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/Users", ("Users", None)),
        ("/Users/2819c223", ("Users", "2819c223")),
        ("/Users/.search", ("Users", None)),
        ("/Groups/x@evil.example", ("Groups", "x@evil.example")),  # an id: a subject only if already known
        ("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", ("Schemas", None)),
        ("/Bulk", ("Bulk", None)),
        ("/x@evil.example", ("unknown", None)),
        ("/Users/a/b", ("unknown", None)),
        ("/Bulk/more", ("unknown", None)),
        ("/", ("unknown", None)),
    ],
)
def test_request_entries_name_the_matched_route_never_the_path(path: str, expected: tuple[str, str | None]) -> None:
    assert matched_route(path) == expected
