"""The Settings dialog: locking, clipboard hygiene, appearance, and forgetting a key remembered in the keyring.

Everything here is stored per user through QSettings (app/ui/settings.py), never a secret. The appearance is
previewed live; Cancel puts the previous one back. Forgetting the remembered key happens at once, since it only
removes a convenience (the passphrase is asked at the next start).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.store.vault import forget_keyring, key_from_keyring
from app.ui import autostart, settings
from app.ui.theme import APPEARANCES, Appearance, apply_appearance, current_appearance

APPEARANCE_LABELS: dict[Appearance, str] = {"system": "System", "light": "Light", "dark": "Dark"}


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class SettingsDialog(QDialog):
    """OK saves every value; the caller then applies them (``MainWindow.apply_settings``)."""

    def __init__(
        self,
        data_dir: Path,
        parent: QWidget | None = None,
        remembered_key: Callable[[Path], bytes | None] = key_from_keyring,
        forget_key: Callable[[Path], None] = forget_keyring,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.data_dir = data_dir
        self._forget_key = forget_key
        app = QApplication.instance()
        self._app = app if isinstance(app, QApplication) else None
        self._previous_appearance: Appearance = (
            current_appearance(self._app) if self._app is not None else settings.appearance()
        )

        self.autolock = QSpinBox()
        self.autolock.setRange(0, settings.MAX_AUTOLOCK_MINUTES)
        self.autolock.setSuffix(" min")
        self.autolock.setSpecialValueText("never")
        self.autolock.setValue(settings.autolock_minutes())
        self.autolock.setToolTip("Lock the window after this many minutes without input; 0: never.")
        self.screen_lock = QCheckBox("Lock Custos when the &screen locks")
        self.screen_lock.setChecked(settings.lock_on_screen_lock())
        self.clipboard = QSpinBox()
        self.clipboard.setRange(settings.MIN_CLIPBOARD_CLEAR_SECONDS, settings.MAX_CLIPBOARD_CLEAR_SECONDS)
        self.clipboard.setSuffix(" s")
        self.clipboard.setValue(settings.clipboard_clear_seconds())
        self.clipboard.setToolTip(
            "A URL, fingerprint or token copied from Custos is cleared after this delay, and on lock, "
            "if the clipboard still holds it."
        )
        self.appearance = QComboBox()
        for choice in APPEARANCES:
            self.appearance.addItem(APPEARANCE_LABELS[choice], choice)
        self.appearance.setCurrentIndex(APPEARANCES.index(settings.appearance()))
        self.appearance.currentIndexChanged.connect(self._preview_appearance)

        self.notifications = QCheckBox("Show &notifications for alerts and deadlines")
        self.notifications.setChecked(settings.notifications_enabled())
        self.notifications.setToolTip(
            "Operator and configuration alerts, a breach's 72-hour clock and a request's deadline, from the system "
            "tray: at most one of each kind every few minutes, never a name or an address."
        )

        self.start_at_login = QCheckBox("Start Custos at &login, in the system tray")
        self._started_at_login = autostart.is_enabled()  # the entry itself says, not a remembered flag
        self.start_at_login.setChecked(self._started_at_login)
        self.start_at_login.setToolTip(
            "Keeps the SCIM endpoint up after a restart. Without a key remembered in the keyring, the passphrase "
            "is asked at login."
        )
        self.start_note = _note()
        self.start_note.hide()

        self.forget_button = QPushButton("&Forget the remembered key")
        self.forget_button.setToolTip(
            "Removes the vault key from the system keyring; the passphrase is asked next time."
        )
        self.forget_button.clicked.connect(self.forget_remembered_key)
        self.keyring_note = _note()
        has_key = remembered_key(data_dir) is not None
        self.forget_button.setVisible(has_key)
        self.keyring_note.setText(
            "The vault key is remembered in the system keyring: Custos opens without the passphrase."
            if has_key
            else "No vault key is remembered in the system keyring."
        )

        security = QGroupBox("Locking")
        security_form = QFormLayout(security)
        self._add_row(security_form, "&Auto-lock after", self.autolock)
        security_form.addRow(self.screen_lock)
        self._add_row(security_form, "&Clear copied secrets after", self.clipboard)
        keyring_box = QGroupBox("Keyring")
        keyring_layout = QVBoxLayout(keyring_box)
        keyring_layout.addWidget(self.keyring_note)
        keyring_layout.addWidget(self.forget_button, 0, Qt.AlignmentFlag.AlignLeft)
        notices = QGroupBox("Background")
        notices_layout = QVBoxLayout(notices)
        notices_layout.addWidget(self.notifications)
        notices_layout.addWidget(self.start_at_login)
        notices_layout.addWidget(self.start_note)
        look = QGroupBox("Look")
        look_form = QFormLayout(look)
        self._add_row(look_form, "A&ppearance", self.appearance)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(security)
        layout.addWidget(keyring_box)
        layout.addWidget(notices)
        layout.addWidget(look)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.autolock.setFocus()

    @staticmethod
    def _add_row(form: QFormLayout, text: str, field: QWidget) -> None:
        label = QLabel(text)
        label.setBuddy(field)  # Alt+mnemonic moves the focus to the field
        form.addRow(label, field)

    def chosen_appearance(self) -> Appearance:
        return APPEARANCES[max(0, self.appearance.currentIndex())]

    def _preview_appearance(self, _index: int) -> None:
        if self._app is not None:
            apply_appearance(self._app, self.chosen_appearance())

    def forget_remembered_key(self) -> None:
        self._forget_key(self.data_dir)
        self.forget_button.hide()
        self.keyring_note.setText("The remembered key was removed: the passphrase will be asked at the next start.")

    def save(self) -> None:
        settings.set_autolock_minutes(self.autolock.value())
        settings.set_lock_on_screen_lock(self.screen_lock.isChecked())
        settings.set_clipboard_clear_seconds(self.clipboard.value())
        settings.set_appearance(self.chosen_appearance())
        settings.set_notifications_enabled(self.notifications.isChecked())

    def save_start_at_login(self) -> bool:
        """Write or remove the login entry when the box changed; False (and why, in the dialog) when it failed."""
        wanted = self.start_at_login.isChecked()
        if wanted == self._started_at_login:
            return True
        try:
            autostart.set_enabled(wanted, self.data_dir)
        except OSError as exc:
            self.start_note.setText(f"The login entry could not be {'written' if wanted else 'removed'}: "
                                    f"{exc.strerror or type(exc).__name__}.")  # fmt: skip
            self.start_note.show()
            return False
        self._started_at_login = wanted
        return True

    def accept(self) -> None:
        if not self.save_start_at_login():
            return  # the dialog stays, saying what failed
        self.save()
        self._preview_appearance(self.appearance.currentIndex())
        super().accept()

    def reject(self) -> None:
        if self._app is not None and current_appearance(self._app) != self._previous_appearance:
            apply_appearance(self._app, self._previous_appearance)
        super().reject()
