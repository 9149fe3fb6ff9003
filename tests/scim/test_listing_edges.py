"""List and ``.search`` parameters as IdPs and attackers send them, over the real HTTPS server on a real vault.

Each test failed on the code before it; the docstring says what was answered then.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from app.audit.trail import READ_SUBJECTS, of_kind
from tests.conftest import LiveServer, new_user
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
