"""Sealed cursors (app/directory/cursor_seal.py) over the real HTTPS server: a cursor carries no personal value
and cannot be made or altered by a client; sorted walks still reach every user exactly once."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.directory.cursor_seal import UnreadableCursor, seal, unseal
from tests.conftest import new_user
from tests.scim.test_http import assert_scim_error

PREFIX = "sealed-walk-"
TITLES = ("Engineer", "Engineer", "Engineer", "Manager", "Manager", "Analyst", "Analyst")  # ties on purpose


def _names(client: httpx.Client) -> list[str]:
    names = [f"{PREFIX}{n}.Person@Example.com" for n in range(len(TITLES))]
    for name, title in zip(names, TITLES, strict=True):
        client.post("/Users", json=new_user(name, title=title, emails=[{"value": name.lower()}]))  # 409 if there
    return names


def _walk(
    client: httpx.Client, sort_by: str, order: str, during: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """(userNames in the order served, the cursors served). ``during``: users created between the pages."""
    params = {"filter": f'userName sw "{PREFIX}"', "sortBy": sort_by, "sortOrder": order, "count": "2", "cursor": ""}
    seen: list[str] = []
    cursors: list[str] = []
    while True:
        page = client.get("/Users", params=params)
        assert page.status_code == 200, page.text
        seen += [resource["userName"] for resource in page.json()["Resources"]]
        if "nextCursor" not in page.json():
            return seen, cursors
        params["cursor"] = page.json()["nextCursor"]
        cursors.append(params["cursor"])
        if during:
            client.post("/Users", json=new_user(during.pop()))


def _readable(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@pytest.mark.parametrize("sort_by", ["userName", "title", "emails.value"])
def test_a_cursor_carries_no_user_name(client: httpx.Client, sort_by: str) -> None:
    """Before: the cursor was base64 of JSON holding the last row's sort value (the userName, in a URL that proxies
    and access logs record). Now sealed: none of the names, nor the sort value, nor JSON structure shows."""
    names = _names(client)
    seen, cursors = _walk(client, sort_by, "ascending")
    assert sorted(seen) == sorted(names) and len(cursors) >= 3
    for cursor in cursors:
        readable = _readable(cursor)
        assert b'"k"' not in readable and b"Engineer" not in readable and b"Manager" not in readable
        for name in names:
            assert name.encode() not in readable and name.lower().encode() not in readable
            assert name not in cursor and name.lower() not in cursor
    assert len({len(cursor) for cursor in cursors}) == 1  # padded: the length does not follow the value's


@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_sorted_walks_with_ties_and_inserts_reach_every_user_once(client: httpx.Client, order: str) -> None:
    names = _names(client)
    late = [f"{PREFIX}late-{order}-{n}@example.com" for n in range(3)]
    seen, _ = _walk(client, "title", order, during=list(late))
    assert len(seen) == len(set(seen)) and set(names) <= set(seen)  # each once, inserted ones or not


def test_an_altered_or_unsealed_cursor_is_invalid(client: httpx.Client) -> None:
    _names(client)
    _, cursors = _walk(client, "userName", "ascending")
    raw = bytearray(_readable(cursors[0]))
    raw[-1] ^= 1  # one bit of the tag
    altered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    params = {"filter": f'userName sw "{PREFIX}"', "sortBy": "userName", "count": "2"}
    assert client.get("/Users", params={**params, "cursor": cursors[0]}).status_code == 200
    for cursor in (altered, cursors[0][:20], "A" * 200):
        answer = client.get("/Users", params={**params, "cursor": cursor})
        assert_scim_error(answer, 400, "invalidCursor")


def test_seal_round_trip_and_refusals() -> None:
    sealed = seal(b'{"k":["a","b"]}')
    assert unseal(sealed).rstrip() == b'{"k":["a","b"]}'
    assert seal(b"x") != seal(b"x")  # a fresh nonce each time: equal positions do not give equal cursors
    for bad in ("", "%%%", "é", sealed[:-2], sealed + "A"):
        with pytest.raises(UnreadableCursor):
            unseal(bad)


def test_a_cursor_from_before_a_restart_is_refused_with_what_to_do(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried by hand: `serve` restarted mid-walk, and the next page was refused "The cursor is not valid for this
    query." alone: the IdP's administrator looked for a fault in a query that was the same. The key is drawn per
    process, so a restart is the same as a new key; the refusal now says so, and to start again."""
    from app.directory import cursor_seal

    _names(client)
    _, cursors = _walk(client, "userName", "ascending")
    monkeypatch.setattr(cursor_seal, "_AEAD", AESGCM(AESGCM.generate_key(bit_length=256)))  # as after a restart
    params = {"filter": f'userName sw "{PREFIX}"', "sortBy": "userName", "count": "2", "cursor": cursors[0]}
    answer = client.get("/Users", params=params)
    assert_scim_error(answer, 400, "invalidCursor")
    detail = answer.json()["detail"]
    assert "before the server restarted" in detail and "Start the listing again without a cursor." in detail
    assert cursors[0] not in detail and PREFIX not in detail
