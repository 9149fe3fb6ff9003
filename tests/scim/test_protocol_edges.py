"""Protocol edges found by trying the endpoint from outside (the tryout): each test failed on the code before it."""

from __future__ import annotations

import httpx

from tests.conftest import GROUP_SCHEMA, LiveServer, new_user, patch_body
from tests.scim.test_http import assert_scim_error


def test_two_authorization_headers_are_no_valid_token(live: LiveServer) -> None:
    """Before: the first header won, so a valid token followed by anything (or twice the same token) was served."""
    valid, wrong = f"Bearer {live.token}", "Bearer cst_wrong"
    with live.client("") as anonymous:
        for pair in ((valid, wrong), (wrong, valid), (valid, valid)):
            answer = anonymous.get("/Users", headers=[("Authorization", pair[0]), ("Authorization", pair[1])])
            assert_scim_error(answer, 400)  # RFC 6750 §3.1: malformed, invalid_request
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="Custos SCIM", error="invalid_request"'
            assert live.token not in answer.text
        assert anonymous.get("/Users", headers={"Authorization": valid}).status_code == 200


def test_me_is_501_not_implemented_for_every_method(client: httpx.Client) -> None:
    """RFC 7644 §3.11: without /Me support the answer is 501. Before: 404 "Unknown endpoint" for every method."""
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        for path in ("/Me", "/Me/", "/Me/x"):
            answer = client.request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)
            assert_scim_error(answer, 501)
    head = client.head("/Me")
    assert head.status_code == 501 and head.content == b""


def test_if_match_and_if_none_match_on_get_and_head(client: httpx.Client) -> None:
    """RFC 9110 §13.2.2: an If-Match that does not match gives 412 on a read too (before: 200 with the resource);
    an If-None-Match that matches gives 304; If-Match is judged first."""
    created = client.post("/Users", json=new_user("preconditions-read@example.com"))
    uid, tag = created.json()["id"], created.headers["ETag"]
    for method in ("GET", "HEAD"):

        def status(headers: dict[str, str], method: str = method) -> int:
            return client.request(method, f"/Users/{uid}", headers=headers).status_code

        assert status({"If-Match": 'W/"999"'}) == 412
        assert status({"If-Match": f'W/"999", {tag}'}) == 200
        assert status({"If-Match": "*"}) == 200
        assert status({"If-None-Match": tag}) == 304
        assert status({"If-None-Match": "*"}) == 304
        assert status({"If-None-Match": 'W/"999"'}) == 200
        assert status({"If-Match": 'W/"999"', "If-None-Match": tag}) == 412
    refused = client.get(f"/Users/{uid}", headers={"If-Match": 'W/"999"'})
    assert_scim_error(refused, 412)
    assert refused.headers["ETag"] == tag and "preconditions-read" not in refused.text


def test_a_patch_value_of_the_wrong_type_is_named(client: httpx.Client) -> None:
    """Before: the detail was pydantic's first line, "1 validation error for GroupMember", naming nothing."""
    member = client.post("/Users", json=new_user("named-member@example.com")).json()["id"]
    group = client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "Named"}).json()["id"]
    for value, name in (([{"value": member, "display": 5}], "display"), ([{"value": 5}], "value"),
                        (["not-an-object"], "members")):  # fmt: skip
        answer = client.patch(f"/Groups/{group}", json=patch_body({"op": "add", "path": "members", "value": value}))
        assert_scim_error(answer, 400, "invalidValue")
        detail = answer.json()["detail"]
        assert f"'{name}" in detail and "validation error" not in detail and "not-an-object" not in detail
    assert "members" not in client.get(f"/Groups/{group}").json()


def test_a_body_in_utf_16_or_utf_32_is_not_json_for_scim(client: httpx.Client) -> None:
    """RFC 8259 §8.1: JSON between systems is UTF-8. Before: json.loads() guessed the encoding of the bytes, and a
    UTF-16 or UTF-32 body was stored (201) as if it had been sent in UTF-8. A UTF-8 BOM is still ignored."""
    text = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s@example.com"}'
    headers = {"Content-Type": "application/scim+json"}
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        answer = client.post("/Users", content=(text % encoding).encode(encoding), headers=headers)
        assert_scim_error(answer, 400, "invalidSyntax")
        assert (
            client.get("/Users", params={"filter": f'userName eq "{encoding}@example.com"'}).json()["totalResults"] == 0
        )
    with_bom = client.post("/Users", content=(text % "bom").encode("utf-8-sig"), headers=headers)
    assert with_bom.status_code == 201, with_bom.text
