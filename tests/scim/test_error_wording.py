"""What an error says to an IdP that sent something this server cannot do, over the real HTTPS server: what was
expected, never internal text or the value sent. Each test failed on the code before it."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import new_user
from tests.scim.test_http import assert_scim_error

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


@pytest.mark.parametrize(
    "expression",
    [
        "meta.lastModified gt 5",
        "meta.created le true",
        "meta.lastModified co 5",
        'meta.lastModified gt "yesterday"',
        'meta.lastModified ge "2024-13-45T00:00:00Z"',
        'meta.lastModified ge "0001-01-01T00:00:00+01:00"',  # before: a 500 (OverflowError moving it into UTC)
        'meta.lastModified le "9999-12-31T23:59:59-01:00"',
    ],
)
def test_a_date_filter_says_a_date_is_expected(client: httpx.Client, expression: str) -> None:
    """Before: ``meta.lastModified gt 5`` was told the attribute "is a string: compare it with a quoted string"."""
    for answer in (
        client.get("/Users", params={"filter": expression}),
        client.post("/Users/.search", json={"filter": expression}),
        client.post("/.search", json={"filter": expression}),
    ):
        assert_scim_error(answer, 400, "invalidFilter")
        detail = answer.json()["detail"]
        assert "dateTime" in detail and "RFC 3339 (ISO 8601)" in detail and "is a string" not in detail
        assert "yesterday" not in detail and "Invalid isoformat" not in detail and "out of range" not in detail


def test_a_date_filter_still_filters(client: httpx.Client) -> None:
    client.post("/Users", json=new_user("dated@example.com"))
    for expression, found in (('meta.lastModified gt "2000-01-01T00:00:00Z"', True),
                              ('meta.lastModified lt "2000-01-01T00:00:00+01:00"', False)):  # fmt: skip
        answer = client.get("/Users", params={"filter": f'{expression} and userName eq "dated@example.com"'})
        assert answer.status_code == 200, answer.text
        assert answer.json()["totalResults"] == int(found)


def _bulk(client: httpx.Client, *operations: dict[str, object]) -> list[dict[str, object]]:
    answer = client.post("/Bulk", json={"schemas": [BULK], "Operations": list(operations)})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["Operations"])


def test_a_bulk_get_is_told_bulk_has_no_get(client: httpx.Client) -> None:
    """RFC 7644 §3.7: an operation's method is POST, PUT, PATCH or DELETE. Before: "Method (none or unknown) is
    not valid for this bulk path", the same words for GET, a typo and a missing method."""
    user = client.post("/Users", json=new_user("bulk-get@example.com")).json()["id"]
    for path in ("/Users", f"/Users/{user}"):
        (result,) = _bulk(client, {"method": "GET", "path": path})
        assert result["status"] == "400"
        error = result["response"]
        assert isinstance(error, dict) and error["scimType"] == "invalidValue"
        assert error["detail"].startswith("Bulk does not support GET (RFC 7644 §3.7)")
        assert "bulk-get" not in str(result)


def test_a_missing_or_unknown_bulk_method_names_the_methods_not_the_value(client: httpx.Client) -> None:
    for operation in ({"path": "/Users", "bulkId": "a"}, {"method": "FROB<script>", "path": "/Users", "bulkId": "b"}):
        (result,) = _bulk(client, {**operation, "data": new_user("bulk-method@example.com")})
        error = result["response"]
        assert result["status"] == "400" and isinstance(error, dict) and error["scimType"] == "invalidValue"
        assert error["detail"] == "A bulk operation's 'method' is POST, PUT, PATCH or DELETE."
    assert client.get("/Users", params={"filter": 'userName eq "bulk-method@example.com"'}).json()["totalResults"] == 0


def test_get_on_bulk_is_405_saying_bulk_takes_post(client: httpx.Client) -> None:
    """Before: "GET is not supported here; use POST." (the status and Allow were right already)."""
    for method in ("GET", "PUT", "DELETE"):
        answer = client.request(method, "/Bulk")
        assert_scim_error(answer, 405)
        assert answer.headers["Allow"] == "POST" and "scimType" not in answer.json()
        assert (
            answer.json()["detail"] == f"Bulk does not support {method} (RFC 7644 §3.7): send a BulkRequest with POST."
        )
