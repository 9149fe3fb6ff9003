"""Pages are read in index order: every paging mode of an unsorted list is a range on (resource_type, id), never a
scan and sort of every document; the COUNT reads an index, not the documents. Checked on the statements search()
really sends, with SQLite's EXPLAIN QUERY PLAN."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert

from app.directory.query import QueryParams, search
from app.store.models import ScimResource
from app.store.vault import Vault

USERS = 3000
BASE = "https://scim.test/scim/v2"


@pytest.fixture
def directory(vault: Vault) -> Vault:
    now = datetime.now(UTC)
    rows = [
        {
            "id": f"id-{i:05d}",
            "resource_type": "User",
            "user_name": f"u{i}",
            "user_name_ci": f"u{i}",
            "document": f'{{"userName":"u{i}"}}',
            "version": 1,
            "created": now,
            "modified": now,
        }
        for i in range(USERS)
    ]
    rows += [
        {**row, "id": f"g-{i:03d}", "resource_type": "Group", "user_name": None, "user_name_ci": None}
        for i, row in enumerate(rows[:50])
    ]
    with vault.write_transaction() as conn:
        conn.execute(insert(ScimResource), rows)
    vault.optimize()  # the planner's statistics, as the server keeps them
    return vault


class Plans:
    """Each SELECT search() sends, with SQLite's plan for it."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.sent: list[tuple[str, Any]] = []

    def capture(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.sent.append((statement, parameters))

    def plans(self) -> list[str]:
        with self.vault.engine.connect() as conn:
            return [
                " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in self.sent
            ]


@pytest.fixture
def plans(directory: Vault) -> Iterator[Plans]:
    recorder = Plans(directory)
    event.listen(directory.engine, "before_cursor_execute", recorder.capture)
    yield recorder
    event.remove(directory.engine, "before_cursor_execute", recorder.capture)


@pytest.mark.parametrize(
    "params",
    [
        QueryParams(count=100),
        QueryParams(start_index=2001, count=100),
        QueryParams(start_index=2001, count=100, sort_order="descending"),
        QueryParams(cursor="", count=100),
        QueryParams(cursor="", count=100, sort_order="descending"),
    ],
    ids=["first-page", "index-page-21", "index-descending", "cursor-first", "cursor-descending"],
)
def test_unsorted_pages_read_the_type_id_index(plans: Plans, params: QueryParams) -> None:
    body = search(plans.vault, None, BASE, ("User",), params)
    ids = [resource["id"] for resource in body["Resources"]]
    assert len(ids) == 100 and body["totalResults"] == USERS
    assert ids == sorted(ids, reverse=params.sort_order == "descending")
    if params.cursor is not None:  # the next page resumes with a range on the same index
        plans.sent.clear()
        resumed = QueryParams(**{**params.__dict__, "cursor": body["nextCursor"]})
        following = search(plans.vault, None, BASE, ("User",), resumed)
        next_ids = [resource["id"] for resource in following["Resources"]]
        assert next_ids[0] != ids[-1] and (next_ids[0] > ids[-1]) == (params.sort_order != "descending")
    sent = plans.plans()
    assert sent, "search() sent no SELECT"
    for plan in sent:
        assert "TEMP B-TREE" not in plan, plan
        assert "SCAN scim_resources" not in plan or "COVERING INDEX" in plan, plan
    page_plan = sent[0]
    assert "USING INDEX ix_resource_type_id (resource_type=?" in page_plan, page_plan


def test_count_reads_an_index_not_the_documents(plans: Plans) -> None:
    body = search(plans.vault, None, BASE, ("User",), QueryParams(start_index=101, count=10))
    assert body["totalResults"] == USERS
    count_plan = plans.plans()[-1]
    assert "COVERING INDEX" in count_plan, count_plan
