"""The audit page's Event column shows each kind whole. Before: it was sized for "scim.resource.created", so
"vault.backup_key.destroyed" and "vault.backup_key.destroy" were both cut to "vault.backup_key.des…" (and
"erasure.tombstone.released" to "erasure.tombstone.re…"): two different entries looked the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audit.trail import Event, append
from app.store.vault import Vault
from app.ui.audit.model import HEADERS
from app.ui.audit.view import AuditPage

EVENT_COLUMN = HEADERS.index("Event")
KINDS = ("vault.backup_key.destroyed", "vault.backup_key.destroy", "export.breach_letter",
         "erasure.tombstone.released", "siem.destination_forgotten",
         "a.later_release.with_a_much_longer_kind_name")  # fmt: skip


def test_every_kind_on_the_trail_fits_its_column_and_is_its_own_tooltip(qtbot: QtBot, vault: Vault) -> None:
    start = datetime.now(UTC)
    with vault.write_transaction() as conn:
        for i, kind in enumerate(KINDS):
            append(conn, Event(kind, "operator:someone", "success", at=start + timedelta(seconds=i)))
    page = AuditPage(vault, verifier=lambda conn: "not used")
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() >= len(KINDS) and page.kind.count() > 1, timeout=5000)
    metrics = page.table.fontMetrics()
    room = page.table.columnWidth(EVENT_COLUMN) - 2 * metrics.averageCharWidth()  # the cell's margins
    shown = [page.model.index(row, EVENT_COLUMN) for row in range(page.model.rowCount())]
    kinds = [str(page.model.data(index)) for index in shown]
    assert set(KINDS) <= set(kinds)
    for index, kind in zip(shown, kinds, strict=True):
        assert metrics.horizontalAdvance(kind) <= room, kind  # drawn whole, not elided
        assert page.model.data(index, Qt.ItemDataRole.ToolTipRole) == kind
    before = page.table.columnWidth(EVENT_COLUMN)
    page.table.setColumnWidth(EVENT_COLUMN, before + 40)  # the operator widens it: a refresh does not undo that
    page.refresh()
    qtbot.waitUntil(lambda: page.table.columnWidth(EVENT_COLUMN) == before + 40, timeout=5000)
