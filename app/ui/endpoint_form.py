"""Where the endpoint listens and which certificate it shows: one form for the first run and for later changes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QButtonGroup, QComboBox, QFormLayout, QLabel, QRadioButton, QSpinBox, QWidget

from app.services.setup import (
    ALL_INTERFACES,
    DEFAULT_PORT,
    CertificateSummary,
    EndpointSettings,
    GeneratedCertificate,
    OperatorCertificate,
    check_operator_certificate,
    machine_name,
)
from app.ui.widgets import FileField


class EndpointForm(QWidget):
    """``offer_keep`` adds "keep the current certificate" (the default then), for changes after the first run."""

    def __init__(self, offer_keep: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.local_only = QRadioButton("Only this &computer (127.0.0.1): for testing, or behind a local proxy")
        self.network = QRadioButton("&Other machines: listen on every network interface")
        self.local_only.setChecked(True)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.public_host = QComboBox()
        self.public_host.setEditable(True)
        name = machine_name()  # never "localhost": other machines cannot reach it by that name
        if name:
            self.public_host.addItem(name)
        line = self.public_host.lineEdit()
        assert line is not None  # an editable combo box has one
        line.setPlaceholderText("this computer's DNS name, e.g. scim.example.org")
        self.public_host.setToolTip("The DNS name your identity provider will use to reach this computer.")
        self.keep = QRadioButton("&Keep the certificate in use")
        self.generate = QRadioButton("&Generate a self-signed certificate (for testing and on-premises agents)")
        self.own = QRadioButton("Use &my certificate and key (PEM; needed for cloud identity providers)")
        (self.keep if offer_keep else self.generate).setChecked(True)
        self.cert = FileField("Certificate (PEM)", "PEM files (*.pem *.crt *.cer);;All files (*)")
        self.key = FileField("Private key (PEM, unencrypted)", "PEM files (*.pem *.key);;All files (*)")
        self.summary: CertificateSummary | None = None
        for group in ((self.local_only, self.network), (self.keep, self.generate, self.own)):
            buttons = QButtonGroup(self)
            for button in group:
                buttons.addButton(button)
                button.toggled.connect(self._update)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.local_only)
        form.addRow(self.network)
        host_label = QLabel("IdPs reach it &as")
        host_label.setBuddy(self.public_host)
        form.addRow(host_label, self.public_host)
        port_label = QLabel("Po&rt")
        port_label.setBuddy(self.port)
        form.addRow(port_label, self.port)
        if offer_keep:
            form.addRow(self.keep)
        else:
            self.keep.hide()
        form.addRow(self.generate)
        form.addRow(self.own)
        form.addRow("Certificate", self.cert)
        form.addRow("Private key", self.key)
        self._update()

    def show_settings(self, settings: EndpointSettings) -> None:
        self.network.setChecked(settings.host in ALL_INTERFACES)
        self.local_only.setChecked(settings.host not in ALL_INTERFACES)
        if settings.public_host:
            self.public_host.setEditText(settings.public_host)
        if settings.port:
            self.port.setValue(settings.port)

    def _update(self) -> None:
        self.public_host.setEnabled(self.network.isChecked())
        for field in (self.cert, self.key):
            field.setEnabled(self.own.isChecked())

    def settings(self) -> EndpointSettings:
        if self.network.isChecked():
            return EndpointSettings("0.0.0.0", self.port.value(), self.public_host.currentText().strip() or None)
        return EndpointSettings("127.0.0.1", self.port.value())

    def certificate(self) -> GeneratedCertificate | OperatorCertificate | None:
        """The certificate to install; None keeps the one in use."""
        if self.own.isChecked():
            return OperatorCertificate(
                Path(self.cert.path.text().strip()).expanduser(), Path(self.key.path.text().strip()).expanduser()
            )
        if self.keep.isChecked():
            return None
        settings = self.settings()
        names = ("localhost", settings.public_host) if settings.public_host else ("localhost",)
        return GeneratedCertificate(tuple(dict.fromkeys(names)))

    def check(self) -> None:
        """Raise CustosError with a reason an operator can act on; remembers the operator certificate's names."""
        self.summary = None
        self.settings().reachable()
        chosen = self.certificate()
        if isinstance(chosen, OperatorCertificate):
            self.summary = check_operator_certificate(chosen.cert, chosen.key)

    def certificate_warning(self) -> str:
        """The names an IdP would check against, when the operator's certificate does not cover them."""
        host = self.settings().reachable_host
        if self.summary is not None and not self.summary.covers(host):
            return (
                f"The certificate names {', '.join(self.summary.names) or 'no host'}, not {host}: "
                "identity providers will refuse the connection."
            )
        return ""
