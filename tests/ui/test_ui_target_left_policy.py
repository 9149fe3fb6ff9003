"""The Targets page for a target whose recipient left the policy: it said only "The policy in force has no
recipient …: add it … and apply the policy first", as for a target never provisioned, while the application still
held every account Custos had sent it. Against a real scim2-server."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import policy_with_recipients, provisioning
from tests.ui.test_ui_target_workflows import page_for


def test_a_target_whose_recipient_left_the_policy_says_what_it_still_holds(
    qtbot: QtBot, vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    app1, app2 = scim_targets(2)
    p = provisioning(vault, [app1, app2])
    try:
        for n in range(2):
            p.service.create("User", person(f"left-{n}@example.test"))
        wait_until(lambda: len(app2.users()) == 2)
        apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    finally:
        p.close()
    page = page_for(qtbot, vault)
    qtbot.waitUntil(lambda: page.snapshot is not None, timeout=5000)
    page.table.selectRow(1)
    qtbot.waitUntil(lambda: "app2" in page.progress_text.text(), timeout=5000)
    said = page.progress_text.text()
    assert said.endswith("It still holds 2 subjects provisioned by Custos: nothing more is sent to them, and nothing "
                         "there is deleted.")  # fmt: skip
    assert len(app2.users()) == 2  # true: they are there
