"""The erasure history window against a real scim2-server target: every request, each line (the mirror, the target,
a recipient without a SCIM target (Art. 19), the identity provider), a failed step retried once its cause is fixed,
manual steps attested by keyboard, and the signed receipt exported — as ``erase status|retry|attest|receipt``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from ui_keyboard import by_keyboard, typed

from app.erasure.receipt import verify_receipt
from app.erasure.requests import request_erasure
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from app.targets import service
from app.targets.policy_change import apply_policy
from app.ui.erasure.history import ErasureHistoryDialog, NoteDialog
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import policy_with_recipients, provisioning
from tests.targets.test_provisioning import full_user

ALT = Qt.KeyboardModifier.AltModifier


def line_state(dialog: ErasureHistoryDialog, target: str) -> str | None:
    return next((line.state for line in dialog.lines if line.target == target), None)


def alt(qtbot: QtBot, dialog: ErasureHistoryDialog, which: Qt.Key) -> None:
    """A mnemonic, pressed in the window once it is active again (a note dialog may just have closed)."""
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    qtbot.keyClick(dialog.line_table, which, ALT)


def choose_line(qtbot: QtBot, dialog: ErasureHistoryDialog, target: str) -> None:
    qtbot.waitUntil(lambda: line_state(dialog, target) is not None, timeout=10_000)
    dialog.line_table.selectRow([line.target for line in dialog.lines].index(target))


def test_history_retry_attest_and_receipt(
    qtbot: QtBot, vault: Vault, tmp_path: Path, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    run = provisioning(vault, [app1])
    apply_policy(vault, policy_with_recipients({"app1", "app3"}), "dpo")  # app3: a recipient with no SCIM target
    worker = ErasureWorker(vault, poll_seconds=0.05)
    worker.start()
    try:
        user = run.service.create("User", full_user("history@example.test")).body
        assert user is not None
        wait_until(lambda: len(app1.users()) == 1, timeout=30)
        wait_until(lambda: service.held(vault, "app1") == 1, timeout=30)
        service.change(vault, "app1", secret="a-revoked-token")  # the target will refuse the DELETE
        request_id = request_erasure(vault, [user["id"]], "art17-1a", "dpo", "ticket 7")
        worker.wake()

        dialog = ErasureHistoryDialog(vault)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.request_table.rowCount() == 1, timeout=10_000)
        assert dialog.request_table.item(0, 0).text() == request_id
        qtbot.waitUntil(lambda: line_state(dialog, "app1") == "action_required", timeout=30_000)
        shown = [dialog.line_table.item(r, 0).text() for r in range(dialog.line_table.rowCount())]
        assert shown == ["This Custos mirror", "app1", "Recipient app3 (no SCIM target)",
                         "Identity provider (source)"]  # fmt: skip
        details = " ".join(dialog.line_table.item(r, 2).text() for r in range(len(shown)))
        assert "history@" not in details and "then attest it here (Attest…)" in details  # not the CLI's command

        # Retry, once the cause is fixed: the step is queued again and the target deletes and verifies.
        choose_line(qtbot, dialog, "app1")
        assert dialog.retry_button.isEnabled() and dialog.attest_button.isEnabled()
        service.change(vault, "app1", secret=app1.token)
        alt(qtbot, dialog, Qt.Key.Key_R)
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Queued 1 step again at app1"), timeout=5000)
        worker.wake()
        qtbot.waitUntil(lambda: line_state(dialog, "app1") == "succeeded", timeout=30_000)
        assert app1.users() == []

        # The recipient without a target, attested by keyboard (the note dialog), closes the request.
        def note_by_keyboard(text: str) -> Callable[[QWidget, str], str | None]:
            def ask(parent: QWidget, what: str) -> str | None:
                note = NoteDialog(what, parent)
                return note.note.toPlainText() if by_keyboard(qtbot, typed(text))(note) else None

            return ask

        choose_line(qtbot, dialog, "recipient:app3")
        assert not dialog.retry_button.isEnabled() and dialog.attest_button.isEnabled()
        dialog.ask_note = note_by_keyboard("Deleted by the app3 admin on request, checked in their console")
        alt(qtbot, dialog, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: line_state(dialog, "recipient:app3") == "succeeded", timeout=10_000)
        qtbot.waitUntil(lambda: dialog.request_table.item(0, 2).text() == "closed", timeout=10_000)

        # The identity provider: attested as removed there.
        choose_line(qtbot, dialog, "source")
        dialog.ask_note = note_by_keyboard("Removed from Entra ID by the IAM team")
        alt(qtbot, dialog, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: line_state(dialog, "source") == "attested", timeout=10_000)
        assert not dialog.attest_button.isEnabled()

        dialog.choose_folder = lambda _parent: tmp_path
        alt(qtbot, dialog, Qt.Key.Key_E)
        qtbot.waitUntil(lambda: "Receipt written" in dialog.message.text(), timeout=15_000)
        receipt = next(tmp_path.glob("*.json"))
        assert verify_receipt(receipt).valid and "history@" not in receipt.read_text()
        # The list's count is the receipt's: its steps at targets and recipients, not the four lines above.
        listed = json.loads(receipt.read_text())
        at_targets = sum(len(subject["targets"]) for subject in listed["subjects"])
        assert dialog.request_table.horizontalHeaderItem(4).text() == "Steps at targets"
        assert dialog.request_table.item(0, 4).text() == str(at_targets) == "2"
        dialog.close()
        assert not dialog.timer.isActive()
    finally:
        worker.stop()
        run.close()


def test_history_fits_200_percent(qtbot: QtBot, vault: Vault) -> None:
    from test_ui_scaling import fits

    dialog = ErasureHistoryDialog(vault)
    note = NoteDialog("Recipient app3")
    for widget in (dialog, note):
        qtbot.addWidget(widget)
        widget.show()
        assert fits(widget.minimumSizeHint()) and fits(widget.sizeHint()), widget.sizeHint().toTuple()
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("No erasure request yet."), timeout=5000)
