"""Deadline settings from the Requests page: the controller's country, region and time zone, and how long a
closed request is kept, read and saved through the same service as ``custos dsr settings`` (a DPO without a
terminal could not make the Art. 12(3) deadlines count public holidays, nor set the register's retention, which
only ``--retention`` could). The dialog checks nothing itself: the service's message is shown as it is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from app.services.dsr import save_settings, settings_for
from app.store.vault import Vault
from app.ui.policy.common import plain_label, user_message

INTRO = ("Public holidays of this country (and region) move an Art. 12(3) deadline to the next working day; "
         "dates are counted in this time zone. Requests already recorded keep the deadline they were opened with; "
         "these settings count for the requests recorded from now on. A closed request is deleted from the "
         "register once it has been kept this long after closure.")  # fmt: skip


class DeadlineSettingsDialog(QDialog):
    """Shows the settings in force (saved or inferred from the policy) and saves what the operator changed."""

    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deadline settings")
        self.setMinimumWidth(440)  # the hints and the intro read on a few lines, not cut off in a narrow column
        self.vault = vault
        self.folder: Path = vault.path.parent  # the data folder, where the CLI writes requests.toml too
        self.country = self._field("ISO code, e.g. FR")
        self.subdivision = self._field("optional, e.g. BY in Germany")
        self.zone = self._field("IANA zone, e.g. Europe/Paris")
        self.retention = self._field("ISO 8601 period, e.g. P3Y (3 years) or P18M")
        self.error = plain_label(wrap=True)
        self.error.hide()
        self.shown = ("", "", "", "")
        try:
            current = settings_for(vault, self.folder)
            self.shown = (current.country, current.subdivision, current.zone, current.retention.iso())
        except Exception as exc:  # e.g. a requests.toml edited by hand into invalid TOML: the service says where
            self._show_error(user_message(exc, "The saved settings could not be read."))
        for field, value in zip(self._fields(), self.shown, strict=True):
            field.setText(value)
        form = QFormLayout()
        form.addRow("&Country", self.country)
        form.addRow("&Region", self.subdivision)
        form.addRow("&Time zone", self.zone)
        form.addRow("&Keep closed requests", self.retention)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(INTRO, wrap=True))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _fields(self) -> tuple[QLineEdit, QLineEdit, QLineEdit, QLineEdit]:
        return self.country, self.subdivision, self.zone, self.retention

    @staticmethod
    def _field(hint: str) -> QLineEdit:
        field = QLineEdit()
        field.setPlaceholderText(hint)
        return field

    def accept(self) -> None:
        """Save only what changed, as the CLI's flags do: an unchanged time zone stays inferred from the country
        (pinning the zone shown would keep UTC after a country is set), an unchanged retention from the policy.
        Country and region go together: the service checks the region against the country."""
        country, region, zone, retention = (f.text().strip() for f in self._fields())
        place_changed, zone_changed = (country, region) != self.shown[:2], zone != self.shown[2]
        retention_changed = retention != self.shown[3]
        if not (place_changed or zone_changed or retention_changed):
            super().accept()
            return
        try:
            save_settings(self.vault, self.folder, country if place_changed else None,
                          region if place_changed else None, zone if zone_changed else None,
                          retention if retention_changed else None)  # fmt: skip
        except Exception as exc:  # the service's CustosError says what to fix; anything else only a fallback
            self._show_error(user_message(exc, "The settings could not be saved."))
            return
        super().accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
