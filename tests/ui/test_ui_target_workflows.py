"""Every target workflow on the Targets page against real scim2-server processes: add by keyboard (credential,
connection test, mapping preview), the initial sync's progress to a true "in sync", edit without re-typing the
credential, test, reconcile with repair, remove. The credential is never shown again nor put on the trail."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui_keyboard import TAB, by_keyboard, key, typed

from app.audit.tables import AuditEvent
from app.core.events import EventBus
from app.dsr.restriction import is_restricted
from app.policy.in_force import PolicyInForce
from app.scim.server import ScimServer
from app.scim.service import ScimService
from app.store.vault import Vault
from app.targets import service
from app.targets.config import TargetConfig, get_target
from app.targets.dispatcher import Dispatcher
from app.targets.policy_change import apply_policy
from app.ui.main_window import MainWindow
from app.ui.targets.dialog import TargetDialog
from app.ui.targets.reconcile_dialog import ReconcileDialog
from app.ui.targets.view import TargetsPage
from tests.conftest import new_user
from tests.targets.conftest import ScimTarget
from tests.targets.support import policy_with_recipients
from tests.targets.test_provisioning import full_user

ALT = Qt.KeyboardModifier.AltModifier


def trail(vault: Vault) -> str:
    with vault.read_connection() as conn:
        return " ".join(row[0] + row[1] for row in conn.execute(select(AuditEvent.kind, AuditEvent.details)))


def page_for(qtbot: QtBot, vault: Vault) -> TargetsPage:
    page = TargetsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    return page


def with_users(vault: Vault, *names: str) -> None:
    apply_policy(vault, policy_with_recipients(), "dpo")
    scim = ScimService(vault, "https://custos.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        for name in names:
            scim.create("User", full_user(name))
    finally:
        scim.close()


def test_add_a_target_by_keyboard_then_watch_its_initial_sync(
    qtbot: QtBot, vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    with_users(vault, "a@example.test", "b@example.test", "c@example.test")
    page = page_for(qtbot, vault)
    qtbot.waitUntil(lambda: page.snapshot is not None, timeout=5000)
    assert "0 targets;" in page.summary.text() and not page.edit_button.isEnabled()

    tested: list[str] = []

    def test_first(qtbot_: QtBot, dialog: QDialog) -> None:
        assert isinstance(dialog, TargetDialog)
        rows = [dialog.mapping.item(r, 0).text() for r in range(dialog.mapping.rowCount())]
        assert rows == ["User userName", "User displayName", "User emails.value"]  # recipient app1's attributes
        assert dialog.secret.echoMode() == QLineEdit.EchoMode.Password
        key(Qt.Key.Key_T, ALT)(qtbot_, dialog)  # Test connection, before anything is saved
        qtbot_.waitUntil(lambda: "Every mapped attribute is supported" in dialog.outcome.text(), timeout=15_000)
        tested.append(dialog.mapping.item(0, 1).text())

    # Name, URL, then the recipient (app1 is first), the authentication (bearer), the credential; test; save.
    page.run_dialog = by_keyboard(qtbot, typed("app1"), TAB, typed(app1.base_url), TAB, TAB, TAB,
                                  typed(app1.token), test_first)  # fmt: skip
    page.add_target()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert tested == ["User userName  ✓ supported"]
    assert "Added app1: it receives User userName, User displayName, User emails.value" in page.message.text()
    stored = get_target_of(vault, "app1")
    assert stored.secret == app1.token and stored.recipient_id == "app1"

    # The initial sync, queued with the target: its progress, then "not verified" once the dispatcher ran (Custos's
    # own bookkeeping is clean), and a true "in sync" only after a reconcile read the target (decision 0036).
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.progress_text.text().startswith("Syncing: 0 of 3"), timeout=5000)
    assert page.model.item(0, 1).text() == "catching up" and page.progress.maximum() == 3
    dispatcher = Dispatcher(vault, PolicyInForce(vault), restricted=is_restricted, poll_seconds=0.05)
    dispatcher.start()
    try:
        qtbot.waitUntil(lambda: len(app1.users()) == 3, timeout=30_000)
        page.refresh()
        qtbot.waitUntil(lambda: page.progress_text.text() == "Not verified: all 3 in-scope users held, nothing "
                        "queued. Never checked against the target: reconcile to verify."
                        and page.model.item(0, 1).text() == "not verified", timeout=15_000)  # fmt: skip
    finally:
        dispatcher.stop()
    assert page.model.item(0, 8).text() == "never" and "1 not verified" in page.summary.text()
    dialog = page.reconcile_target()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.drift is not None, timeout=15_000)
    dialog.accept()  # closing it refreshes the page
    qtbot.waitUntil(lambda: page.model.item(0, 1).text() == "in sync", timeout=15_000)
    assert page.progress_text.text().startswith("In sync: all 3 in-scope users held, nothing queued. Last checked ")
    assert page.model.item(0, 8).text() != "never" and page.progress.value() == 3
    texts = " ".join(page.model.item(0, c).text() for c in range(page.model.columnCount()))
    assert app1.token not in texts + page.message.text() + trail(vault)


def get_target_of(vault: Vault, name: str) -> TargetConfig:
    with vault.read_connection() as conn:
        found = get_target(conn, name)
    assert found is not None
    return found


def test_edit_test_reconcile_repair_and_remove(
    qtbot: QtBot, vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    with_users(vault, "held@example.test")
    service.add(vault, TargetConfig(0, "app1", app1.base_url, "app1", "bearer", app1.token))
    page = page_for(qtbot, vault)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)

    # Edit: the credential box is empty ("unchanged") and the stored credential survives a change of concurrency.
    seen: list[str] = []

    def concurrency_two(qtbot_: QtBot, dialog: QDialog) -> None:
        assert isinstance(dialog, TargetDialog)
        seen.append(dialog.secret.text())
        assert not dialog.name.isEnabled()
        dialog.concurrency.setFocus()
        qtbot_.keyClick(dialog.concurrency, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot_.keyClicks(dialog.concurrency, "2")

    page.run_dialog = by_keyboard(qtbot, concurrency_two)
    page.edit_target()
    qtbot.waitUntil(lambda: page.message.text().startswith("Changed app1: max_concurrency. ("), timeout=5000)
    assert seen == [""] and get_target_of(vault, "app1").secret == app1.token
    assert get_target_of(vault, "app1").max_concurrency == 2

    # Test: the real discovery, every mapped attribute supported.
    page.test_target()
    qtbot.waitUntil(lambda: "Every mapped attribute is supported" in page.message.text(), timeout=15_000)
    assert page.message.text().startswith("Connected to app1:")

    # Reconcile: nothing was pushed (no dispatcher) and the target holds an account Custos never sent.
    with app1.client() as http:
        http.post("/Users", json=new_user("stranger@example.test"))
    dialog = page.reconcile_target()
    assert dialog is not None
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.drift is not None, timeout=15_000)
    report = dialog.report.text()
    assert re.match(r"app1: 1 account checked at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\.\n", report)
    assert "1 account(s) at the target unknown to Custos" in report and "1 subject(s) missing" in report
    assert "stranger" not in report and "held@" not in report
    assert dialog.repair_button.isEnabled() and "(1 push)" in dialog.repair_button.text()
    qtbot.keyClick(dialog.repair_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "queued 1 push(es) to repair" in dialog.report.text(), timeout=15_000)
    assert not dialog.repair_button.isEnabled()
    dialog.close()

    # Remove: asked first (it holds nobody yet), then gone.
    questions: list[str] = []
    page.confirm = lambda _parent, title, text: questions.append(title + " " + text) is None and False
    page.remove_target()
    assert questions and get_target_of(vault, "app1")
    page.confirm = lambda _parent, _title, _text: True
    page.now = lambda: datetime(2026, 12, 2, 9, 5, tzinfo=UTC)
    page.remove_target()
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=5000)
    # No target selected: the title over the (empty) mapping no longer names the removed one
    assert page.mapping_title.text() == "Select a target to see what it receives."
    # The outcome says when it was said: it stays under rows that keep refreshing, so it must read as past.
    stamp = datetime(2026, 12, 2, 9, 5, tzinfo=UTC).astimezone().strftime("%H:%M %Z").rstrip()
    assert page.message.text() == f"Removed app1. ({stamp})"
    assert "target.removed" in trail(vault)
    assert app1.token not in trail(vault)


def test_a_wrong_credential_is_told_before_saving(
    qtbot: QtBot, vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    apply_policy(vault, policy_with_recipients(), "dpo")
    dialog = TargetDialog(PolicyInForce(vault).get().policy)
    qtbot.addWidget(dialog)
    dialog.name.setText("app1")
    dialog.url.setText(app1.base_url)
    assert dialog.problem() == "Type the credential."
    dialog.secret.setText("not-the-token")
    assert dialog.problem() is None
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Reached app1, but"), timeout=15_000)
    assert "401" in dialog.outcome.text() and "not-the-token" not in dialog.outcome.text()
    dialog.renames.setText("emails=mail")
    assert dialog.mapping.item(2, 0).text() == "User emails.value" and dialog.mapping.item(2, 1).text() == (
        "User mail.value")  # fmt: skip
    dialog.renames.setText("emails=mail, bogus")
    assert "A rename is OURS=THEIRS" in dialog.mapping_note.text() and dialog.problem() is not None


def test_target_dialogs_fit_200_percent(qtbot: QtBot, vault: Vault) -> None:
    from test_ui_scaling import fits

    apply_policy(vault, policy_with_recipients(), "dpo")
    service.add(vault, TargetConfig(0, "app1", "https://app1.example.test/scim/v2", "app1", "bearer", "s"))
    policy = PolicyInForce(vault).get().policy
    dialogs = [TargetDialog(policy), TargetDialog(policy, get_target_of(vault, "app1")),
               ReconcileDialog(vault, PolicyInForce(vault), "app1")]  # fmt: skip
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        assert fits(dialog.minimumSizeHint()) and fits(dialog.sizeHint()), (
            dialog.windowTitle(),
            dialog.sizeHint().toTuple(),
        )
    qtbot.waitUntil(lambda: "Cannot reach app1" in dialogs[2].report.text(), timeout=20_000)


def test_oauth_client_credentials_in_the_dialog(qtbot: QtBot, vault: Vault) -> None:
    apply_policy(vault, policy_with_recipients(), "dpo")
    dialog = TargetDialog(PolicyInForce(vault).get().policy)
    qtbot.addWidget(dialog)
    assert not dialog.token_url.isEnabled() and not dialog.client_id.isEnabled()
    dialog.name.setText("app2")
    dialog.url.setText("https://app2.example.test/scim/v2")
    dialog.auth.setCurrentIndex(dialog.auth.findData("oauth2"))
    assert dialog.token_url.isEnabled() and dialog.client_id.isEnabled() and dialog.scope.isEnabled()
    dialog.secret.setText("client-secret")
    assert dialog.problem() == "OAuth 2 needs a token URL and a client id."
    dialog.token_url.setText("https://login.example.test/oauth2/token")
    dialog.client_id.setText("custos")
    dialog.scope.setText("scim.write")
    assert dialog.problem() is None
    config = dialog.config()
    assert (config.auth_kind, config.oauth_token_url, config.oauth_client_id, config.oauth_scope, config.secret) == (
        "oauth2", "https://login.example.test/oauth2/token", "custos", "scim.write", "client-secret")  # fmt: skip
    assert "client-secret" not in repr(config)


def test_alt_s_saves_and_types_nothing_into_the_credential(qtbot: QtBot, vault: Vault) -> None:
    apply_policy(vault, policy_with_recipients(), "dpo")
    dialog = TargetDialog(PolicyInForce(vault).get().policy)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    dialog.name.setText("app1")
    dialog.url.setText("http://127.0.0.1:9/v2")
    dialog.secret.setFocus()
    qtbot.waitUntil(dialog.secret.hasFocus, timeout=2000)
    qtbot.keyClicks(dialog.secret, "tgt-secret")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.secret, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    assert dialog.secret.text() == "tgt-secret"


def test_the_reconcile_report_stays_with_the_targets_page(
    qtbot: QtBot, running: tuple[MainWindow, ScimServer], scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """The report is a window of its own: left open, it floated over every other page the operator went to. It now
    goes with the Targets page and comes back with it; once closed, it stays closed."""
    window, _server = running
    (app1,) = scim_targets(1)
    with_users(window.vault, "held@example.test")
    service.add(window.vault, TargetConfig(0, "app1", app1.base_url, "app1", "bearer", app1.token))
    targets = window.pages.indexOf(window.targets_page)
    window.show_page(targets)
    page = window.targets_page
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    dialog = page.reconcile_target()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.drift is not None, timeout=15_000)
    assert dialog.isVisible()

    window.show_page(0)  # the Overview
    assert not dialog.isVisible()
    window.show_page(targets)
    assert dialog.isVisible() and dialog.report.text().startswith("app1: ")

    dialog.reject()  # Close
    window.show_page(0)
    window.show_page(targets)
    assert not dialog.isVisible()
