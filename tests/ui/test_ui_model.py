"""ResourceTableModel: lazy pages, SQL sorting and filtering, live changes through the EventBridge."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import delete, update
from ui_support import insert_rows, user_row

from app.core.events import EventBus, RequestServed, ResourcesChanged
from app.directory import repository as repo
from app.directory.filter_sql import compile_filter
from app.scim.service import ScimService
from app.store.models import ScimResource
from app.store.vault import Vault
from app.ui.bridge import EventBridge
from app.ui.identities.model import COLUMNS, ID_ROLE, ResourceTableModel
from app.ui.times import local_time
from tests.conftest import GROUP_SCHEMA, new_user, patch_body

PAGE = 500


def _ids(model: ResourceTableModel) -> list[str]:
    return [model.row_id(row) for row in range(model.rowCount())]


def _column(model: ResourceTableModel, column: int) -> list[str]:
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


@pytest.fixture
def model(populated: Vault, qtbot: QtBot) -> Iterator[ResourceTableModel]:
    table = ResourceTableModel(populated, "User", page_size=PAGE)
    qtbot.waitUntil(lambda: table.rowCount() == PAGE and table.total == 2000)
    yield table
    table.deleteLater()


def test_model_passes_qt_model_tester(model: ResourceTableModel, qtmodeltester: ModelTester, qtbot: QtBot) -> None:
    qtmodeltester.check(model, force_py=True)
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: model.rowCount() >= 2 * PAGE)
    model.sort(1, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.rowCount() == PAGE)


def test_loads_lazily_one_page_at_a_time(model: ResourceTableModel, qtbot: QtBot) -> None:
    assert model.rowCount() == PAGE
    assert (model.matching, model.total) == (2000, 2000)
    assert model.canFetchMore(QModelIndex())
    for loaded in (1000, 1500, 2000):
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda loaded=loaded: model.rowCount() == loaded)
    assert not model.canFetchMore(QModelIndex())
    names = _column(model, 0)
    assert names == sorted(names)
    assert len(set(_ids(model))) == 2000
    assert model.data(model.index(0, 0), ID_ROLE) == model.row_id(0)


def test_repeated_fetch_more_while_loading_adds_each_row_once(model: ResourceTableModel, qtbot: QtBot) -> None:
    for _ in range(5):
        model.fetchMore(QModelIndex())  # the view may ask again before the page arrives
    qtbot.waitUntil(lambda: model.rowCount() == 1000)
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: model.rowCount() == 1500)
    assert len(set(_ids(model))) == 1500


def test_sort_requeries_sql(model: ResourceTableModel, qtbot: QtBot) -> None:
    with qtbot.waitSignal(model.modelReset):
        model.sort(0, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.rowCount() == PAGE)
    assert model.data(model.index(0, 0)) == "user01999@example.org"
    model.sort(4, Qt.SortOrder.AscendingOrder)  # modified
    qtbot.waitUntil(lambda: model.rowCount() == PAGE and model.sort_key == "modified")
    qtbot.waitUntil(lambda: model.data(model.index(0, 0)) == "user00000@example.org")  # i == 0 is the oldest
    model.sort(2, Qt.SortOrder.AscendingOrder)  # externalId is not sortable: ignored, nothing reloads
    assert model.sort_key == "modified"


def test_filter_requeries_sql_and_counts(model: ResourceTableModel, qtbot: QtBot) -> None:
    with qtbot.waitSignal(model.counts_changed) as counted:
        model.set_filter(compile_filter("User", 'userName sw "user0001"'))
    assert counted.args == [10, 2000]
    qtbot.waitUntil(lambda: model.rowCount() == 10)
    assert not model.canFetchMore(QModelIndex())
    model.set_filter(None)
    qtbot.waitUntil(lambda: model.rowCount() == PAGE and model.matching == 2000)


def test_untrusted_text_is_shown_inert(vault: Vault, qtbot: QtBot) -> None:
    insert_rows(vault, [user_row("evil", "<b>bold</b>\u202eevil\nline", datetime(2024, 1, 1))])
    model = ResourceTableModel(vault, "User")
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.data(model.index(0, 1)) == "<b>bold</b>\ufffdevil\\nline"


# -- live updates --------------------------------------------------------------------------------------
@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def live(model: ResourceTableModel, bus: EventBus) -> Iterator[EventBridge]:
    bridge = EventBridge(bus, interval_ms=100)
    bridge.resources_changed.connect(model.apply_changes)
    yield bridge
    bridge.close()
    bridge.deleteLater()


def _publish_from_server_thread(bus: EventBus, event: ResourcesChanged) -> None:
    thread = threading.Thread(target=bus.publish, args=(event,))
    thread.start()
    thread.join()


def test_created_row_appears_after_coalescing(
    model: ResourceTableModel, live: EventBridge, bus: EventBus, qtbot: QtBot
) -> None:
    (first,) = insert_rows(model._vault, [user_row("aaa-first", "First", datetime.now(UTC))])
    (beyond,) = insert_rows(model._vault, [user_row("zzz-last", "Last", datetime.now(UTC))])
    with qtbot.waitSignal(live.resources_changed) as merged:
        for rid in (first, beyond):
            _publish_from_server_thread(bus, ResourcesChanged("User", created=(rid,)))
    assert merged.args[0].created == tuple(sorted((first, beyond)))
    qtbot.waitUntil(lambda: model.rowCount() == PAGE + 1 and model.total == 2002)
    assert model.row_id(0) == first
    assert model.row_of(beyond) is None  # past the loaded rows: fetchMore will reach it
    for _ in range(4):
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not model._busy)
    qtbot.waitUntil(lambda: model.rowCount() == 2002)
    assert model.row_id(2001) == beyond


def test_modified_and_deleted_rows(model: ResourceTableModel, live: EventBridge, bus: EventBus, qtbot: QtBot) -> None:
    vault = model._vault
    moved, renamed, gone = model.row_id(10), model.row_id(20), model.row_id(30)
    with vault.write_session() as session:
        session.execute(
            update(ScimResource).where(ScimResource.id == moved).values(user_name="!moved", user_name_ci="!moved")
        )
        session.execute(update(ScimResource).where(ScimResource.id == renamed).values(display_name="Renamed"))
        session.execute(delete(ScimResource).where(ScimResource.id == gone))
    bus.publish(ResourcesChanged("User", modified=(moved, renamed)))
    bus.publish(ResourcesChanged("User", deleted=(gone,)))
    qtbot.waitUntil(lambda: model.row_of(gone) is None and model.row_of(moved) == 0)
    row = model.row_of(renamed)
    assert row is not None
    assert model.data(model.index(row, 1)) == "Renamed"
    qtbot.waitUntil(lambda: model.total == 1999)
    assert model.rowCount() == PAGE - 1


def test_more_modified_than_named_reads_the_rows_again(
    model: ResourceTableModel, live: EventBridge, bus: EventBus, qtbot: QtBot
) -> None:
    """A rename of a large group names a bounded number of its users and says there are more: the table reads
    them all again, the ones not named too."""
    named, unnamed = model.row_id(10), model.row_id(20)
    with model._vault.write_session() as session:
        session.execute(update(ScimResource).where(ScimResource.id == unnamed).values(display_name="Not named"))
    with qtbot.waitSignal(live.resources_changed) as merged:
        _publish_from_server_thread(bus, ResourcesChanged("User", modified=(named,), more_modified=True))
    assert merged.args[0].more_modified

    def shown() -> object:
        row = model.row_of(unnamed)
        return None if row is None else model.data(model.index(row, 1))

    qtbot.waitUntil(lambda: shown() == "Not named")


def test_change_outside_the_filter_is_not_shown(
    model: ResourceTableModel, live: EventBridge, bus: EventBus, qtbot: QtBot
) -> None:
    model.set_filter(compile_filter("User", 'userName sw "new"'))
    qtbot.waitUntil(lambda: model.rowCount() == 0 and model.matching == 0)
    now = datetime.now(UTC)
    ids = insert_rows(model._vault, [user_row("new-one", None, now), user_row("other", None, now)])
    bus.publish(ResourcesChanged("User", created=tuple(ids)))
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.total == 2002)
    assert model.row_id(0) == ids[0]
    assert model.matching == 1


def test_burst_of_events_refreshes_once(live: EventBridge, bus: EventBus, qtbot: QtBot) -> None:
    ids = [f"id-{i}" for i in range(50)]
    with qtbot.waitSignal(live.resources_changed) as merged:
        for rid in ids:
            _publish_from_server_thread(bus, ResourcesChanged("User", created=(rid,)))
        _publish_from_server_thread(bus, ResourcesChanged("User", deleted=("id-0",)))
    assert set(merged.args[0].created) == set(ids) - {"id-0"}
    assert merged.args[0].deleted == ("id-0",)
    with qtbot.assertNotEmitted(live.resources_changed, wait=250):
        pass


def test_request_rate(live: EventBridge, bus: EventBus) -> None:
    for _ in range(30):
        bus.publish(RequestServed("GET", 200, 1.0))
    assert live.request_rate() == pytest.approx(30.0)
    assert live.request_rate(window=30) == pytest.approx(60.0)


def test_local_times_name_their_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the trail's UTC times a local time must say which zone it is in (Targets, identities, policy)."""
    import time

    from app.ui.times import local_time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert local_time(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == "2026-01-15 13:00:00 CET"
        assert local_time(datetime(2026, 7, 15, 12, 0)) == "2026-07-15 14:00:00 CEST"  # naive: stored as UTC
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_zone_without_a_name_is_given_by_its_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from app.ui.times import local_time

    monkeypatch.setenv("TZ", "<>-1")  # a zone without a name (glibc reads it as UTC, unnamed)
    time.tzset()
    try:
        assert local_time(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == "2026-01-15 12:00:00 UTC+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_group_add_over_the_service_updates_the_users_modified_cell(vault: Vault, qtbot: QtBot) -> None:
    """A user who joins a group gets a new lastModified (decision 0047); the service's event names the user, so
    the Users table shows it without a manual refresh (it showed the old time until one)."""
    service = ScimService(vault, "https://scim.test/scim/v2")
    user = str(service.create("User", new_user("joiner@example.org")).body["id"])
    group = str(service.create("Group", {"schemas": [GROUP_SCHEMA], "displayName": "Joined"}).body["id"])
    long_ago = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)  # a time the join's own cannot be
    with vault.write_session() as session:
        session.execute(update(ScimResource).where(ScimResource.id == user).values(modified=long_ago))
    users = ResourceTableModel(vault, "User", page_size=PAGE)
    qtbot.waitUntil(lambda: users.row_of(user) is not None and not users._busy)
    column = [attribute for attribute, _ in COLUMNS["User"]].index("modified")

    def shown() -> str:
        return str(users.data(users.index(users.row_of(user) or 0, column)))

    assert shown() == local_time(long_ago)
    # Listening from here on: only the join's events reach the table (a create's, still queued, would re-read it).
    bridge = EventBridge(vault.events, interval_ms=50)
    bridge.resources_changed.connect(users.apply_changes)
    try:
        with qtbot.waitSignal(bridge.resources_changed):
            service.patch("Group", group, patch_body({"op": "add", "path": "members", "value": [{"value": user}]}))
        qtbot.waitUntil(lambda: shown() != local_time(long_ago), timeout=2000)
        assert shown() == local_time(_stored_modified(vault, user))
    finally:
        bridge.close()
        bridge.deleteLater()
        service.close()


def _stored_modified(vault: Vault, resource_id: str) -> datetime:
    with vault.read_connection() as conn:
        row = repo.load(conn, "User", resource_id)
    assert row is not None
    return row.modified
