"""Query parameters as an IdP or an attacker may send them, over the real HTTPS server (app/scim/parameters.py,
app/directory/query.py). Each test failed on the code before it."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import USER_SCHEMA, LiveServer, new_user
from tests.scim.hardening_support import read_all, tls_socket
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


def test_parameter_names_are_matched_in_any_case(client: httpx.Client, user_id: str) -> None:
    """As the keys of a .search body are. Before: ``?Filter=…`` was ignored and every user came back, ``?COUNT=1``
    gave the default page, ``?ATTRIBUTES=…`` the whole resource."""
    client.post("/Users", json=new_user("case-names@example.com"))
    filtered = client.get("/Users", params={"Filter": f'userName eq "{SECRET}"', "ATTRIBUTES": "userName"})
    assert filtered.status_code == 200, filtered.text
    assert filtered.json()["totalResults"] == 1
    assert filtered.json()["Resources"] == [{"schemas": [USER_SCHEMA], "id": user_id, "userName": SECRET}]
    page = client.get("/Users", params={"COUNT": "1", "startindex": "1", "SortBy": "userName"}).json()
    assert page["totalResults"] >= 2 and len(page["Resources"]) == 1 and page["itemsPerPage"] == 1
    one = client.get(f"/Users/{user_id}", params={"excludedattributes": "title"}).json()
    assert "title" not in one and one["userName"] == SECRET


@pytest.mark.parametrize(
    ("first", "second", "canonical"), [("filter", "Filter", "filter"), ("count", "COUNT", "count"),
                                       ("sortBy", "sortby", "sortBy")]
)  # fmt: skip
def test_the_same_name_in_another_case_is_a_repeat(client: httpx.Client, first: str, second: str,
                                                   canonical: str) -> None:  # fmt: skip
    """Before: ``filter=a&Filter=b`` served ``filter=a`` and ignored the other silently."""
    values = {"filter": (f'userName eq "{SECRET}"', "userName pr"), "sortBy": ("userName", "title")}.get(
        canonical, ("1", "2")
    )
    answer = client.get("/Users", params=[(first, values[0]), (second, values[1])])
    assert_scim_error(answer, 400, "invalidFilter" if canonical == "filter" else "invalidValue")
    assert f"'{canonical}'" in answer.json()["detail"] and SECRET not in answer.text


@pytest.mark.parametrize("name", ["count", "startIndex"])
@pytest.mark.parametrize(
    "raw",
    [
        "\u0661\u0662",  # Arabic-Indic 12
        "\u06f1\u06f2",  # extended Arabic-Indic 12
        "\uff11\uff12",  # fullwidth 12
        "\u0967\u0968",  # Devanagari 12
        "1_2",  # Python's digit separator
        " 12",  # a blank (as "+12" arrives unencoded in a query string)
        "12\u2003",  # an em space
    ],
)
def test_an_integer_is_ascii_digits(client: httpx.Client, name: str, raw: str) -> None:
    """Before: Python's int() read "١٢" (and fullwidth digits, "1_2", " 12") as 12 and served the page."""
    answer = client.get("/Users", params={name: raw})
    assert_scim_error(answer, 400, "invalidValue")
    assert answer.json()["detail"] == f"'{name}' must be an integer."


def test_ascii_integers_still_page(client: httpx.Client, user_id: str) -> None:
    for count, start in (("1", "1"), ("+1", "1"), ("-5", "-5"), ("0001", "01")):
        page = client.get("/Users", params={"count": count, "startIndex": start})
        assert page.status_code == 200, (count, start, page.text)
    assert client.get("/Users", params={"count": "1"}).json()["itemsPerPage"] == 1
    assert_scim_error(client.get("/Users", params={"count": "9" * 5000}), 400, "invalidValue")


def test_a_content_length_in_other_digits_is_refused(live: LiveServer) -> None:
    """Content-Length is the HTTP server's to judge: httptools refuses "²" (which str.isdigit() accepts) and
    Arabic-Indic digits with a 400 before the application sees the request; nothing is created."""
    port = int(live.server.base_url.split(":")[2].split("/")[0])
    body = json.dumps(new_user("content-length@example.com")).encode()
    for declared in ("\u00b2".encode("latin-1"), "\u0661".encode()):
        with tls_socket(port) as sock:
            sock.sendall(
                b"POST /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + live.token.encode()
                + b"\r\nContent-Type: application/scim+json\r\nContent-Length: " + declared
                + b"\r\nConnection: close\r\n\r\n" + body
            )  # fmt: skip
            assert read_all(sock, 5).startswith(b"HTTP/1.1 400 ")
    with live.client() as client:
        found = client.get("/Users", params={"filter": 'userName eq "content-length@example.com"'})
    assert found.json()["totalResults"] == 0
