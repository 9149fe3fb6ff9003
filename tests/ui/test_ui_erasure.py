"""The erasure workflow in the app, against a real scim2-server target: preview, typed confirmation, the
passphrase again, live per-target progress to a verified deletion, and the signed receipt."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, answer_passphrase_dialog

from app.erasure.receipt import verify_receipt
from app.store.vault import Vault
from app.ui.erasure.dialog import ErasureDialog
from app.ui.lock.reauth import reauthenticate_with
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import provisioning
from tests.targets.test_provisioning import full_user


def held_by(vault: Vault, resource_id: str) -> int:
    from app.feed import links

    with vault.read_connection() as conn:
        return len(links.of_resource(conn, resource_id))


def test_erase_one_subject_everywhere(
    qtbot: QtBot, vault: Vault, tmp_path: Path, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    from app.erasure.worker import ErasureWorker

    (app1,) = scim_targets(1)
    run = provisioning(vault, [app1])
    worker = ErasureWorker(vault, poll_seconds=0.05)
    worker.start()
    try:
        user = run.service.create("User", full_user("erase-me@example.test")).body
        assert user is not None
        wait_until(lambda: len(app1.users()) == 1, timeout=30)
        wait_until(lambda: held_by(vault, user["id"]) == 1, timeout=30)  # the push's outcome is recorded, link included

        dialog = ErasureDialog(vault, [user["id"]], reauthenticate_with(vault))
        qtbot.addWidget(dialog)
        dialog.choose_folder = lambda _parent: tmp_path
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=5000)
        assert dialog.table.item(1, 0).text() == "app1" and dialog.table.item(1, 2).text() == "1"
        assert dialog.who.text() == "Erasing: Subject Seven (erase-me@example.test)."  # whom, before confirming
        assert dialog.summary.text().startswith("1 of 1 selected subject is in the mirror.")  # not "… subject(s) are"
        assert dialog.table.item(2, 0).text() == "Identity provider (source)"
        dialog.confirm_text.setText("ERASE 2")
        assert not dialog.erase_button.isEnabled()
        dialog.confirm_text.setText("ERASE 1")
        assert dialog.erase_button.isEnabled()

        answer_passphrase_dialog(PASSPHRASE)
        dialog.erase()
        qtbot.waitUntil(lambda: dialog.request_id is not None, timeout=10_000)
        worker.wake()
        qtbot.waitUntil(lambda: dialog.status is not None and dialog.status.state == "closed", timeout=30_000)
        assert dialog.status.complete
        assert [line.state for line in dialog.status.targets] == ["succeeded"]
        headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(3)]
        assert headers == ["Where", "State", "Detail"]  # not "succeeded" under "What happens"
        stretched = dialog.table.horizontalHeader().sectionResizeMode(2)
        assert stretched == dialog.table.horizontalHeader().ResizeMode.Stretch  # the detail is on screen
        rows = [[dialog.table.item(r, c).text() for c in range(3)] for r in range(dialog.table.rowCount())]
        assert rows[0][:2] == ["This Custos mirror", "erased"] and "rows deleted" in rows[0][2]
        assert rows[1][:2] == ["app1", "succeeded"]
        assert re.fullmatch(r"erased \(verified\), closed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rows[1][2])
        assert rows[2][:2] == ["Identity provider (source)", "held"]
        assert app1.users() == []
        last = dialog.table.rowCount() - 1  # the source is shown, apart from the applications
        assert dialog.table.item(last, 0).text() == "Identity provider (source)"
        assert dialog.table.item(last, 1).text() == "held"

        dialog.save_receipt()
        qtbot.waitUntil(lambda: "Receipt written" in dialog.message.text(), timeout=10_000)
        receipt = next(tmp_path.glob("*.json"))
        assert verify_receipt(receipt).valid
        assert "erase-me" not in receipt.read_text()
        dialog.close()
        assert not dialog.timer.isActive()
    finally:
        worker.stop()
        run.close()


def test_preview_lists_recipients_without_a_target(vault: Vault) -> None:
    """Art. 19: the dialog's preview names the payroll bureau that has no SCIM target, for whom it concerns."""

    from app.policy.edit import add_recipient
    from app.services.erasure import preview
    from app.targets.policy_change import apply_policy
    from tests.erasure.support import person, service_for
    from tests.targets.support import policy_with_recipients

    bureau = {"id": "payroll", "name": "Payroll bureau", "kind": "external_controller", "country": "DE",
              "purposes": ["access-management"], "attributes": ["userName"], "scope": {"filter": 'title eq "Clerk"'}}
    apply_policy(vault, add_recipient(policy_with_recipients({"app1"}), bureau), "dpo")
    service = service_for(vault)
    clerk = str(service.create("User", {**person("clerk@example.test"), "title": "Clerk"}).body["id"])  # type: ignore[index]
    other = str(service.create("User", person("other@example.test")).body["id"])  # type: ignore[index]
    service.close()
    seen = preview(vault, [clerk, other])
    assert seen.modes["recipient:payroll"] == "recipient" and seen.per_target["recipient:payroll"] == 1
