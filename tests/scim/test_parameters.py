"""Query parameters as an IdP or an attacker may send them, over the real HTTPS server (app/scim/parameters.py,
app/directory/query.py). Each test failed on the code before it."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import USER_SCHEMA, LiveServer, new_user
from tests.scim.test_http import assert_scim_error

SECRET = "repeat-secret@example.com"  # a value that must never come back in an error


@pytest.fixture(scope="module")
def user_id(live: LiveServer) -> str:
    with live.client() as client:
        return str(client.post("/Users", json=new_user(SECRET, title="Engineer")).json()["id"])


@pytest.mark.parametrize(
    ("name", "values", "scim_type"),
    [
        ("filter", (f'userName eq "{SECRET}"', "userName pr"), "invalidFilter"),
        ("count", ("5", "500"), "invalidValue"),
        ("startIndex", ("1", "2"), "invalidValue"),
        ("attributes", ("userName", "title"), "invalidValue"),
        ("excludedAttributes", ("userName", "title"), "invalidValue"),
        ("sortBy", ("userName", "title"), "invalidValue"),
        ("sortOrder", ("ascending", "descending"), "invalidValue"),
        ("cursor", ("", ""), "invalidValue"),
        ("count", ("5", "5"), "invalidValue"),  # the same value twice is still two parameters
    ],
)
def test_a_repeated_parameter_is_refused_by_name(
    client: httpx.Client, user_id: str, name: str, values: tuple[str, str], scim_type: str
) -> None:
    """Before: the last one won silently (``count=5&count=500`` served 500; a second filter replaced the first)."""
    params = [(name, value) for value in values]
    for method, path in (("GET", "/Users"), ("HEAD", "/Users"), ("GET", f"/Users/{user_id}")):
        if path != "/Users" and name not in ("attributes", "excludedAttributes"):
            continue  # a resource's GET reads only these two
        answer = client.request(method, path, params=params)
        if method == "HEAD":
            assert answer.status_code == 400 and answer.content == b""
            continue
        assert_scim_error(answer, 400, scim_type)
        detail = answer.json()["detail"]
        assert f"'{name}'" in detail and "more than once" in detail
        assert all(value not in detail for value in values if value) and SECRET not in answer.text


def test_a_write_with_repeated_attributes_is_refused_before_anything_changes(
    client: httpx.Client, user_id: str
) -> None:
    """The projection of a write's answer (RFC 7644 §3.9) follows the same rule, and nothing is written."""
    before = client.get(f"/Users/{user_id}").json()
    params = [("attributes", "userName"), ("attributes", "title")]
    replaced = new_user(SECRET, title="Changed")
    assert_scim_error(client.put(f"/Users/{user_id}", params=params, json=replaced), 400, "invalidValue")
    created = new_user("repeat-created@example.com")
    assert_scim_error(client.post("/Users", params=params, json=created), 400, "invalidValue")
    assert client.get(f"/Users/{user_id}").json() == before
    assert (
        client.get("/Users", params={"filter": 'userName eq "repeat-created@example.com"'}).json()["totalResults"] == 0
    )


def test_one_of_each_and_unknown_repeats_still_work(client: httpx.Client, user_id: str) -> None:
    """What was served before still is: each parameter once, a comma list, and parameters SCIM does not define."""
    params = [
        ("filter", f'userName eq "{SECRET}"'),
        ("attributes", "userName,id"),
        ("count", "5"),
        ("startIndex", "1"),
        ("other", "a"),
        ("other", "b"),
    ]
    page = client.get("/Users", params=params)
    assert page.status_code == 200, page.text
    assert page.json()["Resources"] == [{"schemas": [USER_SCHEMA], "id": user_id, "userName": SECRET}]
