"""Adding or changing a target: where it is, whose attributes it receives (the policy recipient, previewed with the
names it receives them under), its credential, and a connection test before anything is saved.

The credential is typed once and never shown again: editing shows an empty box ("unchanged"), and a new value
replaces the stored one only when one is typed. It leaves this dialog only in the TargetConfig handed to the
Qt-free service (app/services/targets.py), never in a label, a log line or the audit trail.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConfigError
from app.core.wording import counted
from app.services.targets import (
    TIMEOUT_RANGE,
    ConnectionCheck,
    MappedAttribute,
    Policy,
    TargetConfig,
    check_connection,
    preview,
)
from app.ui.policy.common import plain_label, user_message
from app.ui.widgets import resize_within_screen
from app.ui.workers import submit

AUTH = (("bearer", "Bearer token"), ("oauth2", "OAuth 2 client credentials"), ("none", "None (loopback tests only)"))
ERASE = (("delete", "Delete, then verify it is gone"), ("deactivate", "Deactivate only (not an erasure)"),
         ("manual", "An operator deletes and attests"))  # fmt: skip


def parse_renames(text: str) -> dict[str, str]:
    renames = {}
    for pair in (p.strip() for p in text.split(",") if p.strip()):
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ConfigError(f"A rename is OURS=THEIRS, not {pair!r}.")
        renames[ours.strip()] = theirs.strip()
    return renames


def _combo(choices: tuple[tuple[str, str], ...], current: str) -> QComboBox:
    combo = QComboBox()
    for key, text in choices:
        combo.addItem(text, key)
    combo.setCurrentIndex(max(0, [key for key, _ in choices].index(current) if current in dict(choices) else 0))
    return combo


class TargetDialog(QDialog):
    def __init__(self, policy: Policy, existing: TargetConfig | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.policy = policy
        self.existing = existing
        self.check: ConnectionCheck | None = None
        self.setWindowTitle(f"Target {existing.name}" if existing else "Add a target")
        base = existing or TargetConfig(0, "", "", policy.recipients[0].id if policy.recipients else "")
        self.name = QLineEdit(base.name)
        self.name.setPlaceholderText("e.g. hr-system (letters, digits, - and _)")
        self.name.setEnabled(existing is None)
        self.url = QLineEdit(base.base_url)
        self.url.setPlaceholderText("https://app.example.com/scim/v2")
        self.recipient = QComboBox()
        for recipient in policy.recipients:
            self.recipient.addItem(f"{recipient.name} ({recipient.id})", recipient.id)
        if existing is not None and self.recipient.findData(existing.recipient_id) < 0:
            self.recipient.addItem(f"{existing.recipient_id} (not in the policy in force)", existing.recipient_id)
        self.recipient.setCurrentIndex(max(0, self.recipient.findData(base.recipient_id)))
        self.auth = _combo(AUTH, base.auth_kind)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("unchanged: type a new one to replace it" if existing else "token or secret")
        self.secret.setAccessibleName("Credential")
        self.token_url = QLineEdit(base.oauth_token_url or "")
        self.client_id = QLineEdit(base.oauth_client_id or "")
        self.scope = QLineEdit(base.oauth_scope or "")
        self.ca_file = QLineEdit(base.ca_file or "")
        self.ca_file.setPlaceholderText("CA certificate(s) to verify it with (default: the system's)")
        self.pin = QLineEdit(base.pinned_sha256 or "")
        self.pin.setPlaceholderText("SHA-256 of a self-signed certificate (optional)")
        self.renames = QLineEdit(", ".join(f"{k}={v}" for k, v in base.renames.items()))
        self.renames.setPlaceholderText("ours=theirs, … (optional)")
        self.erase_mode = _combo(ERASE, base.erase_mode)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 32)
        self.concurrency.setValue(base.max_concurrency)
        self.timeout = QDoubleSpinBox()  # seconds the target has to answer a request (its own; 15 unless set)
        self.timeout.setRange(*TIMEOUT_RANGE)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(base.timeout)
        self.timeout.setAccessibleName("Timeout in seconds")
        self.timeout.setToolTip("How long the target has to answer each request (connecting: at most 5 s of it). "
                                "Longer for a slow target on a bad link; shorter so a hung one holds less.")
        self.enabled = QCheckBox("Provision to this target")
        self.enabled.setChecked(base.enabled)

        self.mapping = QStandardItemModel(0, 2, self)
        self.mapping.setHorizontalHeaderLabels(["Attribute (catalogue)", "Sent as"])
        self.mapping_view = QTableView()
        self.mapping_view.setModel(self.mapping)
        self.mapping_view.setAccessibleName("What this target receives")
        self.mapping_view.verticalHeader().hide()
        self.mapping_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mapping_view.setMinimumHeight(90)
        self.mapping_view.setTabKeyNavigation(False)  # Tab leaves the table (it is read-only)
        self.mapping_note = plain_label(wrap=True)
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.outcome = plain_label(wrap=True)
        self.outcome.setAccessibleName("Connection test result")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        # Alt+S saves: the platform's "Save" has no mnemonic, and an Alt+letter nothing claims is typed into the
        # focused field (an "s" appended to the credential, unseen behind the password dots).
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Save")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        left = QFormLayout()
        left.addRow("&Name", self.name)
        left.addRow("SCIM &URL", self.url)
        left.addRow("&Recipient", self.recipient)
        left.addRow("&Authentication", self.auth)
        left.addRow("&Credential", self.secret)
        left.addRow("Token UR&L", self.token_url)
        left.addRow("Client &ID", self.client_id)
        left.addRow("Sc&ope", self.scope)
        right = QFormLayout()
        right.addRow("CA &file", self.ca_file)
        right.addRow("&Pin", self.pin)
        right.addRow("Rena&mes", self.renames)
        right.addRow("&Erasure", self.erase_mode)
        right.addRow("Concurrenc&y", self.concurrency)
        right.addRow("Answer &within", self.timeout)
        right.addRow("", self.enabled)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.outcome, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(plain_label("What it receives (the recipient's attributes in the policy in force):"))
        layout.addWidget(self.mapping_view, 1)
        layout.addWidget(self.mapping_note)
        layout.addLayout(test_row)
        layout.addWidget(self.buttons)
        # URLs and placeholders readable at 720 px; a fixed minimum of 720 cut the right column on a 640 px screen
        resize_within_screen(self, 720, self.sizeHint().height())

        self.recipient.currentIndexChanged.connect(self._preview)
        self.renames.textChanged.connect(self._preview)
        self.auth.currentIndexChanged.connect(self._auth_changed)
        for edit in (self.name, self.url, self.secret, self.token_url, self.client_id):
            edit.textChanged.connect(self._validate)
        self._auth_changed()
        self._preview()

    # -- the form ------------------------------------------------------------------------------------------
    def _auth_changed(self) -> None:
        kind = self.auth.currentData()
        self.secret.setEnabled(kind != "none")
        for edit in (self.token_url, self.client_id, self.scope):
            edit.setEnabled(kind == "oauth2")
        self._validate()

    def _preview(self) -> None:
        self.mapping.removeRows(0, self.mapping.rowCount())
        try:
            rows = preview(self.policy, str(self.recipient.currentData()), parse_renames(self.renames.text()))
        except ConfigError as exc:
            self.mapping_note.setText(exc.user_message)
            rows = []
        else:
            sent = counted(len(rows), "attribute")
            self.mapping_note.setText(f"{sent}; nothing outside the recipient's list is sent.")
        self._fill(rows)
        self._validate()

    def _fill(self, rows: list[MappedAttribute]) -> None:
        support = (self.check.support or {}) if self.check else {}
        for row in rows:
            mark = "" if row.path not in support else ("  ✓ supported" if support[row.path] else "  ✗ NOT SUPPORTED")
            items = [QStandardItem(row.path), QStandardItem(row.sent_as + mark)]
            for item in items:
                item.setEditable(False)
            self.mapping.appendRow(items)

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(self.problem() is None)

    def problem(self) -> str | None:
        """What still stops saving, in words (the service checks again, with the store's own rules)."""
        if not self.name.text().strip():
            return "Give the target a name."
        if not self.url.text().strip():
            return "Give the target's SCIM base URL."
        kind = self.auth.currentData()
        if kind != "none" and not self.secret.text() and (self.existing is None or not self.existing.secret
                                                          or self.existing.auth_kind != kind):  # fmt: skip
            return "Type the credential."
        if kind == "oauth2" and not (self.token_url.text().strip() and self.client_id.text().strip()):
            return "OAuth 2 needs a token URL and a client id."
        if self.mapping.rowCount() == 0:
            return "The recipient receives nothing from the catalogue."
        return None

    def config(self) -> TargetConfig:
        """What the form says, as a configuration; an untouched credential box keeps the stored credential."""
        kind = str(self.auth.currentData())
        secret = self.secret.text().strip() or None
        if secret is None and self.existing is not None and kind != "none":
            secret = self.existing.secret
        return TargetConfig(
            id=self.existing.id if self.existing else 0,
            name=self.name.text().strip(),
            base_url=self.url.text().strip(),
            recipient_id=str(self.recipient.currentData()),
            auth_kind=kind,
            secret=secret if kind != "none" else None,
            oauth_token_url=self.token_url.text().strip() or None if kind == "oauth2" else None,
            oauth_client_id=self.client_id.text().strip() or None if kind == "oauth2" else None,
            oauth_scope=self.scope.text().strip() or None if kind == "oauth2" else None,
            ca_file=self.ca_file.text().strip() or None,
            pinned_sha256=self.pin.text().strip() or None,
            renames=parse_renames(self.renames.text()),
            erase_mode=str(self.erase_mode.currentData()),
            max_concurrency=self.concurrency.value(),
            enabled=self.enabled.isChecked(),
            timeout=self._timeout(),
        )

    def _timeout(self) -> float:
        """The box's seconds; a stored timeout the box shows rounded (2.25 s set with --timeout) stays as stored, so
        an edit of something else does not change it."""
        shown = self.timeout.value()
        if self.existing is not None and abs(self.existing.timeout - shown) <= 0.05 + 1e-9:  # Qt rounds half up
            return self.existing.timeout
        return shown

    def changes(self) -> dict[str, object]:
        """For an edit: only what differs (a credential only when a new one was typed)."""
        assert self.existing is not None
        new = self.config()
        fields = ("base_url", "recipient_id", "auth_kind", "oauth_token_url", "oauth_client_id", "oauth_scope",
                  "ca_file", "pinned_sha256", "renames", "erase_mode", "max_concurrency", "enabled",
                  "timeout")  # fmt: skip
        result: dict[str, object] = {f: getattr(new, f) for f in fields if getattr(new, f) != getattr(self.existing, f)}
        if self.secret.text().strip():
            result["secret"] = self.secret.text().strip()
        return result

    # -- the connection test -------------------------------------------------------------------------------
    def test_connection(self) -> None:
        try:
            config = replace(self.config(), name=self.name.text().strip() or "this target")
        except ConfigError as exc:
            self.outcome.setText(exc.user_message)
            return
        self.test_button.setEnabled(False)
        self.outcome.setText("Connecting…")
        policy = self.policy
        submit(lambda: check_connection(config, policy), self._tested, self._test_failed)

    def _tested(self, check: ConnectionCheck) -> None:
        self.test_button.setEnabled(True)
        self.check = check
        text = check.headline()
        if check.reached:
            missing = check.unsupported
            unpublished = counted(len(missing), "mapped attribute")
            text += (f". It does not publish {unpublished}: {', '.join(missing)}." if missing
                     else ". Every mapped attribute is supported.")  # fmt: skip
        self.outcome.setText(text)
        self._preview()  # the marks in the mapping

    def _test_failed(self, exc: Exception) -> None:
        self.test_button.setEnabled(True)
        self.outcome.setText(user_message(exc, "The connection test could not run."))

    def accept(self) -> None:
        if self.problem() is None:
            super().accept()
