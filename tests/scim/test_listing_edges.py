"""List and ``.search`` parameters as IdPs and attackers send them, over the real HTTPS server on a real vault.

Each test failed on the code before it; the docstring says what was answered then.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from app.audit.trail import READ_SUBJECTS, of_kind
from app.directory import repository as repo
from tests.conftest import GROUP_SCHEMA, USER_SCHEMA, LiveServer, new_user
from tests.scim.test_http import assert_scim_error


def _three_ways(client: httpx.Client, filter_: str) -> list[httpx.Response]:
    """The same filter as a GET, a resource type's ``.search`` and the root ``.search``."""
    return [
        client.get("/Users", params={"filter": filter_}),
        client.post("/Users/.search", json={"filter": filter_}),
        client.post("/.search", json={"filter": filter_}),
    ]


@pytest.mark.parametrize("filter_", ["", " ", "\t \t"])
def test_an_empty_filter_is_refused_not_read_as_no_filter(live: LiveServer, filter_: str) -> None:
    """RFC 7644 §3.4.2.2: a filter is at least one expression. Before: ``?filter=`` and ``{"filter": ""}`` listed
    every resource (and the trail named them all); a filter of blanks was "invalid syntax at column 1"."""
    with live.client() as client:
        client.post("/Users", json=new_user("empty-filter@example.com"))
        for answer in _three_ways(client, filter_):
            assert_scim_error(answer, 400, "invalidFilter")
            assert "The filter is empty" in answer.json()["detail"]
    recorder = live.server.recorder
    assert recorder is not None
    recorder.flush()
    with live.server.vault.read_connection() as conn:
        (entry,) = of_kind(conn, "scim.request", limit=1)
    assert not entry.details.get(READ_SUBJECTS)  # the refused read named nobody


def test_an_absent_filter_still_lists(client: httpx.Client) -> None:
    client.post("/Users", json=new_user("no-filter@example.com"))
    assert client.get("/Users").json()["totalResults"] >= 1
    assert client.post("/Users/.search", json={}).json()["totalResults"] >= 1


@pytest.mark.parametrize(
    ("moment", "hint"),
    [
        ("2026-01-01T00:00:00", "Without a zone"),  # was read as UTC: another zone's window, silently
        ("2026-01-01T00:00:00.5", "Without a zone"),
        ("2026-01-01", "A date alone"),  # was midnight UTC: `created eq "2026-01-01"` matched nothing
        ("2026-01-01 00:00:00Z", ""),  # the forms below are Python's, not xsd:dateTime; each was served
        ("2026-01-01T00:00Z", ""),
        ("20260101T000000Z", ""),
        ("2026-W01", ""),
        ("2026-01-01T00:00:00+0100", ""),
    ],
)
def test_a_moment_that_is_no_xsd_date_time_with_a_zone_is_refused(client: httpx.Client, moment: str, hint: str) -> None:
    """RFC 7643 §2.3.5, decision 0053: a dateTime in a filter is a date, a time and a zone, or 400."""
    for operator in ("gt", "eq"):
        for answer in _three_ways(client, f'meta.lastModified {operator} "{moment}"'):
            assert_scim_error(answer, 400, "invalidFilter")
            detail = answer.json()["detail"]
            assert "'meta.lastModified' is a dateTime" in detail and "with its zone" in detail and hint in detail
            assert moment not in detail


def test_digits_past_the_microsecond_are_refused_unless_zero(client: httpx.Client) -> None:
    """Before: ``.0000009`` was cut off, so ``ge "…00.0000009Z"`` matched a resource modified at ``…00.000000``."""
    refused = client.get("/Users", params={"filter": 'meta.lastModified ge "2026-01-01T00:00:00.0000009Z"'})
    assert_scim_error(refused, 400, "invalidFilter")
    assert "microsecond" in refused.json()["detail"]
    kept = client.get("/Users", params={"filter": 'meta.lastModified ge "2000-01-01T00:00:00.000000000Z"'})
    assert kept.status_code == 200, kept.text


def test_a_moment_with_a_zone_is_that_moment_in_any_zone(client: httpx.Client) -> None:
    """The forms still served: ``Z`` (either case) or an offset, with or without a fraction."""
    stamp = client.post("/Users", json=new_user("zoned@example.com")).json()["meta"]["lastModified"]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    india = moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    by_name = 'userName eq "zoned@example.com"'
    for written in (stamp, stamp.lower(), india, moment.isoformat()):
        for operator, found in (("eq", 1), ("ge", 1), ("gt", 0), ("le", 1), ("lt", 0)):
            query = f'meta.lastModified {operator} "{written}" and {by_name}'
            answer = client.get("/Users", params={"filter": query})
            assert answer.status_code == 200, answer.text
            assert answer.json()["totalResults"] == found, query


def _names(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [resource.get("userName") or resource["displayName"] for resource in answer.json()["Resources"]]


def test_ne_on_a_multi_valued_attribute_matches_any_other_value(client: httpx.Client) -> None:
    """RFC 7644 §3.4.2.2: on a multi-valued attribute a filter "matches if any of the values … match". Before:
    ``emails.value ne "x"`` meant "no value equals x", leaving out a person with x *and* another address."""
    both = [{"value": "ne-x@example.com"}, {"value": "ne-y@example.com"}]
    client.post("/Users", json=new_user("ne-both@example.com", emails=both))
    client.post("/Users", json=new_user("ne-only@example.com", emails=[{"value": "ne-x@example.com"}]))
    client.post("/Users", json=new_user("ne-none@example.com"))
    for expression in ('emails.value ne "ne-x@example.com"', 'emails ne "NE-X@example.com"'):
        answer = client.get("/Users", params={"filter": f'{expression} and userName sw "ne-"', "sortBy": "userName"})
        assert _names(answer) == ["ne-both@example.com", "ne-none@example.com"]  # no value at all: as title ne "x"
    # A single-valued attribute keeps its meaning; `not (… eq …)` still says "none equals".
    answer = client.get("/Users", params={"filter": 'not (emails.value eq "ne-x@example.com") and userName sw "ne-"'})
    assert _names(answer) == ["ne-none@example.com"]


def test_a_member_is_found_by_the_display_its_group_shows(client: httpx.Client) -> None:
    """A member without a displayName is shown by its userName. Before: ``members.display eq "<that userName>"`` and
    ``members[display pr]`` did not find the group showing it."""
    plain = client.post("/Users", json=new_user("shown-by-name@example.com")).json()["id"]
    named = client.post("/Users", json=new_user("shown-named@example.com", displayName="Shown Named")).json()["id"]
    for name, member in (("disp-plain", plain), ("disp-named", named)):
        body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": member}]}
        shown = client.post("/Groups", json=body).json()["members"][0]["display"]
        assert shown == ("shown-by-name@example.com" if member == plain else "Shown Named")
    scope = ' and displayName sw "disp-"'
    cases = {
        'members.display eq "SHOWN-BY-NAME@example.com"': ["disp-plain"],
        'members[display eq "shown-by-name@example.com"]': ["disp-plain"],
        "members[display pr]": ["disp-named", "disp-plain"],
        'members.display sw "shown"': ["disp-named", "disp-plain"],
        'members.display eq "shown-named@example.com"': [],  # a displayName is what is shown, not the userName
        'members.display eq "Shown Named"': ["disp-named"],
    }
    for expression, groups in cases.items():
        answer = client.get("/Groups", params={"filter": expression + scope, "sortBy": "displayName"})
        assert _names(answer) == groups, expression


def test_a_multi_valued_sort_uses_the_primary_value_then_the_first(client: httpx.Client) -> None:
    """RFC 7644 §3.4.2.3. Before: each person's smallest address ordered them: [first, primary, only]."""
    people = {
        "msort-primary@example.com": [{"value": "m1@example.com"}, {"value": "z1@example.com", "primary": True}],
        "msort-first@example.com": [{"value": "n2@example.com"}, {"value": "a2@example.com"}],
        "msort-only@example.com": [{"value": "p3@example.com"}],
    }
    for user_name, emails in people.items():
        client.post("/Users", json=new_user(user_name, emails=emails))
    want = ["msort-first@example.com", "msort-only@example.com", "msort-primary@example.com"]  # n2, p3, z1
    query = {"filter": 'userName sw "msort-"', "sortBy": "emails"}
    for sort_by in ("emails", "emails.value", "EMAILS.Value"):
        assert _names(client.get("/Users", params={**query, "sortBy": sort_by})) == want
    assert _names(client.get("/Users", params={**query, "sortOrder": "descending"})) == want[::-1]
    walked, cursor = [], ""
    while cursor is not None:  # the cursor carries the same computed value, page by page
        page = client.get("/Users", params={**query, "count": 1, "cursor": cursor})
        walked += _names(page)
        cursor = page.json().get("nextCursor")
    assert walked == want


@pytest.mark.parametrize("where", ["Users", "Groups"])
def test_what_has_no_order_to_sort_by_is_refused(client: httpx.Client, where: str) -> None:
    """Before: 200 "sorted" by members, groups or meta.version, in id order, which is none of theirs."""
    names = ("members", "members.value", "members.display") if where == "Groups" else ("groups", "groups.display")
    for sort_by in (*names, "meta.version"):
        answer = client.get(f"/{where}", params={"sortBy": sort_by})
        assert_scim_error(answer, 400, "invalidValue")
        assert answer.json()["detail"] == f"Cannot sort by '{sort_by}'."
    assert client.get(f"/{where}", params={"sortBy": "meta.location"}).status_code == 200  # id order is its order


def test_a_users_groups_can_be_filtered_when_group_members_are_held(client: httpx.Client) -> None:
    """Before: ``groups[display eq "…"]`` was "not held under the agreed schema", beside Users showing their groups."""
    member = client.post("/Users", json=new_user("in-a-group@example.com")).json()["id"]
    group = client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "grp-filter", "members": [
        {"value": member}]}).json()["id"]  # fmt: skip
    for expression in ('groups[display eq "grp-filter"]', f'groups.value eq "{group}"', f'groups eq "{group}"'):
        assert _names(client.get("/Users", params={"filter": expression})) == ["in-a-group@example.com"], expression


def test_eq_null_and_ne_null_are_presence_tests(client: httpx.Client) -> None:
    """RFC 7643 §2.5: null is unassigned; RFC 7644 §3.4.2.2's grammar compares with null. Before: 400 for each."""
    work = [{"value": "nl@example.com", "type": "work"}, {"value": "nl-untyped@example.com"}]
    user = client.post("/Users", json=new_user("nl-titled@example.com", title="T", emails=work)).json()["id"]
    client.post("/Users", json=new_user("nl-bare@example.com", active=True))
    client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "nl-empty"})
    client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "nl-full", "members": [{"value": user}]})
    users = {
        "title eq null": ["nl-bare@example.com"],
        "title ne null": ["nl-titled@example.com"],
        "not (title eq null)": ["nl-titled@example.com"],
        "active eq null": ["nl-titled@example.com"],
        "emails[type eq null]": ["nl-titled@example.com"],  # its second address has no type
        "emails[type ne null and value eq null]": [],
    }
    for expression, found in users.items():
        query = {"filter": f'{expression} and userName sw "nl-"', "sortBy": "userName"}
        assert _names(client.get("/Users", params=query)) == found, expression
    for expression, found in {"members eq null": ["nl-empty"], "members.value ne null": ["nl-full"]}.items():
        query = {"filter": f'{expression} and displayName sw "nl-"'}
        assert _names(client.get("/Groups", params=query)) == found, expression
    for expression in ("title gt null", "title co null"):  # a null has no order and holds no text
        answer = client.get("/Users", params={"filter": expression})
        assert_scim_error(answer, 400, "invalidFilter")
        assert "only eq and ne apply" in answer.json()["detail"]


def test_computed_meta_is_refused_in_a_comparison(client: httpx.Client) -> None:
    """Before: ``meta.location eq "<a User's own location>"`` and ``meta.version eq "<its version>"`` were 200 with
    no match, "no such User"; they are computed for each answer, never indexed."""
    created = client.post("/Users", json=new_user("computed-meta@example.com")).json()
    meta = created["meta"]
    for expression, hint in (
        (f'meta.location eq "{meta["location"]}"', "filter on 'id' instead"),
        ('meta.location sw "https://"', "filter on 'id' instead"),
        (f"meta.version eq {json.dumps(meta['version'])}", "If-Match"),
    ):
        for answer in _three_ways(client, expression):
            assert_scim_error(answer, 400, "invalidFilter")
            assert hint in answer.json()["detail"] and created["id"] not in answer.json()["detail"]
    for expression in ("meta.location pr", "meta.version pr"):
        assert client.get("/Users", params={"filter": expression}).json()["totalResults"] >= 1


def test_a_lookup_many_share_counts_and_pages_them_all(live: LiveServer) -> None:
    """The lookups IdPs make before each write (``displayName eq``, ``externalId eq``, a work e-mail) read at most
    1,001 matches. Before: 1,005 people sharing a displayName were "totalResults": 1001, and startIndex 1002 on was
    an empty page: four of them could not be listed."""
    shared = {"displayName": "Shared Name", "externalId": "shared-ext",
              "emails": [{"value": "shared@example.com", "type": "work"}]}  # fmt: skip
    now = datetime.now(UTC)
    with live.server.vault.write_transaction() as conn:
        for n in range(1005):
            document = {"schemas": [USER_SCHEMA], "userName": f"shared-{n}@example.com", **shared}
            repo.insert_resource(conn, "User", str(uuid.uuid4()), document, now)
    with live.client() as client:
        for expression in (
            'displayName eq "Shared Name"',
            'externalId eq "shared-ext"',
            'emails[type eq "work"].value eq "shared@example.com"',
        ):
            page = client.get("/Users", params={"filter": expression, "startIndex": 1000, "count": 10}).json()
            assert (page["totalResults"], len(page["Resources"])) == (1005, 6), expression
            first = client.get("/Users", params={"filter": expression, "count": 2}).json()
            assert (first["totalResults"], first["itemsPerPage"]) == (1005, 2), expression


def test_a_case_exact_value_is_compared_exactly_in_a_typed_lookup(client: httpx.Client) -> None:
    """photos.value is caseExact (RFC 7643 §4.1.2). Before: the lookup shortcut compared it folded, so another
    person's photo URL in other letters matched; the same filter with ``and`` around it did not."""
    photo = [{"value": "https://photos.example.com/Ann.jpg", "type": "photo"}]
    client.post("/Users", json=new_user("photo-owner@example.com", photos=photo))
    for url, found in (("https://photos.example.com/ann.jpg", 0), ("https://photos.example.com/Ann.jpg", 1)):
        expression = f'photos[type eq "photo"].value eq "{url}"'
        for filter_ in (expression, f"{expression} and userName pr"):
            assert client.get("/Users", params={"filter": filter_}).json()["totalResults"] == found, filter_
