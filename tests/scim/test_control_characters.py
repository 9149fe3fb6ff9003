"""C0 control characters in string values (decision 0066), against the real server over HTTPS. Before: a NUL in
``displayName``, an ESC sequence in ``name.givenName``, a BEL in ``title`` were stored and answered back, and went
on to exports, the app and every target. Now POST, PUT, PATCH and Bulk refuse them with 400 ``invalidValue``
naming the attribute (never the value); TAB, LF and CR stay text; a value stored before the rule still loads and
does not block updates of the rest of the resource."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.directory import repository as repo
from tests.conftest import LiveServer, new_user, patch_body

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def _refused(response: httpx.Response, attribute: str, code_point: str, value: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["scimType"] == "invalidValue"
    assert body["detail"].startswith(f"'{attribute}' holds the control character {code_point},")
    assert value not in response.text and json.dumps(value) not in response.text  # the value is never echoed


def _created(client: httpx.Client, user_name: str, **extra: Any) -> str:
    response = client.post("/Users", json=new_user(user_name, **extra))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("extra", "attribute", "code_point", "value"),
    [
        ({"displayName": "Eve\x00Null"}, "displayName", "U+0000", "Eve\x00Null"),
        ({"name": {"givenName": "A\x1b[31mred", "familyName": "B"}}, "name.givenName", "U+001B", "A\x1b[31mred"),
        ({"title": "ring\x07"}, "title", "U+0007", "ring\x07"),
        ({"addresses": [{"locality": "Leeds"}, {"locality": "x\x1fy"}]}, "addresses.locality", "U+001F", "x\x1fy"),
        ({ENTERPRISE: {"department": "R\x08D"}}, f"{ENTERPRISE}:department", "U+0008", "R\x08D"),
    ],
)  # fmt: skip
def test_post_refuses_control_characters(
    client: httpx.Client, extra: dict[str, Any], attribute: str, code_point: str, value: str
) -> None:
    body = new_user(f"ctl-post-{code_point}@example.test", **extra)
    if ENTERPRISE in extra:
        body["schemas"] = [*body["schemas"], ENTERPRISE]  # type: ignore[list-item]
    _refused(client.post("/Users", json=body), attribute, code_point, value)
    listed = client.get("/Users", params={"filter": f'userName eq "ctl-post-{code_point}@example.test"'})
    assert listed.json()["totalResults"] == 0


def test_tab_line_feed_and_carriage_return_are_text(client: httpx.Client) -> None:
    user_id = _created(client, "ctl-text@example.test", addresses=[{"streetAddress": "1 Road\r\nFlat\t2"}])
    assert client.get(f"/Users/{user_id}").json()["addresses"][0]["streetAddress"] == "1 Road\r\nFlat\t2"


def test_put_patch_and_bulk_meet_the_same_rule(client: httpx.Client) -> None:
    user_id = _created(client, "ctl-writes@example.test", displayName="Clean")
    put = new_user("ctl-writes@example.test", displayName="Clean", nickName="n\x0bn")
    _refused(client.put(f"/Users/{user_id}", json=put), "nickName", "U+000B", "n\x0bn")
    with_path = patch_body({"op": "replace", "path": "name.familyName", "value": "\x1b]0;t\x07"})
    _refused(client.patch(f"/Users/{user_id}", json=with_path), "name.familyName", "U+001B", "\x1b]0;t\x07")
    path_less = patch_body({"op": "add", "value": {"displayName": "a\x00b"}})
    _refused(client.patch(f"/Users/{user_id}", json=path_less), "displayName", "U+0000", "a\x00b")
    work = [{"type": "work", "locality": "Leeds"}]
    added = client.patch(f"/Users/{user_id}", json=patch_body({"op": "add", "path": "addresses", "value": work}))
    assert added.is_success, added.text
    filtered = patch_body({"op": "replace", "path": 'addresses[type eq "work"].locality', "value": "L\x01"})
    _refused(client.patch(f"/Users/{user_id}", json=filtered), "addresses.locality", "U+0001", "L\x01")
    bulk = {"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "c1", "data": new_user("ctl-bulk@example.test", title="\x00")},
        {"method": "PATCH", "path": f"/Users/{user_id}", "data": patch_body(
            {"op": "replace", "path": "title", "value": "t\x02"})},
    ]}  # fmt: skip
    results = client.post("/Bulk", json=bulk).json()["Operations"]
    assert [r["status"] for r in results] == ["400", "400"]
    assert [r["response"]["scimType"] for r in results] == ["invalidValue", "invalidValue"]
    assert results[0]["response"]["detail"].startswith("'title' holds the control character U+0000")
    stored = client.get(f"/Users/{user_id}").json()
    assert stored["displayName"] == "Clean" and "nickName" not in stored and "title" not in stored


def test_a_value_stored_before_the_rule_loads_and_does_not_block_updates(
    client: httpx.Client, live: LiveServer
) -> None:
    user_id = _created(client, "ctl-legacy@example.test", displayName="Legacy", title="Engineer")
    with live.server.vault.write_transaction() as conn:  # as the earlier release stored it
        row = repo.load(conn, "User", user_id)
        assert row is not None
        repo.update_resource(conn, row, {**json.loads(row.document), "title": "Eng\x07"}, datetime.now(UTC))
    assert client.get(f"/Users/{user_id}").json()["title"] == "Eng\x07"
    renamed = client.patch(f"/Users/{user_id}", json=patch_body({"op": "replace", "path": "displayName",
                                                                 "value": "Renamed"}))  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    same = new_user("ctl-legacy@example.test", displayName="Renamed again", title="Eng\x07")  # resent as stored
    assert client.put(f"/Users/{user_id}", json=same).status_code == 200
    other = new_user("ctl-legacy@example.test", displayName="Renamed again", title="Eng\x07\x07")  # a new value
    _refused(client.put(f"/Users/{user_id}", json=other), "title", "U+0007", "Eng\x07\x07")
    cleaned = client.patch(f"/Users/{user_id}", json=patch_body({"op": "replace", "path": "title", "value": "Eng"}))
    assert cleaned.status_code == 200 and cleaned.json()["title"] == "Eng"


@pytest.mark.parametrize(
    ("extra", "attribute", "code_point", "value"),
    [
        ({"displayName": "Del\x7fete"}, "displayName", "U+007F", "Del\x7fete"),
        ({"name": {"givenName": "A\x9b31mred", "familyName": "B"}}, "name.givenName", "U+009B", "A\x9b31mred"),
        ({"title": "next\x85line"}, "title", "U+0085", "next\x85line"),
        ({"addresses": [{"locality": "x\x80y"}]}, "addresses.locality", "U+0080", "x\x80y"),
        ({ENTERPRISE: {"department": "R\x9fD"}}, f"{ENTERPRISE}:department", "U+009F", "R\x9fD"),
    ],
)  # fmt: skip
def test_del_and_c1_controls_are_refused_as_c0_ones(
    client: httpx.Client, extra: dict[str, Any], attribute: str, code_point: str, value: str
) -> None:
    """Before: DEL and the C1 controls (U+009B is a terminal's CSI, as ESC [ is) were stored and answered back."""
    test_post_refuses_control_characters(client, extra, attribute, code_point, value)


def test_del_and_c1_on_put_patch_and_bulk(client: httpx.Client) -> None:
    user_id = _created(client, "c1-writes@example.test", displayName="Clean")
    put = new_user("c1-writes@example.test", displayName="Clean", nickName="n\x7fn")
    _refused(client.put(f"/Users/{user_id}", json=put), "nickName", "U+007F", "n\x7fn")
    with_path = patch_body({"op": "replace", "path": "name.familyName", "value": "\x9b2J"})
    _refused(client.patch(f"/Users/{user_id}", json=with_path), "name.familyName", "U+009B", "\x9b2J")
    path_less = patch_body({"op": "add", "value": {"displayName": "a\x90b"}})
    _refused(client.patch(f"/Users/{user_id}", json=path_less), "displayName", "U+0090", "a\x90b")
    bulk = {"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "c1", "data": new_user("c1-bulk@example.test", title="\x9d")},
    ]}  # fmt: skip
    result = client.post("/Bulk", json=bulk).json()["Operations"][0]
    assert result["status"] == "400" and result["response"]["scimType"] == "invalidValue"
    assert result["response"]["detail"].startswith("'title' holds the control character U+009D")
    assert client.get(f"/Users/{user_id}").json()["displayName"] == "Clean"


@pytest.mark.parametrize("code_point", [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069])
def test_bidi_overrides_embeddings_and_isolates_are_refused(client: httpx.Client, code_point: int) -> None:
    """Before: ``"\\u202eevE"`` was stored and shown reversed ("Eve") in exports and the app (decision 0069)."""
    value = f"{chr(code_point)}evE"
    user_id = _created(client, f"bidi-{code_point:04x}@example.test", displayName="Clean")
    response = client.patch(f"/Users/{user_id}", json=patch_body({"op": "replace", "path": "displayName",
                                                                  "value": value}))  # fmt: skip
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["scimType"] == "invalidValue"
    assert body["detail"].startswith(f"'displayName' holds the bidirectional formatting character U+{code_point:04X},")
    assert value not in response.text and json.dumps(value) not in response.text
    assert client.get(f"/Users/{user_id}").json()["displayName"] == "Clean"


def test_right_to_left_names_and_marks_are_text(client: httpx.Client) -> None:
    """Hebrew and Arabic names need no override; LRM/RLM/ALM are marks (they reorder nothing beyond themselves)."""
    name = {"givenName": "\u05d3\u05e0\u05d4", "familyName": "\u0639\u0644\u064a\u200f", "middleName": "\u061cx\u200e"}
    user_id = _created(client, "rtl@example.test", name=name, title="caf\u00e9 \u00a0ok")
    assert client.get(f"/Users/{user_id}").json()["name"] == name


def test_a_c1_value_stored_before_the_rule_still_loads(client: httpx.Client, live: LiveServer) -> None:
    user_id = _created(client, "c1-legacy@example.test", displayName="Legacy")
    with live.server.vault.write_transaction() as conn:
        row = repo.load(conn, "User", user_id)
        assert row is not None
        repo.update_resource(conn, row, {**json.loads(row.document), "title": "E\x9b\u202e"}, datetime.now(UTC))
    assert client.get(f"/Users/{user_id}").json()["title"] == "E\x9b\u202e"
    renamed = client.patch(f"/Users/{user_id}", json=patch_body({"op": "replace", "path": "displayName",
                                                                 "value": "Renamed"}))  # fmt: skip
    assert renamed.status_code == 200, renamed.text
