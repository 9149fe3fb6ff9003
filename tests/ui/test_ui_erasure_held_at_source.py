"""The erasure history's summary counts the requests whose person the identity provider still holds. Before: "1
erasure request(s), 0 still open" while the request's identity-provider line said "still held" (decision 0020:
the source is not a step, so it keeps no request open), which a DPO reads as "all done"."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.erasure.worker import drive
from app.services.erasure import attest, request
from app.store.vault import Vault
from app.ui.erasure.history import ErasureHistoryDialog
from tests.erasure.support import person, service_for


def _closed_request(vault: Vault) -> str:
    """A person erased here with no target: the request closes, the identity provider still holds them."""
    service = service_for(vault)
    subject_id = str(service.create("User", person("held.at.source@example.test")).body["id"])  # type: ignore[index]
    service.close()
    request_id = request(vault, [subject_id], "art17-1a", "dpo", "ticket 12")
    assert drive(vault, [request_id], 30)
    return request_id


def test_a_closed_request_still_held_at_the_identity_provider_is_counted(qtbot: QtBot, vault: Vault) -> None:
    request_id = _closed_request(vault)
    dialog = ErasureHistoryDialog(vault)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.request_table.rowCount() == 1, timeout=10_000)
    steps = dialog.request_table.horizontalHeaderItem(4)
    assert (steps.text(), dialog.request_table.item(0, 4).text()) == ("Steps at targets", "0")  # not the 2 lines
    assert "the mirror and the identity provider are not counted" in steps.toolTip()
    summary = dialog.summary.text()
    assert summary.startswith("1 erasure request, 0 still open, 1 still held at the identity provider")
    assert "held.at.source" not in summary

    attest(vault, request_id, None, "dpo", "Removed in the IdP by the IT desk, checked in its admin UI", source=True)
    dialog.refresh()
    qtbot.waitUntil(lambda: "none still held at the identity provider" in dialog.summary.text(), timeout=10_000)
    assert dialog.summary.text().startswith("1 erasure request, 0 still open, none still held")


def test_the_identity_provider_s_step_is_said_with_the_app_s_button_not_the_cli_s_command(
    qtbot: QtBot, vault: Vault
) -> None:
    """Before: the status line carried the CLI's "then 'erase attest --source'" and the app rewrote that text, so a
    change of the CLI's wording leaked into the app. Now the line says its next step in the register's terms and
    each front end names its own way to take it."""
    from app.erasure.status import ATTEST_SOURCE
    from app.services.erasure import progress

    request_id = _closed_request(vault)
    source = progress(vault, request_id).source
    assert source is not None and source.next_step == ATTEST_SOURCE
    assert "erase attest" not in source.detail and "--" not in source.detail
    dialog = ErasureHistoryDialog(vault)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.request_table.rowCount() == 1, timeout=10_000)
    dialog.request_table.selectRow(0)
    qtbot.waitUntil(lambda: dialog.line_table.rowCount() >= 2, timeout=10_000)
    details = [dialog.line_table.item(r, 2).text() for r in range(dialog.line_table.rowCount())]
    assert details[-1].endswith(": remove or block at the identity provider, then attest it here (Attest…)")
