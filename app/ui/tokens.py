"""The Tokens page: bearer tokens for identity providers, the secret shown once right after it is made.

A token near its expiry says so in the Expires column and can be selected from its notice (decision 0057): the
identity provider using it is refused from that moment, and its changes stop arriving.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.tokens import TokenInfo, TokenStore, expiry_note
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import user_message
from app.ui.times import local_time
from app.ui.widgets import ask_yes_no, clipboard_button, selectable_label
from app.ui.workers import submit

Confirm = Callable[[QWidget, str, str], bool]


def _when(moment: datetime | None) -> str:
    return local_time(moment) if moment else "never"


def _expires(info: TokenInfo, now: datetime) -> str:
    """When it expires, and how soon when that is within 14 days: "never" for a token without an expiry."""
    note = expiry_note(info, now)
    return _when(info.expires) + (f" ({note})" if note else "")


class TokensPage(QWidget):
    """Bearer tokens for identity providers: the secret is shown once, right after creation."""

    COLUMNS = ("Name", "Status", "Starts with", "Created", "Expires", "Last used", "Last used from")

    def __init__(
        self,
        tokens: TokenStore,
        confirm: Confirm = ask_yes_no,
        parent: QWidget | None = None,
        reauthenticate: Reauthenticate | None = None,
    ) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests give their own
        self._wanted: str | None = None  # a token a notice named, selected once the list shows it
        self.confirm = confirm
        self.reauthenticate = reauthenticate  # asked before a new token is made (it opens the SCIM endpoint)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Which identity provider will use it, e.g. Entra ID production")
        self.name.setMaxLength(128)
        self.lifetime = QSpinBox()
        self.lifetime.setRange(0, 3650)
        self.lifetime.setSpecialValueText("never expires")
        self.lifetime.setSuffix(" days")
        self.create_button = QPushButton("Create token")
        self.create_button.clicked.connect(self.create_token)
        self.name.returnPressed.connect(self.create_token)
        self.secret = QLineEdit()
        self.secret.setReadOnly(True)
        self.copy_secret = clipboard_button(self.secret.text)
        self.secret_note = selectable_label(
            "Copy this token now: Custos stores only its hash and cannot show it again."
        )
        self.message = selectable_label()
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setTabKeyNavigation(False)  # read-only: Tab leaves the table (it walked every cell)
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.revoke_button = QPushButton("Revoke…")
        self.revoke_button.clicked.connect(self.revoke_selected)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)

        create_row = QHBoxLayout()
        create_row.addWidget(self.name, 1)
        create_row.addWidget(self.lifetime)
        create_row.addWidget(self.create_button)
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.secret, 1)
        secret_row.addWidget(self.copy_secret)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(refresh)
        actions.addWidget(self.revoke_button)
        layout = QVBoxLayout(self)
        layout.addLayout(create_row)
        layout.addLayout(secret_row)
        layout.addWidget(self.secret_note)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self._show_secret("")
        self.refresh()

    def clear_for_lock(self) -> None:
        self._show_secret("")
        self.message.clear()

    def _show_secret(self, secret: str) -> None:
        self.secret.setText(secret)
        for widget in (self.secret, self.copy_secret, self.secret_note):
            widget.setVisible(bool(secret))

    def refresh(self) -> None:
        submit(self.tokens.list, self._listed, self._failed)

    def create_token(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.message.setText("Give the token a name first.")
            return
        days = self.lifetime.value() or None
        if self.reauthenticate is not None and not self.reauthenticate(self, "create a token"):
            self.message.setText("No token created.")
            return
        self.create_button.setEnabled(False)
        self._show_secret("")
        submit(lambda: self.tokens.create(name, days), self._created, self._failed)

    def revoke_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select the token to revoke.")
            return
        cell = self.table.item(rows[0].row(), 0)
        if cell is None:  # the table is being refilled
            return
        name = cell.text()
        question = f"Revoke the token {name!r}? Identity providers using it will be refused from now on."
        if not self.confirm(self, "Revoke token", question):
            return
        submit(lambda: self.tokens.revoke(name), self._revoked, self._failed)

    def _created(self, result: tuple[TokenInfo, str]) -> None:
        info, secret = result
        self.create_button.setEnabled(True)
        self.name.clear()
        self._show_secret(secret)
        self.message.setText(f"Token {info.name!r} created.")
        self.refresh()

    def _revoked(self, info: TokenInfo) -> None:
        self.message.setText(f"Token {info.name!r} revoked.")
        self.refresh()

    def _failed(self, exc: Exception) -> None:
        self.create_button.setEnabled(True)
        self.message.setText(user_message(exc, "The token store could not be changed."))

    def _listed(self, infos: list[TokenInfo]) -> None:
        now = self.clock()
        self.table.setRowCount(len(infos))
        for row, info in enumerate(infos):
            values = (
                info.name,
                info.status,
                info.hint + "…",
                local_time(info.created),
                _expires(info, now),
                _when(info.last_used),
                info.last_used_from or "",
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        if self._wanted is not None:
            self._select_wanted()

    def show_token(self, name: str) -> None:
        """Select the token a notice names: now if it is listed, else when the list being read arrives."""
        self._wanted = name
        self._select_wanted()

    def _select_wanted(self) -> None:
        name = self._wanted
        for row in range(self.table.rowCount()):
            cell = self.table.item(row, 0)
            if cell is not None and cell.text() == name:
                self.table.selectRow(row)
                self.table.scrollToItem(cell)
                self.table.setFocus()
                self._wanted = None
                return
