"""The first-run assistant: questions, then one set-up run off the GUI thread, then the token shown once.

On acceptance ``result`` holds the open vault (the caller owns it from then on). The secret token lives only in
the last page's field and is cleared when the assistant closes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import cast

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFormLayout,
    QFrame,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core.errors import CustosError
from app.policy.model import NEEDS_HUMAN
from app.services.policy import default_policy_text, load_policy
from app.services.setup import (
    STEPS,
    FirstRunChoices,
    FirstRunResult,
    GeneratedCertificate,
    SetupCancelled,
    complete,
    lists_every_default,
    policy_to_install,
    refused_default_mappings,
)
from app.setup.idp_guides import guide
from app.ui.first_run.pages import ContactsPage, EndpointPage, PassphrasePage, PolicyPage, TokenPage, WelcomePage
from app.ui.widgets import CopyRow, ask_yes_no, error_label, text_label
from app.ui.workers import submit

QUIT_QUESTION = "Quit the set-up? Nothing has been written yet; Custos will close and ask again next time."


class _ProgressBox:
    """Progress written by the set-up thread and read by a GUI timer. Deliberately not a QObject: a Qt object
    referenced from a pool thread may have its wrapper released there, which PySide does not survive."""

    def __init__(self) -> None:
        self.latest: tuple[int, str] = (0, "")

    def report(self, index: int, text: str) -> None:
        self.latest = (index, text)  # one tuple assignment: atomic under the GIL


class SetupPage(QWizardPage):
    """Shows what will be done; Set up runs it with progress, and Cancel undoes it."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ready to set up")
        self.setSubTitle("Check the choices, then press Set up. Cancel undoes everything written so far.")
        self.plan = text_label(selectable=True)
        self.progress = QProgressBar()
        self.progress.setRange(0, len(STEPS))
        self.progress.setValue(0)
        self.status = text_label()
        self.error = error_label()
        self.box = _ProgressBox()
        self.poll = QTimer(self)
        self.poll.setInterval(100)
        self.poll.timeout.connect(self._show_progress)
        self.running = False
        self.result: FirstRunResult | None = None
        self.cancel_requested = threading.Event()
        layout = QVBoxLayout(self)
        layout.addWidget(self.plan)
        layout.addStretch(1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.error)

    def _owner(self) -> FirstRunWizard:
        # Asked of Qt each time rather than kept: a page holding its wizard would make a reference cycle, and
        # cycles of Qt wrappers collected on a worker thread crash PySide.
        return cast(FirstRunWizard, self.wizard())

    def initializePage(self) -> None:
        w = self._owner()
        settings = w.endpoint_page.form.settings()
        certificate = (
            f"your certificate ({w.endpoint_page.form.cert.path.text().strip()})"
            if w.endpoint_page.form.own.isChecked()
            else "a new self-signed certificate"
        )
        policy = "the default policy" if w.policy_page.text is None else w.policy_page.file.path.text().strip()
        skipped = w.contacts_page.skipped()
        token, idp = w.token_page.token_name(), w.token_page.idp.currentText()
        contacts = (
            "controller and DPO given"
            if not skipped
            else f"{' and '.join(r.replace('dpo', 'DPO') for r in skipped)} incomplete: Article 30 exports will say "
            f'"{NEEDS_HUMAN}"'
        )
        lines = [
            f"Vault: {w.data_dir}",
            f"Endpoint: {settings.base_url()}  (listening on {settings.host}:{settings.port})",
            f"TLS: {certificate}",
            f"Policy: {policy}; {contacts}",
            f"First token: {token}" + ("" if token == idp else f" for {idp}"),
        ]
        route = w.endpoint_page.route_text()
        if route:
            lines.append(f"{w.token_page.idp.currentText()} reaches Custos through: {route}")
        refused = w.refused_mappings()
        if refused:
            lines.append(f"\n{refused}")
        warning = w.endpoint_page.form.certificate_warning()
        if warning:
            lines.append(f"\nWarning: {warning}")
        self.plan.setText("\n".join(lines))
        self.progress.setValue(0)
        self.status.clear()
        self.error.hide()
        w.setButtonText(QWizard.WizardButton.NextButton, "&Set up")

    def cleanupPage(self) -> None:
        self._owner().setButtonText(QWizard.WizardButton.NextButton, self._owner().next_text)

    def validatePage(self) -> bool:
        if self.result is not None:
            return True
        if not self.running:
            self._start()
        return False  # the page moves on by itself when the set-up has finished

    def _start(self) -> None:
        choices = self._owner().choices()
        self.running = True
        self.cancel_requested.clear()
        self.error.hide()
        self._owner().set_busy(True)
        self.box = box = _ProgressBox()
        data_dir, operator, cancelled = self._owner().data_dir, self._owner().operator, self.cancel_requested.is_set
        self.poll.start()
        submit(
            lambda: complete(data_dir, choices, operator, progress=box.report, cancelled=cancelled),
            self._finished,
            self._failed,
        )

    def _show_progress(self) -> None:
        index, text = self.box.latest
        self.progress.setValue(index)
        if not self.cancel_requested.is_set():
            self.status.setText(text)

    def _finished(self, result: FirstRunResult) -> None:
        self.running = False
        self.poll.stop()
        self.result = result
        self.progress.setValue(len(STEPS))
        self.status.setText("Done.")
        self._owner().set_busy(False)
        self._owner().setButtonText(QWizard.WizardButton.NextButton, self._owner().next_text)
        self._owner().next()

    def _failed(self, exc: Exception) -> None:
        self.running = False
        self.poll.stop()
        self._owner().set_busy(False)
        self.progress.setValue(0)
        self.status.clear()
        if isinstance(exc, SetupCancelled):
            self._owner().cancelled_while_running()
            return
        message = exc.user_message if isinstance(exc, CustosError) else "The set-up failed unexpectedly."
        self.error.setText(f"{message} Nothing was kept; correct the choice and press Set up again.")
        self.error.show()


class DonePage(QWizardPage):
    """The token, once, with the address and fingerprint, and where each IdP wants them."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Connect your identity provider")
        self.setSubTitle("Copy the token now: Custos keeps only its hash and cannot show it again.")
        self.setFinalPage(True)
        self.base_url = CopyRow()
        self.token = CopyRow("Copy token")
        self.fingerprint = CopyRow()
        self.instructions = QPlainTextEdit()
        self.instructions.setReadOnly(True)
        self.instructions.setTabChangesFocus(True)
        self.stored = QCheckBox("I have &pasted or stored the token")
        self.stored.toggled.connect(self.completeChanged)
        self.token.copied.connect(self._token_copied)
        self.warning = error_label()
        form = QFormLayout()
        form.addRow("Base URL", self.base_url)
        form.addRow("Token", self.token)
        form.addRow("Certificate SHA-256", self.fingerprint)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.instructions, 1)
        layout.addWidget(self.stored)

    def _token_copied(self) -> None:
        self.stored.setText("I have &pasted or stored the token (copied)")

    def show_result(self, result: FirstRunResult, guide_key: str, warning: str, refused: str = "") -> None:
        self.base_url.set_text(result.base_url)
        self.token.set_text(result.token_secret)
        self.fingerprint.set_text(result.fingerprint)
        steps = guide(guide_key).render(result.base_url, result.fingerprint, result.self_signed)
        self.instructions.setPlainText(f"{refused}\n\n{steps}" if refused else steps)
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))

    def isComplete(self) -> bool:
        return self.stored.isChecked()

    def forget(self) -> None:
        self.token.set_text("")


PAGE_SHARE = 0.55  # of the screen's height for a page's questions: at 640×480 the assistant then fits whole


class _PageArea(QScrollArea):
    """As tall as the page needs where the screen has the room (the assistant grows to show it whole, as before),
    and no taller than PAGE_SHARE of the screen: the rest is the header, the buttons and the window's frame.

    The field or option that takes the focus (a click, Tab or an arrow key among options) is scrolled whole into
    view: a route chosen at the page's bottom edge stayed cut in half."""

    def __init__(self) -> None:
        super().__init__()
        self.grow = QTimer(self)  # once for the burst of layout requests a change of text makes
        self.grow.setSingleShot(True)
        self.grow.setInterval(0)
        self.grow.timeout.connect(self._grow_window)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)

    def minimumSizeHint(self) -> QSize:
        body = self.widget()
        if body is None:
            return super().minimumSizeHint()
        needed = body.minimumSizeHint()
        height = needed.height()
        if body.hasHeightForWidth():  # a wrapped label counts one line in a minimum size hint: ask at the width
            # it will have, a scroll bar's width taken off (asked without it, the bar appeared and took the width
            # that made the last lines wrap again: 14 px still hidden)
            width = self.width() - self.verticalScrollBar().sizeHint().width()
            height = max(height, body.heightForWidth(max(needed.width(), width)))
        room = int(self.screen().availableGeometry().height() * PAGE_SHARE)
        return QSize(needed.width(), min(height, room))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The page's text changes after it is laid out (the routes box appears for a cloud IdP): the page layout
        kept the height asked before unless told that this one changed."""
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
            self.grow.start()
        return super().eventFilter(watched, event)

    def _grow_window(self) -> None:
        """QWizard fixes its minimum size when a page is entered: grown here, as far as the screen has the room
        (minimumSizeHint), by what the page came to need since."""
        window = self.window()
        short = self.minimumSizeHint().height() - self.height()
        if short <= 0 or not window.isVisible():
            return
        window.setMinimumHeight(window.height() + short)
        window.resize(window.width(), window.height() + short)

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        body = self.widget()
        if new is not None and body is not None and body.isAncestorOf(new):
            self.ensureWidgetVisible(new, 0, 0)


def scroll_when_short(page: QWizardPage) -> None:
    """The page's content in a scroll area: the endpoint page needed 505 px, so on a 640×480 screen the assistant
    ran off its bottom edge with Back and Next. Qt moves the page's layout, children and all, onto the inner widget;
    Tab scrolls the field it reaches into view."""
    layout = page.layout()
    if layout is None:
        return
    body = QWidget()
    body.setLayout(layout)  # taken from the page (QWidget.setLayout takes a layout from its widget parent)
    area = _PageArea()
    area.setWidgetResizable(True)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a Tab stop: the first field keeps the focus, Tab scrolls
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(body)
    body.installEventFilter(area)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)


class FirstRunWizard(QWizard):
    def __init__(self, data_dir: Path, operator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir, self.operator = data_dir, operator
        self.setWindowTitle("Set up Custos")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)  # the same on every platform, readable when scaled
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.next_text = self.buttonText(QWizard.WizardButton.NextButton)
        self.welcome_page = WelcomePage(data_dir)
        self.passphrase_page = PassphrasePage()
        self.endpoint_page = EndpointPage()
        self.policy_page = PolicyPage()
        self.contacts_page = ContactsPage()
        self.token_page = TokenPage()
        self.setup_page = SetupPage()
        self.done_page = DonePage()
        # The IdP first: where the endpoint listens and which certificate it shows depend on who must reach it.
        for page in (
            self.welcome_page,
            self.passphrase_page,
            self.token_page,
            self.endpoint_page,
            self.policy_page,
            self.contacts_page,
            self.setup_page,
            self.done_page,
        ):
            self.addPage(page)
            scroll_when_short(page)
        self.currentIdChanged.connect(self._entered)
        self._closing_after_cancel = False
        self.confirm = ask_yes_no  # replaced in tests that do not drive the real question box
        self.setMinimumWidth(560)

    @property
    def result(self) -> FirstRunResult | None:  # type: ignore[override]  # shadows QDialog.result(), unused here
        return self.setup_page.result

    def choices(self) -> FirstRunChoices:
        return FirstRunChoices(
            passphrase=self.passphrase_page.passphrase.text(),
            confirmation=self.passphrase_page.confirmation.text(),
            endpoint=self.endpoint_page.form.settings(),
            certificate=self.endpoint_page.form.certificate() or GeneratedCertificate(),
            policy_text=self.policy_page.text,
            token_name=self.token_page.token_name(),
            token_expires_days=self.token_page.expires_days(),
            remember_key=self.passphrase_page.remember.isChecked(),
            contacts=self.contacts_page.contacts(),
        )

    def refused_mappings(self) -> str:
        """Which of the chosen IdP's default attribute mappings the chosen policy will refuse (or strip), said
        before the first push: "" when none, or when that IdP's defaults are not known here."""
        text = policy_to_install(self.choices())
        try:
            policy = load_policy(text if text is not None else default_policy_text())
        except CustosError:
            return ""
        refused = refused_default_mappings(self.token_page.guide_key, policy)
        if not refused:
            return ""
        verb = "strips" if policy.outside_schema == "strip" else "refuses"
        idp = self.token_page.idp.currentText()
        partial = (
            ""
            if lists_every_default(self.token_page.guide_key)
            else f" {idp}'s template may map more than its documentation lists: the Outside the policy page names "
            "whatever else it sends."
        )
        return (
            f"Of {idp}'s default attribute mappings, this policy {verb} "
            f"{len(refused)}: {', '.join(refused)}. Remove them from the IdP's attribute mappings before the first "
            f"push, or add what is needed to the policy later (Policy → Edit the policy).{partial}"
        )

    def _entered(self, _page_id: int) -> None:
        if self.currentPage() is self.contacts_page:
            self.contacts_page.prefill(self.policy_page.text)
        if self.currentPage() is self.done_page and self.result is not None:
            self.passphrase_page.clear()  # the vault is open: the passphrase is no longer needed anywhere
            self.done_page.show_result(
                self.result,
                self.token_page.guide_key,
                self.endpoint_page.form.certificate_warning(),
                self.refused_mappings(),
            )
            self.done_page.token.copy.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_busy(self, busy: bool) -> None:
        for button in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton):
            widget = self.button(button)
            if isinstance(widget, QPushButton):
                widget.setEnabled(not busy)

    # -- closing -------------------------------------------------------------------------------------------
    def reject(self) -> None:
        """Cancel: while the set-up runs, ask it to stop and undo, and close once it has."""
        if self.setup_page.running:
            self.setup_page.cancel_requested.set()
            self.setup_page.status.setText("Cancelling; undoing what was written…")
            self._closing_after_cancel = True
            return
        if self.result is not None:
            return  # the vault exists now: the only way on is Finish, after the token was taken
        # Escape reaches here from any page; one stray key must not throw the answers away and quit the app.
        if not self.confirm(self, "Quit the set-up?", QUIT_QUESTION):
            return
        self._forget()
        super().reject()

    def cancelled_while_running(self) -> None:
        if self._closing_after_cancel:
            self._forget()
            super().reject()

    def accept(self) -> None:
        self._forget()
        super().accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.result is not None and not self.done_page.isComplete():
            event.ignore()  # closing would lose the only view of the token
            return
        if self.setup_page.running:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)

    def _forget(self) -> None:
        self.passphrase_page.clear()
        self.done_page.forget()
