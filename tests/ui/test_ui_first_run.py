"""The first-run assistant end to end, with the keyboard: the vault, certificate, policy and token it makes
work against the real server, refusals stay on their page, and Cancel leaves nothing behind."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWizard
from pytestqt.qtbot import QtBot
from test_ui_scaling import fits
from ui_support import PASSPHRASE, answer_question_with_keys, free_port

from app.core.events import EventBus
from app.policy.versions import default_policy_text, in_force
from app.scim.server import ScimServer
from app.setup import endpoint
from app.setup.tls import CERT_FILENAME, KEY_FILENAME, TlsMaterial
from app.store.vault import Vault
from app.ui.action_bar import mnemonic
from app.ui.first_run.pages import PassphrasePage
from app.ui.first_run.wizard import FirstRunWizard
from app.ui.widgets import ask_yes_no
from tests.setup.cert_support import write_pair


def wizard_at(qtbot: QtBot, data_dir: Path) -> FirstRunWizard:
    wizard = FirstRunWizard(data_dir, "dpo")
    wizard.confirm = lambda *_args: True  # a test left on a page closes it at the end; the question has its own test
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.windowHandle().requestActivate()  # keys go to the active window, as on a desktop
    qtbot.waitUntil(wizard.isActiveWindow)
    return wizard


def press_next(qtbot: QtBot, wizard: FirstRunWizard) -> None:
    """Return in whatever has the focus presses the default button (Next, Set up, Finish), as a keyboard user would."""
    qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Return)


def type_passphrases(qtbot: QtBot, wizard: FirstRunWizard, first: str, second: str) -> None:
    page = wizard.passphrase_page
    page.passphrase.setFocus()
    qtbot.keyClicks(page.passphrase, first)
    qtbot.keyClick(page.passphrase, Qt.Key.Key_Tab)
    assert page.confirmation.hasFocus()
    qtbot.keyClicks(page.confirmation, second)


def test_first_run_by_keyboard_makes_a_working_endpoint(qtbot: QtBot, data_dir: Path) -> None:
    wizard = wizard_at(qtbot, data_dir)
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.passphrase_page
    type_passphrases(qtbot, wizard, PASSPHRASE, PASSPHRASE)
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.token_page  # the IdP first: the endpoint depends on it
    wizard.token_page.idp.setCurrentIndex(wizard.token_page.idp.findData("okta"))
    assert wizard.token_page.token_name() == "Okta"
    assert "On-Premises Provisioning agent" in wizard.token_page.reach.text()
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.endpoint_page
    port = free_port()
    wizard.endpoint_page.form.port.setValue(port)
    press_next(qtbot, wizard)  # loopback and self-signed: Okta's cloud cannot reach it, the page says how it can
    assert wizard.currentPage() is wizard.endpoint_page
    assert "Choose how Okta will reach Custos" in wizard.endpoint_page.error.text()
    qtbot.keyClick(wizard, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # 2) a reverse proxy
    qtbot.waitUntil(lambda: wizard.endpoint_page.route() == "proxy")  # a mnemonic animates the click
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.policy_page
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.contacts_page
    press_next(qtbot, wizard)  # skipped
    assert wizard.currentPage() is wizard.setup_page
    plan = wizard.setup_page.plan.text()
    assert "Policy: the default policy; controller and DPO incomplete: Article 30 exports will say" in plan
    assert "Okta reaches Custos through: A reverse proxy" in plan
    # Okta's documented defaults (its SCIM 2.0 reference): of them the shipped policy refuses locale only.
    assert "Of Okta's default attribute mappings, this policy refuses 1: locale. " in plan
    assert "the Outside the policy page names whatever else it sends" in plan
    press_next(qtbot, wizard)  # Set up
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.done_page, timeout=20_000)

    done = wizard.done_page
    token = done.token.value.text()
    assert token.startswith("cst_")
    assert done.base_url.value.text() == f"https://127.0.0.1:{port}/scim/v2"
    assert "SCIM connector base URL" in done.instructions.toPlainText()
    assert done.instructions.toPlainText().startswith("Of Okta's default attribute mappings, this policy refuses")
    assert token not in done.instructions.toPlainText()
    assert not wizard.button(wizard.WizardButton.FinishButton).isEnabled()  # not before the token was taken
    qtbot.mouseClick(done.token.copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == token
    done.stored.setFocus()
    qtbot.keyClick(done.stored, Qt.Key.Key_Space)
    assert wizard.button(wizard.WizardButton.FinishButton).isEnabled()
    press_next(qtbot, wizard)  # Finish
    assert wizard.result is not None and wizard.isHidden()
    assert done.token.value.text() == ""  # the secret does not outlive the assistant
    assert wizard.passphrase_page.passphrase.text() == ""
    QGuiApplication.clipboard().clear()

    vault = wizard.result.vault
    try:
        with vault.read_connection() as conn:
            assert in_force(conn).text == default_policy_text()  # type: ignore[union-attr]
        address = endpoint.load(data_dir)
        assert (address.host, address.port) == ("127.0.0.1", port)
        tls = TlsMaterial(data_dir / CERT_FILENAME, data_dir / KEY_FILENAME)
        server = ScimServer(vault, host=address.host, port=address.port, tls=tls, bus=EventBus())
        server.start()
        try:
            with httpx.Client(verify=ssl.create_default_context(cafile=str(tls.cert_path))) as client:
                answer = client.get(
                    f"{done.base_url.value.text()}/ServiceProviderConfig", headers={"Authorization": f"Bearer {token}"}
                )
            assert answer.status_code == 200
        finally:
            server.stop()
    finally:
        vault.close()


def test_refusals_stay_on_their_page_with_the_reason(qtbot: QtBot, data_dir: Path, tmp_path: Path) -> None:
    wizard = wizard_at(qtbot, data_dir)
    wizard.next()
    page = wizard.passphrase_page
    type_passphrases(qtbot, wizard, "short", "short")
    assert page.strength.text() == "5 more characters needed."
    qtbot.keyClicks(page.passphrase, "nine")  # "shortnine": one short
    assert page.strength.text() == "1 more character needed."  # it read "1 more characters needed."
    page.passphrase.setText("short")
    press_next(qtbot, wizard)
    assert wizard.currentPage() is page and "at least" in page.error.text()
    page.clear()
    type_passphrases(qtbot, wizard, PASSPHRASE, "something else entirely")
    press_next(qtbot, wizard)
    assert wizard.currentPage() is page and page.error.isVisible() and "differ" in page.error.text()
    assert page.confirmation.text() == "" and page.confirmation.hasFocus()
    qtbot.keyClicks(page.confirmation, PASSPHRASE)
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.token_page  # Entra ID, the default
    press_next(qtbot, wizard)

    endpoint_page = wizard.endpoint_page
    cert, _key = write_pair(tmp_path / "a", names=("scim.example.org",))
    _other, wrong_key = write_pair(tmp_path / "b")
    endpoint_page.form.own.setChecked(True)
    endpoint_page.form.cert.path.setText(str(cert))
    endpoint_page.form.key.path.setText(str(wrong_key))
    press_next(qtbot, wizard)
    assert wizard.currentPage() is endpoint_page and "does not match" in endpoint_page.error.text()
    endpoint_page.form.key.path.setText(str(_key))
    endpoint_page.form.network.setChecked(True)
    endpoint_page.form.public_host.setEditText("localhost")
    press_next(qtbot, wizard)
    assert "cannot reach Custos as 'localhost'" in endpoint_page.error.text()
    endpoint_page.form.public_host.setEditText("custos.example.net")
    with socket.socket() as taken:  # another program on the chosen port: refused here, not at the first start
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        endpoint_page.form.port.setValue(taken.getsockname()[1])
        press_next(qtbot, wizard)
        assert wizard.currentPage() is endpoint_page and "already in use" in endpoint_page.error.text()
        qtbot.waitUntil(lambda: "already in use" in endpoint_page.port_status.text())
    endpoint_page.form.port.setValue(free_port())
    endpoint_page.form.generate.setChecked(True)
    press_next(qtbot, wizard)  # a self-signed certificate: Entra refuses it, and the page asks how it will reach
    assert wizard.currentPage() is endpoint_page and "Choose how" in endpoint_page.error.text()
    assert endpoint_page.reach_box.isVisible()
    assert "refuses a self-signed certificate" in endpoint_page.reach_text.text()
    assert fits(wizard.minimumSizeHint()), wizard.minimumSizeHint().toTuple()  # with the box and the error, at 200 %
    endpoint_page.route_buttons["public"].setChecked(True)
    press_next(qtbot, wizard)
    assert wizard.currentPage() is endpoint_page and "Use my certificate" in endpoint_page.error.text()
    endpoint_page.form.own.setChecked(True)  # the CA-issued pair: Entra can call it directly, nothing to ask
    assert not endpoint_page.reach_box.isVisible()
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.policy_page
    assert "custos.example.net" in endpoint_page.form.certificate_warning()

    policy_page = wizard.policy_page
    broken = tmp_path / "policy.toml"
    broken.write_text(default_policy_text().replace("[controller]", "[controller", 1))
    policy_page.from_file.setChecked(True)
    policy_page.file.path.setText(str(broken))
    press_next(qtbot, wizard)
    assert wizard.currentPage() is policy_page
    assert "line" in policy_page.error.text() and "policy.toml:" in policy_page.problems.toPlainText()
    assert list(data_dir.iterdir()) == []  # nothing written by any refusal


def test_cancel_during_set_up_undoes_everything(qtbot: QtBot, data_dir: Path) -> None:
    wizard = wizard_at(qtbot, data_dir)
    wizard.next()
    type_passphrases(qtbot, wizard, PASSPHRASE, PASSPHRASE)
    wizard.endpoint_page.form.port.setValue(free_port())
    wizard.endpoint_page.route_buttons["agent"].setChecked(True)
    for _page in range(6):
        if wizard.currentPage() is wizard.setup_page:
            break
        wizard.next()
    assert wizard.currentPage() is wizard.setup_page
    wizard.next()  # Set up: the key derivation alone takes longer than the Cancel below
    assert wizard.setup_page.running
    wizard.reject()
    assert wizard.isVisible()  # it closes once the set-up has undone its work
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=20_000)
    assert wizard.result is None
    assert not Vault.exists(data_dir)
    assert list(data_dir.iterdir()) == []


def test_contacts_by_keyboard_go_into_the_installed_policy(qtbot: QtBot, data_dir: Path, tmp_path: Path) -> None:
    wizard = wizard_at(qtbot, data_dir)
    wizard.next()
    type_passphrases(qtbot, wizard, PASSPHRASE, PASSPHRASE)
    wizard.next()
    wizard.token_page.idp.setCurrentIndex(wizard.token_page.idp.findData("other"))
    wizard.next()
    wizard.endpoint_page.form.port.setValue(free_port())
    assert not wizard.endpoint_page.reach_box.isVisible()  # a local client: nothing stands in the way
    wizard.next()
    own = tmp_path / "policy.toml"  # a file that already names its DPO: the page shows it
    own.write_text(default_policy_text().replace('[dpo]\nname = ""', '[dpo]\nname = "Dana Protect"'))
    wizard.policy_page.from_file.setChecked(True)
    wizard.policy_page.file.path.setText(str(own))
    wizard.next()
    page = wizard.contacts_page
    assert wizard.currentPage() is page
    assert page.fields["dpo"]["name"].text() == "Dana Protect"
    assert "Requires human completion" in page.cost.text()
    qtbot.keyClick(wizard, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)  # &Controller name
    assert QApplication.focusWidget() is page.fields["controller"]["name"]
    for value in ("Acme GmbH", "1 Road, Berlin", "privacy@acme.example"):
        qtbot.keyClicks(QApplication.focusWidget(), value)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.setup_page
    plan = wizard.setup_page.plan.text()
    assert "DPO incomplete" in plan and "controller" not in plan.split("Policy:")[1].split("\n")[0]
    assert "default attribute mappings" not in plan  # "another SCIM client": no defaults to claim
    press_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.done_page, timeout=20_000)
    vault = wizard.result.vault  # type: ignore[union-attr]
    try:
        with vault.read_connection() as conn:
            record = in_force(conn)
        assert record is not None
        assert record.policy.controller.one_line() == "Acme GmbH; 1 Road, Berlin; privacy@acme.example"
        assert record.policy.dpo.name == "Dana Protect"
        assert "# Art. 30(1)(a): who is responsible." in record.text  # the file's comments kept
    finally:
        wizard.done_page.stored.setChecked(True)
        wizard.accept()
        vault.close()


def test_escape_on_any_page_asks_before_quitting(qtbot: QtBot, data_dir: Path) -> None:
    """Keyboard only: Escape, then Enter (the default answer is No) keeps the answers; Escape, Y quits."""
    wizard = wizard_at(qtbot, data_dir)
    wizard.confirm = ask_yes_no  # the real question box, answered with keys
    press_next(qtbot, wizard)
    type_passphrases(qtbot, wizard, PASSPHRASE, PASSPHRASE)
    seen = answer_question_with_keys(Qt.Key.Key_Return)
    qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: bool(seen))
    assert "Quit the set-up?" in seen[0]
    assert wizard.isVisible() and wizard.currentPage() is wizard.passphrase_page
    assert wizard.passphrase_page.passphrase.text() == PASSPHRASE  # nothing thrown away
    press_next(qtbot, wizard)
    assert wizard.currentPage() is wizard.token_page  # the IdP comes next
    seen = answer_question_with_keys(Qt.Key.Key_Y)
    with qtbot.waitSignal(wizard.rejected, timeout=5_000):
        qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Escape)
    assert wizard.result is None and wizard.passphrase_page.passphrase.text() == ""
    assert list(data_dir.iterdir()) == []


def test_the_new_passphrase_has_a_strength_meter_and_show_hide(qtbot: QtBot, data_dir: Path) -> None:
    wizard = wizard_at(qtbot, data_dir)
    press_next(qtbot, wizard)
    row = wizard.passphrase_page.passphrase_row
    assert row.meter is not None and row.meter.value() == 0
    qtbot.keyClicks(row.edit, "aaaaaaaaaaaa")
    weak = row.meter.value()
    assert "weak" in row.verdict.text()
    row.edit.clear()
    qtbot.keyClicks(row.edit, "vX7#qL9!mR2@wT4$")
    assert row.meter.value() > weak and "strong" in row.verdict.text()
    qtbot.keyClick(row.edit, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert row.edit.echoMode() == row.edit.EchoMode.Normal
    wizard.passphrase_page.clear()  # leaving the page or finishing puts the dots back
    assert row.edit.echoMode() == row.edit.EchoMode.Password


def test_no_two_labels_of_the_passphrase_page_share_an_alt_key(qtbot: QtBot) -> None:
    """Before: &Passphrase and Re&peat it both took Alt+P, which then only moved between the two fields."""
    page = PassphrasePage()
    qtbot.addWidget(page)
    texts = [label.text() for label in page.findChildren(QLabel)]
    texts += [button.text() for button in page.findChildren(QAbstractButton)]
    keys = [mnemonic(text) for text in texts if mnemonic(text)]
    assert len(keys) == len(set(keys)), keys


def test_no_page_of_the_assistant_takes_the_alt_key_of_back_or_next(qtbot: QtBot, data_dir: Path) -> None:
    """Before: "Token &name" took Alt+N, the assistant's Next: on that page Alt+N only moved the focus between the
    field and the button, and the keyboard could not go on."""
    wizard = FirstRunWizard(data_dir, "dpo")
    qtbot.addWidget(wizard)
    back, next_ = QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton
    moves = [wizard.button(back).text(), wizard.button(next_).text()]
    shared: dict[str, list[str | None]] = {}
    for page_id in wizard.pageIds():
        page = wizard.page(page_id)
        texts = [label.text() for label in page.findChildren(QLabel)]
        texts += [button.text() for button in page.findChildren(QAbstractButton)]
        keys = [mnemonic(text) for text in texts + moves if mnemonic(text)]
        shared[page.title()] = sorted({key for key in keys if keys.count(key) > 1})
    assert {title: keys for title, keys in shared.items() if keys} == {}


def test_the_length_verdict_stands_under_the_passphrase_not_under_its_repetition(qtbot: QtBot) -> None:
    """'Long enough.' is about the passphrase; below "Repeat it" it read as a verdict on the repetition."""
    from PySide6.QtWidgets import QFormLayout

    from app.ui.first_run.pages import PassphrasePage

    page = PassphrasePage()
    qtbot.addWidget(page)
    form = page.layout()
    assert isinstance(form, QFormLayout)
    rows = {form.getWidgetPosition(w)[0]: w for w in (page.passphrase_row, page.strength, page.confirmation_row)}
    assert [rows[r] for r in sorted(rows)] == [page.passphrase_row, page.strength, page.confirmation_row]
