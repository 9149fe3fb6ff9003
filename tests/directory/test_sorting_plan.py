"""Sorted pages are read in index order: for every attribute a list can be sorted by cheaply (the columns, and the
single-valued attributes of ``attribute_values``), ascending and descending, by index and by cursor, with and
without a filter, SQLite reads an index range and never sorts the matching documents in a temporary B-tree.
The pages are also checked against the order computed in Python (missing values first when ascending, ties by
id), across the boundary between the resources without a value and those with one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.directory import repository as repo
from app.directory.identity_strings import lookup_key
from app.directory.query import QueryParams, search
from app.store.vault import Vault
from tests.conftest import ENTERPRISE, USER_SCHEMA
from tests.directory.test_paging_plan import Plans

USERS = 1500
BASE = "https://scim.test/scim/v2"
START = datetime(2026, 1, 1, tzinfo=UTC)


def _person(i: int) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": f"User{(i * 31) % USERS:05d}@Example.org",
        "name": {"familyName": f"Family {i % 40}", "givenName": "Given"},
        ENTERPRISE: {"employeeNumber": f"{(i * 17) % 90:03d}"},
    }
    if i % 7:
        document["displayName"] = f"Name {i % 50}"  # ties, broken by id
    if i % 5:
        document["externalId"] = f"Ext-{(i * 13) % USERS:05d}"
    if i % 3:
        document["title"] = f"Title {chr(65 + i % 26)}{i % 20}"
    return document


@pytest.fixture(scope="module")
def people(module_vault: Vault) -> dict[str, dict[str, Any]]:
    """Users whose id order differs from their insertion order, with missing values and ties in each attribute."""
    people = {}
    with module_vault.write_transaction() as conn:
        for i in range(USERS):
            resource_id = f"id-{(i * 7919) % USERS:05d}"
            document = _person(i)
            row = repo.insert_resource(conn, "User", resource_id, document, START + timedelta(seconds=i % 97))
            people[resource_id] = {**document, "created": row.created, "rid": row.rid}
    module_vault.optimize()  # the planner's statistics, as the server keeps them
    return people


@pytest.fixture
def plans(module_vault: Vault, people: dict[str, dict[str, Any]]) -> Iterator[Plans]:
    recorder = Plans(module_vault)
    event.listen(module_vault.engine, "before_cursor_execute", recorder.capture)
    yield recorder
    event.remove(module_vault.engine, "before_cursor_execute", recorder.capture)


def _value(person: dict[str, Any], sort_by: str) -> Any:
    if sort_by == "userName":
        return lookup_key(person["userName"])
    if sort_by == "displayName":
        return person.get("displayName", "").lower() or None
    if sort_by == "externalId":
        return person.get("externalId")
    if sort_by in ("meta.created", "meta.lastModified"):
        return person["created"]
    if sort_by == "title":
        return person.get("title", "").lower() or None
    if sort_by == "name.familyName":
        return person["name"]["familyName"].lower()
    return person[ENTERPRISE]["employeeNumber"]


# Indexes that break ties by the resource's number (its order of creation), not its id: attribute_values', and
# the column indexes but userName's (unique). The resources without a value come in id order for an attribute of
# attribute_values (read on (resource_type, id)), in number order for a column (read on the column's index).
ATTRIBUTES = ("title", "name.familyName", f"{ENTERPRISE}:employeeNumber")
COLUMNS = ("displayName", "externalId", "meta.created", "meta.lastModified")


def expected(people: dict[str, dict[str, Any]], sort_by: str, descending: bool, keep: Any = None) -> list[str]:
    def key(item: tuple[str, dict[str, Any]]) -> tuple[Any, ...]:
        value = _value(item[1], sort_by)
        by_number = sort_by in ATTRIBUTES or sort_by in COLUMNS
        tie = item[1]["rid"] if by_number else item[0]
        missing_tie = item[1]["rid"] if sort_by in COLUMNS else item[0]
        return (0, "", missing_tie) if value is None else (1, value, tie)

    chosen = [item for item in people.items() if keep is None or keep(item[1])]
    return [resource_id for resource_id, _person in sorted(chosen, key=key, reverse=descending)]


SORTS = [
    "userName",
    "displayName",
    "externalId",
    "meta.created",
    "meta.lastModified",
    "title",
    "name.familyName",
    f"{ENTERPRISE}:employeeNumber",
]
# A filter the sort index does not answer (the rows are checked on the way), and one on the sort attribute.
FILTERS = {
    "none": (None, None),
    "family": ('name.familyName eq "family 7"', lambda person: person["name"]["familyName"] == "Family 7"),
}


def _walk(vault: Vault, sort_by: str, order: str, text: str | None) -> list[str]:
    seen: list[str] = []
    cursor = ""
    for _ in range(USERS):
        params = QueryParams(filter=text, sort_by=sort_by, sort_order=order, cursor=cursor, count=400)
        page = search(vault, None, BASE, ("User",), params)
        seen += [resource["id"] for resource in page["Resources"]]
        if "nextCursor" not in page:
            return seen
        cursor = page["nextCursor"]
    raise AssertionError("the cursor walk did not end")


def _assert_index_plans(plans: Plans, filtered: bool) -> None:
    sent = plans.plans()
    assert sent, "search() sent no SELECT"
    for plan in sent:
        assert "SCAN scim_resources" not in plan or "INDEX" in plan, plan
        assert "SCAN attribute_values" not in plan or "INDEX" in plan, plan
        if not filtered:
            assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("order", ["ascending", "descending"])
@pytest.mark.parametrize("sort_by", SORTS)
@pytest.mark.parametrize("which", list(FILTERS))
def test_sorted_cursor_walks_read_an_index_in_order(
    module_vault: Vault, people: dict[str, dict[str, Any]], plans: Plans, sort_by: str, order: str, which: str
) -> None:
    text, keep = FILTERS[which]
    assert _walk(module_vault, sort_by, order, text) == expected(people, sort_by, order == "descending", keep)
    _assert_index_plans(plans, filtered=text is not None)


@pytest.mark.parametrize("order", ["ascending", "descending"])
@pytest.mark.parametrize("sort_by", SORTS)
def test_sorted_index_pages_read_an_index_in_order(
    module_vault: Vault, people: dict[str, dict[str, Any]], plans: Plans, sort_by: str, order: str
) -> None:
    """Pages by startIndex, one of them across the boundary between missing values and values."""
    want = expected(people, sort_by, order == "descending")
    missing = sum(1 for person in people.values() if _value(person, sort_by) is None)
    boundary = missing - 3 if order == "ascending" else USERS - missing - 3
    for start in sorted({1, max(1, boundary), 1201}):
        params = QueryParams(sort_by=sort_by, sort_order=order, start_index=start, count=100)
        page = search(module_vault, None, BASE, ("User",), params)
        assert page["totalResults"] == USERS
        assert [resource["id"] for resource in page["Resources"]] == want[start - 1 : start + 99], start
    _assert_index_plans(plans, filtered=False)


def test_a_multi_valued_sort_keeps_its_order(module_vault: Vault, people: dict[str, dict[str, Any]]) -> None:
    """emails.value sorts by each resource's primary, else first, address (the one case SQLite still sorts)."""
    page = search(module_vault, None, BASE, ("User",), QueryParams(sort_by="emails.value", count=5))
    assert page["totalResults"] == USERS and len(page["Resources"]) == 5
    assert [r["id"] for r in page["Resources"]] == sorted(r["id"] for r in page["Resources"])  # none has one
