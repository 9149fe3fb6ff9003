"""The assistant's question pages. Each checks its answers with the core before letting the operator on."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import cast

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from app.core.errors import CustosError, PolicyInvalid
from app.core.wording import counted
from app.policy.edit import CONTACT_FIELDS
from app.policy.model import NEEDS_HUMAN
from app.services.policy import check
from app.services.setup import PUBLIC, check_port_free, obstacles, reach, route_problem, routes
from app.services.tokens import check_token_name
from app.setup.idp_guides import GUIDES, guide
from app.store.vault import MIN_PASSPHRASE_LENGTH, check_new_passphrase
from app.ui.endpoint_form import EndpointForm
from app.ui.passphrase_field import PassphraseRow, remember_key_box
from app.ui.widgets import FileField, error_label, text_label


class _CheckedPage(QWizardPage):
    """A page whose answers the core checks on Next; the reason for a refusal is shown on the page."""

    def __init__(self, title: str, subtitle: str) -> None:
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.error = error_label()

    def refuse(self, message: str) -> bool:
        self.error.setText(message)
        self.error.show()
        return False

    def accept_answers(self) -> bool:
        self.error.hide()
        return True


class WelcomePage(QWizardPage):
    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.setTitle("Welcome to Custos")
        self.setSubTitle("A few questions, then your identity provider can start provisioning.")
        layout = QVBoxLayout(self)
        layout.addWidget(
            text_label(
                "Custos receives users and groups from your identity provider over SCIM, keeps only what your "
                "policy allows in an encrypted vault on this computer, and passes each application only what it "
                "needs.\n\nThis assistant will:\n"
                "  1. create the encrypted vault and its passphrase,\n"
                "  2. ask which identity provider will connect, and make its token,\n"
                "  3. decide where the endpoint listens and which certificate it shows, for that IdP,\n"
                "  4. load the data-protection policy, with the controller's and DPO's contact details.\n\n"
                "Nothing is written until the last step, and a cancelled set-up leaves nothing behind."
            )
        )
        layout.addWidget(text_label(f"Data folder: {data_dir}", selectable=True))
        layout.addStretch(1)


class PassphrasePage(_CheckedPage):
    def __init__(self) -> None:
        super().__init__(
            "The vault passphrase",
            f"At least {MIN_PASSPHRASE_LENGTH} characters. It cannot be recovered: without it the vault stays "
            "unreadable, so keep it in your password manager.",
        )
        self.passphrase_row = PassphraseRow(meter=True)
        self.confirmation_row = PassphraseRow(accessible_name="Passphrase again")
        self.passphrase, self.confirmation = self.passphrase_row.edit, self.confirmation_row.edit
        self.remember, self.remember_note = remember_key_box()
        self.strength = text_label()
        self.passphrase.textChanged.connect(self._describe)
        form = QFormLayout(self)
        passphrase_label = QLabel("&Passphrase")
        passphrase_label.setBuddy(self.passphrase)
        repeat_label = QLabel("Repeat &it")  # Re&peat shared Alt+P with &Passphrase: the key only moved between them
        repeat_label.setBuddy(self.confirmation)
        form.addRow(passphrase_label, self.passphrase_row)
        form.addRow("", self.strength)  # about the passphrase: under it (under "Repeat it" it judged the repetition)
        form.addRow(repeat_label, self.confirmation_row)
        form.addRow("", self.remember)
        form.addRow("", self.remember_note)
        form.addRow(self.error)

    def _describe(self, text: str) -> None:
        missing = MIN_PASSPHRASE_LENGTH - len(text)
        needed = f"{counted(missing, 'more character')} needed."
        self.strength.setText(needed if missing > 0 else "Long enough.")

    def validatePage(self) -> bool:
        try:
            check_new_passphrase(self.passphrase.text(), self.confirmation.text())
        except CustosError as exc:
            self.confirmation.clear()
            self.confirmation.setFocus()
            return self.refuse(exc.user_message)
        return self.accept_answers()

    def clear(self) -> None:
        self.passphrase.clear()
        self.confirmation.clear()
        self.passphrase_row.hide_text()
        self.confirmation_row.hide_text()


class EndpointPage(_CheckedPage):
    """Where the endpoint listens, checked against the IdP chosen before: a cloud IdP cannot reach 127.0.0.1 nor
    trust a self-signed certificate, so the page asks how it will reach Custos, and refuses a set-up that cannot
    work. A port already taken is refused here, not when the endpoint first starts."""

    def __init__(self) -> None:
        super().__init__(
            "The SCIM endpoint",
            "Your identity provider connects here over HTTPS. The address is kept, so the IdP's configuration "
            "stays valid across restarts.",
        )
        self.idp_key = "entra"
        self.form = EndpointForm()
        self.port_status = text_label()
        self.reach_box = QGroupBox()
        self.reach_text = text_label()
        self.routes = QButtonGroup(self)
        self.route_buttons: dict[str, QRadioButton] = {}
        reach_layout = QVBoxLayout(self.reach_box)
        reach_layout.addWidget(self.reach_text)
        for mnemonic, (route, _text) in zip("123", routes("entra"), strict=True):
            button = QRadioButton()
            button.setProperty("mnemonic", mnemonic)
            self.routes.addButton(button)
            self.route_buttons[route] = button
            reach_layout.addWidget(button)
        self.routes.buttonToggled.connect(lambda *_args: self.error.hide())
        self.port_timer = QTimer(self)
        self.port_timer.setSingleShot(True)
        self.port_timer.setInterval(200)
        self.port_timer.timeout.connect(self._show_port)
        self.form.port.valueChanged.connect(lambda _value: self.port_timer.start())
        for button in (self.form.local_only, self.form.network, self.form.generate, self.form.own):
            button.toggled.connect(self._update_reach)
            button.toggled.connect(lambda _on: self.port_timer.start())
        self.form.public_host.editTextChanged.connect(self._update_reach)
        self.reach_box.setToolTip("Without one of these, provisioning fails after set-up.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.port_status)
        layout.addWidget(self.reach_box)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.idp_key = cast("_HasIdp", self.wizard()).token_page.guide_key
        idp = reach(self.idp_key)
        self.reach_box.setTitle(f"How will {idp.name} reach Custos?")
        offered = dict(routes(self.idp_key))
        for route, button in self.route_buttons.items():
            mnemonic = button.property("mnemonic")
            text = offered.get(route, "")
            button.setText(f"&{mnemonic}) {text}" if text else "")
            button.setVisible(bool(text))
            if not text and button.isChecked():
                self.routes.setExclusive(False)
                button.setChecked(False)
                self.routes.setExclusive(True)
        self._update_reach()
        self._show_port()

    def self_signed(self) -> bool:
        if self.form.own.isChecked():
            return self.form.summary.self_signed if self.form.summary is not None else False
        return True

    def route(self) -> str | None:
        return next((route for route, button in self.route_buttons.items() if button.isChecked()), None)

    def _update_reach(self, *_args: object) -> None:
        try:
            settings = self.form.settings()
        except CustosError:
            return
        found = obstacles(self.idp_key, settings, self.self_signed())
        self.reach_box.setVisible(bool(found))
        if found:
            name = reach(self.idp_key).name
            self.reach_text.setText(f"{name} calls from its cloud: as set above, it {' and '.join(found)}. So:")

    def _show_port(self) -> None:
        settings = self.form.settings()
        try:
            check_port_free(settings.host, settings.port)
        except CustosError as exc:
            self.port_status.setText(exc.user_message)
            return
        self.port_status.setText(f"Port {settings.port} is free on {settings.host}.")

    def validatePage(self) -> bool:
        try:
            self.form.check()
            settings = self.form.settings()
            check_port_free(settings.host, settings.port)
        except CustosError as exc:
            return self.refuse(exc.user_message)
        self._update_reach()  # the operator's certificate is known now: it may be self-signed too
        route = self.route()
        problem = route_problem(self.idp_key, route, settings, self.self_signed())
        if problem:  # said briefly: the box above already explains what stands in the way
            name = reach(self.idp_key).name
            if route is None:
                return self.refuse(f"Choose how {name} will reach Custos: one of the set-ups above.")
            if route == PUBLIC:
                return self.refuse("For 1): choose Other machines with the public DNS name, and Use my certificate.")
            return self.refuse(problem)
        return self.accept_answers()

    def route_text(self) -> str:
        """How the IdP reaches Custos, for the set-up plan ("" when nothing stands in the way)."""
        if not self.reach_box.isVisible() and not obstacles(self.idp_key, self.form.settings(), self.self_signed()):
            return ""
        chosen = self.route()
        return dict(routes(self.idp_key)).get(chosen, "") if chosen else ""


class _HasIdp(QWidget):
    token_page: TokenPage


class PolicyPage(_CheckedPage):
    def __init__(self) -> None:
        super().__init__(
            "The data-protection policy",
            # Two lines at most: the wizard's subtitle area cut a third line off ("You can change it" and no more).
            "Which attributes Custos may hold, for which purposes and recipients, and how long. Anything else is "
            "refused and recorded; change it later on the Policy tab.",
        )
        self.default = QRadioButton("Start with the &default policy (identity and access management)")
        self.from_file = QRadioButton("Load a policy &file (TOML) agreed with your DPO")
        self.default.setChecked(True)
        self.file = FileField("Policy file", "Policy files (*.toml);;All files (*)")
        self.problems = QPlainTextEdit()
        self.problems.setReadOnly(True)
        self.problems.setPlaceholderText("Problems found in the file are listed here, by line.")
        self.problems.setMaximumHeight(110)
        self.text: str | None = None
        for button in (self.default, self.from_file):
            button.toggled.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(self.default)
        layout.addWidget(self.from_file)
        layout.addWidget(self.file)
        layout.addWidget(self.problems)
        layout.addWidget(self.error)
        self._update()

    def _update(self) -> None:
        self.file.setEnabled(self.from_file.isChecked())
        self.problems.setEnabled(self.from_file.isChecked())

    def validatePage(self) -> bool:
        self.text = None
        self.problems.clear()
        if self.default.isChecked():
            return self.accept_answers()
        path = Path(self.file.path.text().strip()).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return self.refuse(f"{path} cannot be read as a UTF-8 text file.")
        _policy, problems = check(text)
        self.problems.setPlainText("\n".join(problem.render(path.name) for problem in problems))
        if any(not problem.warning for problem in problems):
            error = PolicyInvalid([(p.line, p.message) for p in problems if not p.warning])
            return self.refuse(f"The policy cannot be used: {error.user_message}")
        self.text = text
        return self.accept_answers()


class TokenPage(_CheckedPage):
    def __init__(self) -> None:
        super().__init__(
            "Your identity provider",
            "Custos makes a token for it. The token is shown once, on the last page, with the address to paste.",
        )
        self.idp = QComboBox()
        for item in GUIDES:
            self.idp.addItem(item.name, item.key)
        self.name = QComboBox()
        self.name.setEditable(True)
        self.expires = QSpinBox()
        self.expires.setRange(0, 3650)
        self.expires.setSpecialValueText("never (revoke it on the Tokens tab)")
        self.expires.setSuffix(" days")
        self.reach = text_label()
        self.idp.currentIndexChanged.connect(self._named_after_idp)
        form = QFormLayout(self)
        idp_label = QLabel("&Identity provider")
        idp_label.setBuddy(self.idp)
        name_label = QLabel("To&ken name")  # Alt+N is the wizard's Next: shared, it only moved the focus
        name_label.setBuddy(self.name)
        expires_label = QLabel("&Expires after")
        expires_label.setBuddy(self.expires)
        form.addRow(idp_label, self.idp)
        form.addRow(name_label, self.name)
        form.addRow(expires_label, self.expires)
        form.addRow(self.reach)
        form.addRow(self.error)
        self._named_after_idp()

    def _named_after_idp(self) -> None:
        self.name.setEditText(self.idp.currentText())
        chosen = guide(self.guide_key)
        cloud = reach(self.guide_key).cloud
        self.reach.setText(chosen.reachability + (" The next page asks how it will reach Custos." if cloud else ""))

    @property
    def guide_key(self) -> str:
        return str(self.idp.currentData())

    def token_name(self) -> str:
        return self.name.currentText().strip()

    def expires_days(self) -> int | None:
        return self.expires.value() or None

    def validatePage(self) -> bool:
        try:
            check_token_name(self.token_name())
        except CustosError as exc:
            return self.refuse(exc.user_message)
        return self.accept_answers()


class ContactsPage(_CheckedPage):
    """The controller's and DPO's contact details, written into the installed policy. Skippable, saying what
    skipping costs; a policy file that already names them fills the fields."""

    ROLES = (("controller", "The controller (Art. 30(1)(a))", "&Controller"),
             ("dpo", "The data protection officer", "&DPO"))  # fmt: skip

    def __init__(self) -> None:
        super().__init__(
            "Who is responsible",
            "The Art. 30 record names the controller and the DPO. You can fill these in later (Policy → Edit the "
            "policy).",
        )
        self.fields: dict[str, dict[str, QLineEdit]] = {}
        self.prefilled_from: str | None = None
        layout = QVBoxLayout(self)
        for role, heading, mnemonic in self.ROLES:
            box = QGroupBox(heading)
            form = QFormLayout(box)
            self.fields[role] = {}
            for name in CONTACT_FIELDS:
                field = QLineEdit()
                field.setAccessibleName(f"{role} {name}")
                self.fields[role][name] = field
                label = QLabel(f"{mnemonic} name" if name == "name" else name.capitalize())
                label.setBuddy(field)
                form.addRow(label, field)
            layout.addWidget(box)
        self.cost = text_label(
            f'Skip by leaving these empty: Article 30 exports will then say "{NEEDS_HUMAN}" for each missing '
            "detail until someone fills it in."
        )
        layout.addWidget(self.cost)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def prefill(self, policy_text: str | None) -> None:
        """Contacts a chosen policy file already has; fields the operator typed into are left alone."""
        if policy_text == self.prefilled_from:
            return
        self.prefilled_from = policy_text
        try:
            document = tomllib.loads(policy_text) if policy_text else {}
        except tomllib.TOMLDecodeError:
            document = {}
        for role, fields in self.fields.items():
            raw = document.get(role, {})
            for name, field in fields.items():
                if not field.isModified():
                    field.setText(str(raw.get(name, "")) if isinstance(raw, dict) else "")

    def contacts(self) -> dict[str, dict[str, str]]:
        return {role: {name: f.text().strip() for name, f in fields.items()} for role, fields in self.fields.items()}

    def skipped(self) -> list[str]:
        """The roles whose name, address or email is missing (what the record will ask a human for)."""
        return [
            role
            for role, values in self.contacts().items()
            if not all(values[name] for name in ("name", "address", "email"))
        ]
