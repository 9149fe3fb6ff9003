"""The target dialog shows and edits the target's own timeout (``Answer within``): by keyboard, saved with the
target, and a timeout set more finely on the command line than the box shows is not changed by editing something
else."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from ui_keyboard import by_keyboard

from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets import service
from app.targets.config import TargetConfig, get_target
from app.targets.policy_change import apply_policy
from app.ui.targets.dialog import TargetDialog
from app.ui.targets.view import TargetsPage
from tests.targets.conftest import ScimTarget
from tests.targets.support import policy_with_recipients


def _stored(vault: Vault) -> TargetConfig:
    with vault.read_connection() as conn:
        found = get_target(conn, "app1")
    assert found is not None
    return found


def test_the_timeout_is_edited_in_the_dialog(
    qtbot: QtBot, vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    service.add(vault, TargetConfig(0, "app1", app1.base_url, "app1", "bearer", app1.token, timeout=2.25))
    policy = PolicyInForce(vault)

    dialog = TargetDialog(policy.get().policy, _stored(vault))
    qtbot.addWidget(dialog)
    assert dialog.timeout.value() == 2.3 and dialog.timeout.suffix() == " s"
    assert dialog.changes() == {}  # shown rounded, kept as stored

    page = TargetsPage(vault, policy)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)

    def thirty_seconds(qtbot_: QtBot, opened: QDialog) -> None:
        assert isinstance(opened, TargetDialog)
        qtbot_.keyClick(opened, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)  # "Answer &within"
        assert opened.focusWidget() is opened.timeout or opened.timeout.isAncestorOf(opened.focusWidget())
        qtbot_.keyClick(opened.timeout, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot_.keyClicks(opened.timeout, "30")

    page.run_dialog = by_keyboard(qtbot, thirty_seconds)
    page.edit_target()
    qtbot.waitUntil(lambda: page.message.text().startswith("Changed app1: timeout. ("), timeout=5000)
    assert _stored(vault).timeout == 30.0 and _stored(vault).secret == app1.token
