"""Change the endpoint's address or certificate after the first run (the endpoint restarts on the new one)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from app.core.errors import ConfigError, CustosError
from app.scim.server import ScimServer
from app.services.setup import Relocated, check_port_free, endpoint_address, move_server
from app.ui.endpoint_form import EndpointForm
from app.ui.lock.reauth import Reauthenticate
from app.ui.widgets import error_label, text_label
from app.ui.workers import submit


class EndpointDialog(QDialog):
    moved = Signal(object)  # Relocated

    def __init__(
        self, server: ScimServer, data_dir: Path, reauthenticate: Reauthenticate, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("SCIM endpoint address and certificate")
        self.server, self.data_dir, self.reauthenticate = server, data_dir, reauthenticate
        self.form = EndpointForm(offer_keep=True)
        with contextlib.suppress(ConfigError):  # a broken endpoint.toml: the defaults show, saving replaces it
            self.form.show_settings(endpoint_address(data_dir))
        self.error = error_label()
        self.status = text_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.busy = False
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(
            text_label(
                "Saving restarts the endpoint on the new address. Tell your identity provider (its tenant or base "
                "URL, and the certificate if it changed): until then its provisioning calls fail."
            )
        )
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def save(self) -> None:
        if self.busy:
            return
        try:
            self.form.check()
            chosen = self.form.settings()
            if not (self.server.running and chosen.port == self.server.port):  # its own port is not "taken"
                check_port_free(chosen.host, chosen.port)  # before the endpoint stops: a taken port never starts
        except CustosError as exc:
            self._show_error(exc.user_message)
            return
        if not self.reauthenticate(self, "change the SCIM endpoint"):
            return
        server, data_dir = self.server, self.data_dir
        settings, certificate = self.form.settings(), self.form.certificate()
        self.busy = True
        self.buttons.setEnabled(False)
        self.error.hide()
        self.status.setText("Restarting the endpoint…")
        submit(lambda: move_server(server, data_dir, settings, certificate), self._moved, self._failed)

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def _moved(self, moved: Relocated) -> None:
        self.busy = False
        self.buttons.setEnabled(True)
        self.moved.emit(moved)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self.buttons.setEnabled(True)
        self.status.clear()
        message = exc.user_message if isinstance(exc, CustosError) else "The endpoint could not be moved."
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
