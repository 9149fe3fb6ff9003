"""app.store.browse: keyset pages in every order, filters from compile_filter, details with memberships."""

from __future__ import annotations

from datetime import datetime

import pytest
from ui_support import add_member, group_row, insert_rows, user_row

from app.directory.filter_sql import compile_filter
from app.store import browse
from app.store.vault import Vault


def _all_pages(vault: Vault, query: browse.Query, limit: int) -> list[browse.Row]:
    rows: list[browse.Row] = []
    cursor: browse.Cursor | None = None
    while True:
        page = browse.page(vault, query, cursor, limit)
        rows.extend(page.rows)
        if page.next is None:
            return rows
        cursor = page.next


@pytest.mark.parametrize("sort", ["userName", "displayName", "modified"])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_cover_every_row_once_in_sql_order(populated: Vault, sort: str, descending: bool) -> None:
    query = browse.Query("User", sort, descending)  # type: ignore[arg-type]
    rows = _all_pages(populated, query, limit=97)
    assert len(rows) == 2000
    assert len({row.id for row in rows}) == 2000
    expected = sorted(rows, key=lambda row: browse.order_key(row.key, row.id), reverse=descending)
    assert [row.id for row in rows] == [row.id for row in expected]
    if sort == "displayName":
        nulls = [row.key is None for row in rows]
        assert any(nulls)
        assert nulls == sorted(nulls, reverse=not descending)  # NULLs first ascending, last descending


def test_filter_count_and_rows_by_ids(populated: Vault) -> None:
    query = browse.Query("User", where=compile_filter("User", 'userName sw "user0001"'))
    rows = _all_pages(populated, query, limit=500)
    assert browse.count(populated, query) == len(rows) == 10
    assert all(row.user_name and row.user_name.startswith("user0001") for row in rows)
    assert browse.counts(populated, query) == (10, 2000)
    everyone = browse.page(populated, browse.Query("User"), None, 50).rows
    found = browse.rows_by_ids(populated, query, [row.id for row in everyone])
    assert set(found) == {row.id for row in everyone if row.user_name and row.user_name.startswith("user0001")}


def test_groups_are_separate_and_sorted_by_display_name(vault: Vault) -> None:
    insert_rows(vault, [group_row("Zeta"), group_row("alpha"), group_row("Beta")])
    insert_rows(vault, [user_row("someone", "Someone", datetime(2024, 1, 1))])
    page = browse.page(vault, browse.Query("Group", "displayName"))
    assert [row.display_name for row in page.rows] == ["alpha", "Beta", "Zeta"]
    assert page.next is None


def test_document_includes_memberships(vault: Vault) -> None:
    (user_id,) = insert_rows(vault, [user_row("ada", "Ada Lovelace", datetime(2024, 1, 1), title="Countess")])
    (group_id,) = insert_rows(vault, [group_row("Engineers")])
    add_member(vault, group_id, user_id)
    user = browse.document(vault, user_id)
    assert user is not None
    assert user.document["title"] == "Countess"
    assert [(g.id, g.label) for g in user.groups] == [(group_id, "Engineers")]
    group = browse.document(vault, group_id)
    assert group is not None
    assert [(m.id, m.resource_type, m.label) for m in group.members] == [(user_id, "User", "Ada Lovelace")]
    assert browse.document(vault, "missing") is None


def test_unknown_sort_is_refused() -> None:
    with pytest.raises(ValueError):
        browse.Query("User", "title")  # type: ignore[arg-type]
