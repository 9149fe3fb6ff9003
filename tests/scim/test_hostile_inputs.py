"""Hostile input over the real HTTPS server: every case is a clear 4xx (never a 5xx) and changes nothing.

The table is the contract of issue 11 §6: lone surrogates in bodies, filters and cursors; integers no
database can hold; tampered cursors; `.search` members of the wrong JSON type; resources that do not declare
their schema; preconditions on writes; HEAD; identity strings an attacker would use to impersonate someone.
Each case asserts the status, the `scimType`, and that the resources, their index rows, memberships and outbox
items are exactly as before (a digest of the rows, not only a count).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.directory.cursor_seal import seal
from app.feed.tables import OutboxItem
from app.store.models import AttributeValue, GroupMember, ScimResource
from app.store.vault import Vault
from tests.conftest import GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, LiveServer, new_user
from tests.scim.test_http import ERROR_SCHEMA

SURROGATE = "\\ud800"  # as it travels in JSON text: an escape Python decodes to an unpaired surrogate


def store_digest(vault: Vault) -> str:
    """Every stored resource (id, version, document), and how many index, membership and outbox rows exist."""
    with vault.read_session() as session:
        rows = session.execute(
            select(ScimResource.id, ScimResource.version, ScimResource.document).order_by(ScimResource.id)
        ).all()
        counts = [
            session.scalar(select(func.count()).select_from(table))
            for table in (AttributeValue, GroupMember, OutboxItem)
        ]
    return hashlib.sha256(repr((rows, counts)).encode()).hexdigest()


def cursor(key: Any, last_id: Any = "00000000-0000-0000-0000-000000000000", query: str | None = None) -> str:
    """A cursor as the server writes them, with a tampered key; ``query`` defaults to the plain /Users listing.
    Sealed with the server's own key (the server runs in this process): the checks behind the seal are tested."""
    fingerprint = query or hashlib.sha256(b"('User',)|None|None|False").hexdigest()[:16]
    return seal(json.dumps({"k": [key, last_id], "q": fingerprint}).encode())


def raw_cursor(text: str) -> str:
    return seal(text.encode())


def unsealed_cursor(text: str) -> str:
    """A cursor in the format served before cursors were sealed: readable base64 JSON."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    scim_type: str | None
    body: str | None = None  # raw JSON text, so that escapes such as \ud800 reach the server as sent
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def user_json(user_name_json: str, extra: str = "") -> str:
    return f'{{"schemas":["{USER_SCHEMA}"],"userName":{user_name_json}{extra}}}'


def patch_json(operation: str) -> str:
    return f'{{"schemas":["{PATCH_SCHEMA}"],"Operations":[{operation}]}}'


CASES = [
    # -- unpaired surrogates: not Unicode, cannot be stored or compared; refused where they arrive
    Case("surrogate-post-userName", "POST", "/Users", 400, "invalidValue", user_json(f'"a{SURROGATE}"')),
    Case(
        "surrogate-post-nested",
        "POST",
        "/Users",
        400,
        "invalidValue",
        user_json('"sur-nested@example.com"', f',"name":{{"givenName":"x{SURROGATE}"}}'),
    ),
    Case(
        "surrogate-post-key",
        "POST",
        "/Users",
        400,
        "invalidValue",
        user_json('"sur-key@example.com"', f',"{SURROGATE}":1'),
    ),
    Case(
        "surrogate-post-group",
        "POST",
        "/Groups",
        400,
        "invalidValue",
        f'{{"schemas":["{GROUP_SCHEMA}"],"displayName":"g{SURROGATE}"}}',
    ),
    Case("surrogate-put", "PUT", "/Users/{uid}", 400, "invalidValue", user_json(f'"a{SURROGATE}"')),
    Case(
        "surrogate-patch-value",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidValue",
        patch_json(f'{{"op":"replace","path":"userName","value":"a{SURROGATE}"}}'),
    ),
    Case(
        "surrogate-patch-pathless",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidValue",
        patch_json(f'{{"op":"replace","value":{{"title":"t{SURROGATE}"}}}}'),
    ),
    Case(
        "surrogate-patch-path",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidValue",
        patch_json(f'{{"op":"replace","path":"title{SURROGATE}","value":"x"}}'),
    ),
    Case(
        "surrogate-filter-probe",
        "GET",
        "/Users",
        400,
        "invalidFilter",
        params={"filter": f'userName eq "a{SURROGATE}"'},
    ),
    Case(
        "surrogate-filter-general", "GET", "/Users", 400, "invalidFilter", params={"filter": f'title sw "a{SURROGATE}"'}
    ),
    Case(
        "surrogate-filter-value-path",
        "GET",
        "/Users",
        400,
        "invalidFilter",
        params={"filter": f'emails[type eq "work" and value co "{SURROGATE}"]'},
    ),
    Case(
        "surrogate-search-filter",
        "POST",
        "/Users/.search",
        400,
        "invalidFilter",
        f'{{"filter":"userName eq \\"a{SURROGATE}\\""}}',
    ),
    Case("surrogate-search-attributes", "POST", "/.search", 400, "invalidValue", f'{{"attributes":["x{SURROGATE}"]}}'),
    Case(
        "surrogate-cursor-key",
        "GET",
        "/Users",
        400,
        "invalidCursor",
        params={
            "cursor": raw_cursor(
                '{"k":["a'
                + SURROGATE
                + '","x"],"q":"'
                + hashlib.sha256(b"('User',)|None|None|False").hexdigest()[:16]
                + '"}'
            )
        },
    ),
    # -- integers beyond what SQLite holds (paging beyond 64 bits: test_paging_beyond_64_bits below)
    Case(
        "filter-number-huge", "GET", "/Users", 400, "invalidFilter", params={"filter": "title gt 99999999999999999999"}
    ),
    # -- tampered cursors
    Case("cursor-key-null", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor(None)}),
    Case("cursor-key-bool", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor(True)}),
    Case("cursor-key-list", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor([1, 2])}),
    Case("cursor-key-object", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor({"a": 1})}),
    Case("cursor-key-bigint", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor(10**30)}),
    Case("cursor-id-not-string", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor("", 5)}),
    Case("cursor-not-object", "GET", "/Users", 400, "invalidCursor", params={"cursor": raw_cursor("[1,2]")}),
    Case("cursor-not-base64", "GET", "/Users", 400, "invalidCursor", params={"cursor": "%%%"}),
    # a well-formed, unexpired cursor as served before they were sealed: a client could write any such one
    Case(
        "cursor-unsealed",
        "GET",
        "/Users",
        400,
        "invalidCursor",
        params={
            "cursor": unsealed_cursor(
                json.dumps(
                    {
                        "k": ["", "x"],
                        "q": hashlib.sha256(b"('User',)|None|None|False").hexdigest()[:16],
                        "t": int(time.time()),
                    }
                )
            )
        },
    ),
    # well formed but without an issue time (as written before cursors expired): older than any timeout
    Case("cursor-without-issue-time", "GET", "/Users", 400, "expiredCursor", params={"cursor": cursor("", "x")}),
    Case(
        "cursor-key-nan",
        "GET",
        "/Users",
        400,
        "invalidCursor",
        params={"cursor": raw_cursor('{"k":[NaN,"x"],"q":"a"}')},
    ),
    Case("cursor-key-surrogate-id", "GET", "/Users", 400, "invalidCursor", params={"cursor": cursor("", "x\ud800")}),
    # -- .search members of the wrong JSON type
    Case("search-filter-number", "POST", "/Users/.search", 400, "invalidFilter", '{"filter":5}'),
    Case("search-filter-list", "POST", "/.search", 400, "invalidFilter", '{"filter":["userName pr"]}'),
    Case("search-filter-object", "POST", "/Users/.search", 400, "invalidFilter", '{"filter":{"a":1}}'),
    Case("search-sortOrder-number", "POST", "/Users/.search", 400, "invalidValue", '{"sortOrder":1}'),
    Case("search-sortOrder-list", "POST", "/Users/.search", 400, "invalidValue", '{"sortOrder":["descending"]}'),
    Case("search-sortBy-object", "POST", "/Users/.search", 400, "invalidValue", '{"sortBy":{}}'),
    # a sortBy that is a filter expression rather than an attribute path (was an AttributeError: a 500)
    Case("sortBy-an-expression", "GET", "/Users", 400, "invalidValue", params={"sortBy": "userName pr or title"}),
    Case("search-sortBy-expression", "POST", "/Users/.search", 400, "invalidValue", '{"sortBy":"title pr or title"}'),
    Case("search-attributes-object", "POST", "/Users/.search", 400, "invalidValue", '{"attributes":{"a":1}}'),
    Case("search-attributes-numbers", "POST", "/Users/.search", 400, "invalidValue", '{"attributes":[1,2]}'),
    Case("search-excluded-number", "POST", "/Users/.search", 400, "invalidValue", '{"excludedAttributes":7}'),
    Case("search-excluded-nested", "POST", "/.search", 400, "invalidValue", '{"excludedAttributes":[["x"]]}'),
    Case("search-cursor-number", "POST", "/Users/.search", 400, "invalidCursor", '{"cursor":5}'),
    Case("search-count-string", "POST", "/Users/.search", 400, "invalidValue", '{"count":"10"}'),
    # -- resources must declare their own schema (RFC 7643 §3)
    Case("schemas-bogus-only", "POST", "/Users", 400, "invalidValue", '{"schemas":["urn:bogus"],"userName":"bogus-1"}'),
    Case("schemas-empty", "POST", "/Users", 400, "invalidValue", '{"schemas":[],"userName":"bogus-2"}'),
    Case("schemas-missing", "POST", "/Users", 400, "invalidValue", '{"userName":"bogus-3"}'),
    Case(
        "schemas-not-list", "POST", "/Users", 400, "invalidValue", f'{{"schemas":"{USER_SCHEMA}","userName":"bogus-4"}}'
    ),
    Case("schemas-number", "POST", "/Users", 400, "invalidValue", '{"schemas":[5],"userName":"bogus-5"}'),
    Case(
        "schemas-wrong-type",
        "POST",
        "/Groups",
        400,
        "invalidValue",
        f'{{"schemas":["{USER_SCHEMA}"],"displayName":"g"}}',
    ),
    Case("schemas-bogus-put", "PUT", "/Users/{uid}", 400, "invalidValue", '{"schemas":["urn:bogus"],"userName":"b"}'),
    Case(
        "schemas-unknown-with-data",
        "POST",
        "/Users",
        400,
        "invalidValue",
        f'{{"schemas":["{USER_SCHEMA}","urn:bogus"],"userName":"bogus-6","urn:bogus":{{"x":"y"}}}}',
    ),
    # -- JSON that is not JSON (RFC 8259 has no NaN or Infinity)
    Case("json-nan", "POST", "/Users", 400, "invalidSyntax", user_json('"nan@example.com"', ',"title":NaN')),
    Case("json-infinity", "POST", "/Users", 400, "invalidSyntax", user_json('"inf@example.com"', ',"title":-Infinity')),
    # -- preconditions on writes (RFC 9110 §13.1.2: If-None-Match that matches → 412)
    Case(
        "if-none-match-star-patch",
        "PATCH",
        "/Users/{uid}",
        412,
        None,
        patch_json('{"op":"replace","path":"title","value":"x"}'),
        headers={"If-None-Match": "*"},
    ),
    Case(
        "if-none-match-current-patch",
        "PATCH",
        "/Users/{uid}",
        412,
        None,
        patch_json('{"op":"replace","path":"title","value":"x"}'),
        headers={"If-None-Match": "{etag}"},
    ),
    Case(
        "if-none-match-star-put",
        "PUT",
        "/Users/{uid}",
        412,
        None,
        user_json('"seed@example.com"'),
        headers={"If-None-Match": "*"},
    ),
    Case("if-none-match-star-delete", "DELETE", "/Users/{uid}", 412, None, headers={"If-None-Match": "*"}),
    # -- identity strings (issue 11 §7): invisible, control and direction-changing characters
    Case("userName-zero-width-only", "POST", "/Users", 400, "invalidValue", user_json('"\\u200b"')),
    Case("userName-invisible-mix", "POST", "/Users", 400, "invalidValue", user_json('"\\u200b\\u2060\\ufeff"')),
    Case("userName-rtl-override", "POST", "/Users", 400, "invalidValue", user_json('"evil\\u202egpj.exe"')),
    Case("userName-nul", "POST", "/Users", 400, "invalidValue", user_json('"ab\\u0000c"')),
    Case("userName-overlong", "POST", "/Users", 400, "invalidValue", user_json('"' + "a" * 1025 + '"')),
    Case("userName-control", "POST", "/Users", 400, "invalidValue", user_json('"ab\\u0007c"')),
    Case("userName-newline", "POST", "/Users", 400, "invalidValue", user_json('"ab\\nc"')),
    Case(
        "userName-patch-bidi",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidValue",
        patch_json('{"op":"replace","path":"userName","value":"a\\u2067b"}'),
    ),
    # -- the same person under another spelling (NFKC + casefold): a clash, not a second account
    Case("userName-nfd-duplicate", "POST", "/Users", 409, "uniqueness", user_json('"jose\\u0301@example.com"')),
    Case("userName-fullwidth-duplicate", "POST", "/Users", 409, "uniqueness", user_json('"\\uff53eed@example.com"')),
    # -- work inside the single writer bounded by what a body holds (found from outside: one PATCH of 8,000
    # filtered operations held the writer 13 s; 20,000 e-mail addresses made each later PATCH take seconds)
    # -- a name given twice (any case) is ambiguous: the PATCH limit read one 'Operations', the patch the other
    Case(
        "json-name-twice", "POST", "/Users", 400, "invalidSyntax", user_json('"twice-a@example.com"', ',"userName":"b"')
    ),
    Case(
        "json-name-twice-case",
        "POST",
        "/Users",
        400,
        "invalidSyntax",
        user_json('"twice-c@example.com"', ',"USERNAME":"d"'),
    ),
    Case(
        "json-schemas-twice-case",
        "POST",
        "/Users",
        400,
        "invalidSyntax",
        user_json('"twice-e@example.com"', ',"SCHEMAS":["urn:bogus"]'),
    ),
    Case(
        "patch-operations-twice-case",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidSyntax",
        f'{{"schemas":["{PATCH_SCHEMA}"],"Operations":[{{"op":"replace","path":"title","value":"x"}}],"operations":['
        + ",".join(['{"op":"replace","path":"title","value":"y"}'] * 1001)
        + "]}",
    ),
    Case(
        "patch-1001-operations",
        "PATCH",
        "/Users/{uid}",
        413,
        None,  # RFC 7644 §3.12: "tooMany" is a filter's too many results; a 413 has no scimType (§3.7.4's example)
        patch_json(",".join(['{"op":"replace","path":"title","value":"x"}'] * 1001)),
    ),
    Case(
        "post-101-emails",
        "POST",
        "/Users",
        400,
        "invalidValue",
        user_json(
            '"many@example.com"', ',"emails":' + json.dumps([{"value": f"u{i}@example.com"} for i in range(101)])
        ),
    ),
    Case(
        "put-101-emails",
        "PUT",
        "/Users/{uid}",
        400,
        "invalidValue",
        user_json(
            '"seed@example.com"', ',"emails":' + json.dumps([{"value": f"u{i}@example.com"} for i in range(101)])
        ),
    ),
    Case(
        "patch-add-101-emails",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidValue",
        patch_json(
            '{"op":"add","path":"emails","value":'
            + json.dumps([{"value": f"u{i}@example.com"} for i in range(101)])
            + "}"
        ),
    ),
    Case(
        "patch-add-object-101-emails",
        "PATCH",
        "/Users/{uid}",
        400,
        "invalidValue",
        patch_json(
            '{"op":"add","value":{"emails":' + json.dumps([{"value": f"u{i}@example.com"} for i in range(101)]) + "}}"
        ),
    ),
    *(
        Case(
            f"bulk-failOnErrors-{value}",
            "POST",
            "/Bulk",
            400,
            "invalidValue",
            json.dumps(
                {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "failOnErrors": value,
                    "Operations": [
                        {"method": "POST", "path": "/Users", "bulkId": "a", "data": json.loads(user_json('"kim"'))}
                    ],
                }
            ),
        )
        for value in (0, -1)
    ),
    Case(
        "bulk-1001-patch-operations",
        "POST",
        "/Bulk",
        413,
        None,  # RFC 7644 §3.12: "tooMany" is a filter's too many results; a 413 has no scimType (§3.7.4's example)
        json.dumps(
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
                    {
                        "method": "PATCH",
                        "path": "/Users/{uid}",
                        "data": {
                            "schemas": [PATCH_SCHEMA],
                            "Operations": [{"op": "replace", "path": "title", "value": "x"}] * 501,
                        },
                    }
                ]
                * 2,
            }
        ),
    ),
]


@pytest.fixture(scope="module")
def seeded(live: LiveServer) -> Iterator[dict[str, str]]:
    """One user every id-bearing case aims at, and one whose userName the look-alikes try to take."""
    with live.client() as http:
        seed = http.post("/Users", json=new_user("seed@example.com", title="seed"))
        assert seed.status_code == 201, seed.text
        other = http.post("/Users", json=new_user("josé@example.com"))
        assert other.status_code == 201, other.text
        yield {"uid": seed.json()["id"], "etag": seed.headers["ETag"]}


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_is_a_clear_4xx_and_changes_nothing(
    case: Case, live: LiveServer, client: httpx.Client, seeded: dict[str, str]
) -> None:
    before = store_digest(live.server.vault)
    headers = {key: _fill(value, seeded) for key, value in case.headers.items()}
    if case.body is not None:
        headers["Content-Type"] = "application/scim+json"
    response = client.request(
        case.method,
        _fill(case.path, seeded),
        params=case.params or None,
        content=case.body.encode() if case.body is not None else None,
        headers=headers,
    )
    assert response.status_code == case.status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(case.status)
    assert body.get("scimType") == case.scim_type, body
    assert "Traceback" not in response.text and "\\ud800" not in response.text
    assert store_digest(live.server.vault) == before


def test_unknown_member_is_named_by_position_not_by_value(client: httpx.Client, seeded: dict[str, str]) -> None:
    """Found from outside (verify-sec): the error echoed the member value as sent (any text, an address too)."""
    members = [{"value": seeded["uid"]}, {"value": "jane.doe@example.com"}]
    answer = client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "echo", "members": members})
    assert answer.status_code == 400 and answer.json()["scimType"] == "invalidValue"
    assert "jane.doe" not in answer.text and "members[1]" in answer.text


def test_cursor_walk_sorted_by_a_date_reaches_every_user(client: httpx.Client, seeded: dict[str, str]) -> None:
    """The cursor now carries the sort value as SQLite stores it (checked on the way back in): dateTime sorts
    must still page through every user exactly once."""
    expected = client.get("/Users", params={"count": 0}).json()["totalResults"]
    seen: list[str] = []
    params = {"sortBy": "meta.lastModified", "count": "1", "cursor": ""}
    while True:
        page = client.get("/Users", params=params)
        assert page.status_code == 200, page.text
        seen.extend(resource["id"] for resource in page.json()["Resources"])
        if "nextCursor" not in page.json():
            break
        params["cursor"] = page.json()["nextCursor"]
    assert len(seen) == len(set(seen)) == expected >= 2


def test_head_answers_as_get_without_a_body(client: httpx.Client, seeded: dict[str, str]) -> None:
    for path in (f"/Users/{seeded['uid']}", "/Users", "/ServiceProviderConfig"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == 200 == got.status_code, path
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
    assert client.head(f"/Users/{seeded['uid']}").headers["ETag"] == seeded["etag"]
    assert client.head("/Users/no-such-id").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "items", "start"),
    [
        ("GET", "/Users", {"startIndex": "99999999999999999999"}, None, 0, 99999999999999999999),
        ("GET", "/Users", {"startIndex": "-99999999999999999999"}, None, None, 1),
        ("GET", "/Users", {"count": "99999999999999999999"}, None, None, 1),
        ("GET", "/Users", {"count": "-99999999999999999999"}, None, 0, 1),
        ("POST", "/Users/.search", None, '{"startIndex":99999999999999999999,"count":5}', 0, 99999999999999999999),
        (
            "GET",
            "/Users",
            {"startIndex": "99999999999999999999", "filter": 'userName eq "seed@example.com"'},
            None,
            0,
            None,
        ),
    ],
)
def test_paging_beyond_64_bits(
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: str | None,
    items: int | None,
    start: int | None,
    live: LiveServer,
    client: httpx.Client,
    seeded: dict[str, str],
) -> None:
    """RFC 7644 §3.4.2.4 bounds neither number: a startIndex below 1 is 1, one past every result is an empty page,
    a count above the maximum is the maximum and a negative one is 0. SQLite's OFFSET is not unbounded (that
    was a 500): the server clamps, the answer is what the RFC says."""
    before = store_digest(live.server.vault)
    headers = {"Content-Type": "application/scim+json"} if body else {}
    response = client.request(method, path, params=params, content=body.encode() if body else None, headers=headers)
    assert response.status_code == 200, response.text
    listed = response.json()
    total = client.get("/Users", params={"count": "0"}).json()["totalResults"]
    expected = min(total, 1000) if items is None else items
    assert listed["itemsPerPage"] == len(listed["Resources"]) == expected
    if start is not None:
        assert listed["startIndex"] == start
    assert store_digest(live.server.vault) == before


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/Users", "GET, HEAD, POST"),
        ("POST", "/Users/{uid}", "GET, HEAD, PUT, PATCH, DELETE"),
        ("PUT", "/ServiceProviderConfig", "GET, HEAD"),
        ("GET", "/Bulk", "POST"),
        ("HEAD", "/.search", "POST"),
    ],
)
def test_method_not_allowed_says_what_is(
    method: str, path: str, allowed: str, client: httpx.Client, seeded: dict[str, str]
) -> None:
    response = client.request(method, _fill(path, seeded))
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed  # RFC 9110 §15.5.6
