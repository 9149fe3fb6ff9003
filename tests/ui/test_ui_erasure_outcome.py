"""What the erasure dialog says once the request is closed: Custos' own erasure is done, but while the identity
provider still holds the person the request is not "erased everywhere", and this dialog has no Attest… button
(the history has). The request's ground and reference are fixed once it is made."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.policy import versions
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.erasure.dialog import ErasureDialog
from tests.erasure.support import person, service_for


def erased_dialog(vault: Vault, qtbot: QtBot) -> ErasureDialog:
    apply_policy(vault, versions.default_policy_text(), "dpo")
    service = service_for(vault)
    user = str(service.create("User", person("leaver@example.test")).body["id"])  # type: ignore[index]
    service.close()
    dialog = ErasureDialog(vault, [user], None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    dialog.confirm_text.setText("ERASE 1")
    dialog.erase()
    qtbot.waitUntil(lambda: dialog.status is not None and dialog.status.state == "closed", timeout=10_000)
    return dialog


def test_closed_request_with_the_source_holding_the_person_is_not_erased_everywhere(vault: Vault, qtbot: QtBot) -> None:
    dialog = erased_dialog(vault, qtbot)
    said = dialog.message.text()
    assert "erased everywhere" not in said
    assert "the identity provider still holds the person" in said and "Erasure history" in said
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
    source = rows["Identity provider (source)"]
    assert "attest it here" not in source and "Erasure history" in source  # no Attest… button in this dialog
    assert not dialog.ground.isEnabled() and not dialog.reason.isEnabled()  # made: changing them changes nothing


def test_each_field_has_its_key(vault: Vault, qtbot: QtBot) -> None:
    """Legal ground, Reference and the typed confirmation had no Alt key (the buttons had theirs)."""
    apply_policy(vault, versions.default_policy_text(), "dpo")
    dialog = ErasureDialog(vault, ["no-such-user"], None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    qtbot.waitUntil(lambda: dialog.confirm_label.text().startswith("&Type ERASE"), timeout=5000)
    for key, field in ((Qt.Key.Key_T, dialog.confirm_text), (Qt.Key.Key_G, dialog.ground),
                       (Qt.Key.Key_F, dialog.reason)):  # fmt: skip
        qtbot.keyClick(QApplication.focusWidget(), key, Qt.KeyboardModifier.AltModifier)
        assert QApplication.focusWidget() is field
