"""The assistant's question pages. Each checks its answers with the core before letting the operator on."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWizardPage,
)

from app.core.errors import CustosError, PolicyInvalid
from app.policy.loader import check_policy
from app.setup.idp_guides import GUIDES
from app.store.tokens import check_token_name
from app.store.vault import MIN_PASSPHRASE_LENGTH, check_new_passphrase
from app.ui.endpoint_form import EndpointForm
from app.ui.passphrase_field import PassphraseRow
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
                "  2. decide where the endpoint listens and which TLS certificate it shows,\n"
                "  3. load the data-protection policy,\n"
                "  4. create the first token for your identity provider.\n\n"
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
        self.remember = QCheckBox("&Remember the key in the system keyring (unlock without typing)")
        self.remember.setToolTip(
            "Stores the derived vault key, never the passphrase, in the operating system's keyring. "
            "Anyone who can use your session can then open the vault."
        )
        self.strength = text_label()
        self.passphrase.textChanged.connect(self._describe)
        form = QFormLayout(self)
        passphrase_label = QLabel("&Passphrase")
        passphrase_label.setBuddy(self.passphrase)
        repeat_label = QLabel("Re&peat it")
        repeat_label.setBuddy(self.confirmation)
        form.addRow(passphrase_label, self.passphrase_row)
        form.addRow(repeat_label, self.confirmation_row)
        form.addRow("", self.strength)
        form.addRow("", self.remember)
        form.addRow(self.error)

    def _describe(self, text: str) -> None:
        missing = MIN_PASSPHRASE_LENGTH - len(text)
        self.strength.setText(f"{missing} more characters needed." if missing > 0 else "Long enough.")

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
    def __init__(self) -> None:
        super().__init__(
            "The SCIM endpoint",
            "Your identity provider connects here over HTTPS. The address is kept, so the IdP's configuration "
            "stays valid across restarts.",
        )
        self.form = EndpointForm()
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def validatePage(self) -> bool:
        try:
            self.form.check()
        except CustosError as exc:
            return self.refuse(exc.user_message)
        return self.accept_answers()


class PolicyPage(_CheckedPage):
    def __init__(self) -> None:
        super().__init__(
            "The data-protection policy",
            "The policy says which attributes Custos may hold, for which purposes and recipients, and for how "
            "long. Anything outside it is refused and recorded. You can change it later (Policy tab).",
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
        _policy, problems = check_policy(text)
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
        for guide in GUIDES:
            self.idp.addItem(guide.name, guide.key)
        self.name = QComboBox()
        self.name.setEditable(True)
        self.expires = QSpinBox()
        self.expires.setRange(0, 3650)
        self.expires.setSpecialValueText("never (revoke it on the Tokens tab)")
        self.expires.setSuffix(" days")
        self.idp.currentIndexChanged.connect(self._named_after_idp)
        form = QFormLayout(self)
        idp_label = QLabel("&Identity provider")
        idp_label.setBuddy(self.idp)
        name_label = QLabel("Token &name")
        name_label.setBuddy(self.name)
        expires_label = QLabel("&Expires after")
        expires_label.setBuddy(self.expires)
        form.addRow(idp_label, self.idp)
        form.addRow(name_label, self.name)
        form.addRow(expires_label, self.expires)
        form.addRow(self.error)
        self._named_after_idp()

    def _named_after_idp(self) -> None:
        self.name.setEditText(self.idp.currentText())

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
