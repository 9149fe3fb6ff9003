"""The main window: SCIM endpoint status on top, Identities, Policy and Tokens pages below."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import CustosError
from app.core.events import EventBus
from app.core.log_buffer import install_log_capture, installed_log_capture
from app.scim.server import ScimServer
from app.services.tokens import TokenStore
from app.store.vault import Vault
from app.ui.audit.bundle_window import choose_and_open_bundle
from app.ui.audit.view import AuditPage, trail_verdict
from app.ui.backup import BackupAction
from app.ui.backup_keys import open_backup_keys
from app.ui.bridge import EventBridge
from app.ui.endpoint_dialog import EndpointDialog
from app.ui.erasure.history import open_history
from app.ui.exports.ropa_dialog import RopaExportDialog
from app.ui.help import build_help_menu
from app.ui.identities.view import IdentitiesView
from app.ui.incidents.view import IncidentsPage
from app.ui.lock.clipboard import secret_clipboard
from app.ui.lock.idle import IdleWatcher
from app.ui.lock.passphrase import ChangePassphraseDialog
from app.ui.lock.reauth import reauthenticate_with
from app.ui.lock.screen import LockScreen
from app.ui.lock.screensaver import ScreenLockListener
from app.ui.log_view import open_log_view
from app.ui.notices import TrayNotifier
from app.ui.outside_policy.view import OutsidePolicyPage
from app.ui.overview import OverviewPage
from app.ui.policy.view import PolicyPage
from app.ui.requests.view import RequestsPage
from app.ui.settings import (
    appearance,
    autolock_minutes,
    clipboard_clear_seconds,
    endpoint_panel_collapsed,
    lock_on_screen_lock,
    notifications_enabled,
    set_endpoint_panel_collapsed,
)
from app.ui.settings_dialog import SettingsDialog
from app.ui.status_line import StatusLine
from app.ui.targets.view import TargetsPage
from app.ui.theme import apply_appearance
from app.ui.tokens import TokensPage
from app.ui.tray import Tray
from app.ui.widgets import clipboard_button, selectable_label
from app.ui.workers import submit

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 1000
MINIMUM_SIZE = QSize(640, 480)  # below this the tables show no row; at 640×480 every page stays usable
OPENING_SIZE = QSize(1100, 750)


def opening_size(available: QSize) -> QSize:
    """The first size, within the screen: on a 640×480 screen the window opened 1100×750, its right and lower
    parts (tabs, status bar) off-screen."""
    return OPENING_SIZE.boundedTo(available).expandedTo(MINIMUM_SIZE)


def scrolled(widget: QWidget) -> QScrollArea:
    """The window's content in a scroll area that shows bars only below its minimum size. MINIMUM_SIZE is set by
    hand, so it overrode the layout's larger minimum (695×514 with the endpoint panel open) and at 640×480 the
    pages squeezed their tables to no row and cut their buttons; now they keep their room and the window scrolls."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a Tab stop: the first field keeps the focus, Tab scrolls
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(_MinimumHost(widget))
    return area


class _MinimumHost(QWidget):
    """Holds the content for the scroll area without its height-for-width: through a layout, a page's
    height-for-width (wrapping text) made the area size the content to its preferred height, so the window
    scrolled at every size. The content fills the viewport and scrolls only below its minimum size."""

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        self.child = child
        child.setParent(self)

    def minimumSizeHint(self) -> QSize:
        return self.child.minimumSizeHint().expandedTo(self.child.minimumSize())

    def sizeHint(self) -> QSize:
        return self.child.sizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.child.setGeometry(self.rect())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the content's minimum changed (e.g. the panel folded)
            self.updateGeometry()
        return super().event(event)


Confirm = Callable[[QWidget, str, str], bool]


def ask(parent: QWidget, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question, defaultButton=QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _message(exc: Exception, fallback: str) -> str:
    if isinstance(exc, CustosError):
        return exc.user_message
    log.error("%s: %s", fallback, type(exc).__name__)
    return fallback


def _two_lines(fingerprint: str | None) -> str:
    """A SHA-256 fingerprint on two lines: 95 characters cannot wrap, and were cut at 640 px (Copy copies one)."""
    if not fingerprint:
        return ""
    parts = fingerprint.split(":")
    middle = (len(parts) + 1) // 2
    return ":".join(parts[:middle]) + ":\n" + ":".join(parts[middle:])


class ServerPanel(QGroupBox):
    """Base URL, certificate fingerprint, running state and request rate of the embedded endpoint."""

    state_changed = Signal()  # started, stopped, or failed to
    collapsed_changed = Signal(bool)  # True: shown as one line

    def __init__(self, server: ScimServer, bridge: EventBridge, parent: QWidget | None = None) -> None:
        super().__init__("SCIM endpoint", parent)
        self.server = server
        self.bridge = bridge
        self._changing = False
        self.url = selectable_label()
        self.fingerprint = selectable_label()
        self.show_certificate()
        self.state = selectable_label()
        self.rate = selectable_label()
        self.error = selectable_label()
        self.error.setWordWrap(True)
        self.error.hide()  # shown with a message only: an empty row would cost height at 200 % scaling
        self.toggle = QPushButton()
        self.toggle.clicked.connect(self._toggle)

        url_row = QHBoxLayout()
        url_row.addWidget(self.url, 1)
        self.copy_url = clipboard_button(self.url.text)  # enabled while running: stopped, it copied the "—" shown
        url_row.addWidget(self.copy_url)
        fingerprint_row = QHBoxLayout()
        fingerprint_row.addWidget(self.fingerprint, 1)
        fingerprint_row.addWidget(clipboard_button(lambda: self.server.fingerprint or ""))  # as the IdP shows it
        state_row = QHBoxLayout()
        state_row.addWidget(self.state, 1)
        state_row.addWidget(self.toggle)
        self.details = QWidget()
        form = QFormLayout(self.details)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Base URL", url_row)
        form.addRow("TLS certificate SHA-256", fingerprint_row)
        form.addRow("Status", state_row)
        form.addRow("Requests", self.rate)
        form.addRow(self.error)
        # Collapsed, the panel is one line (state, address, rate) and the pages get its height: at 200 % the
        # details left the "Outside the policy" table one or two rows. The choice is remembered (QSettings).
        self.compact = selectable_label()
        self.compact.setAccessibleName("SCIM endpoint summary")
        self.collapsed = False
        self.collapse_button = QToolButton()
        self.collapse_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.collapse_button.setAutoRaise(True)
        self.collapse_button.clicked.connect(lambda: self.set_collapsed(not self.collapsed))
        self._state_row = state_row  # a row with room to spare: the button costs no height there
        self.compact_row = QWidget()
        compact_layout = self.compact_layout = QHBoxLayout(self.compact_row)
        compact_layout.setContentsMargins(0, 0, 0, 0)
        compact_layout.addWidget(self.compact, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.details)
        outer.addWidget(self.compact_row)
        self.collapsed = False
        self.set_collapsed(endpoint_panel_collapsed(), remember=False)

        self.timer = QTimer(self)
        self.timer.setInterval(STATUS_REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def set_collapsed(self, collapsed: bool, remember: bool = True) -> None:
        """Show the endpoint as one line (True) or with every detail; ``remember`` keeps the choice for next time."""
        self.collapsed = collapsed
        # The one button moves between the Status row and the one-line summary.
        (self.compact_layout if collapsed else self._state_row).addWidget(self.collapse_button)
        self.details.setVisible(not collapsed)
        self.compact_row.setVisible(collapsed)
        self.collapse_button.setArrowType(Qt.ArrowType.DownArrow if collapsed else Qt.ArrowType.UpArrow)
        self.collapse_button.setText("More" if collapsed else "Less")
        self.collapse_button.setToolTip(
            "Show the endpoint's address, certificate and controls (Ctrl+Shift+E)"
            if collapsed
            else "Show the endpoint as one line, to give the pages more room (Ctrl+Shift+E)"
        )
        if remember:
            set_endpoint_panel_collapsed(collapsed)
        self.collapsed_changed.emit(collapsed)

    def show_certificate(self) -> None:
        self.fingerprint.setText(_two_lines(self.server.fingerprint) or "none (plain HTTP on loopback)")

    def refresh(self) -> None:
        running = self.server.running
        self.url.setText(self.server.base_url if running else "—")
        self.copy_url.setEnabled(running)
        self.state.setText("starting…" if self._changing and not running else ("running" if running else "stopped"))
        self.toggle.setText("Stop" if running else "Start")
        self.toggle.setEnabled(not self._changing)
        self.rate.setText(f"{self.bridge.request_rate():.0f} per minute (last minute)")
        where = f" at {self.url.text()}" if running else ""
        self.compact.setText(f"{self.state.text().capitalize()}{where} · {self.rate.text()}")

    def start(self) -> None:
        if self._changing or self.server.running:
            return
        self._changing = True
        self.error.clear()
        self.error.hide()
        submit(self.server.start, self._done, self._failed)
        self.refresh()

    def stop(self) -> None:
        if self._changing or not self.server.running:
            return
        self._changing = True
        submit(self.server.stop, self._done, self._failed)  # joins uvicorn's thread: off the GUI thread
        self.refresh()

    def _toggle(self) -> None:
        (self.stop if self.server.running else self.start)()

    def _done(self, _result: object) -> None:
        self._changing = False
        self.refresh()
        self.state_changed.emit()

    def _failed(self, exc: Exception) -> None:
        self._changing = False
        self.error.setText(_message(exc, "The SCIM server could not be started or stopped."))
        self.error.show()
        self.refresh()
        self.state_changed.emit()


def preferences_shortcuts() -> list[QKeySequence]:
    """The platform's Preferences keys (Ctrl+, on macOS), else Ctrl+, where the platform defines none."""
    keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
    return keys or [QKeySequence("Ctrl+,")]


def describe_cipher(vault: Vault) -> str:
    """The encryption actually in force, in one line for the status bar."""
    c = vault.cipher_settings
    return (
        f"Vault: SQLCipher {c.cipher_version.split()[0]} · {c.kdf_algorithm.replace('_', '-')} "
        f"{c.kdf_iterations:,} iterations · page {c.hmac_algorithm.replace('_', '-')} · "
        f"secure_delete {'on' if c.secure_delete else 'OFF'} · journal {c.journal_mode}, sync {c.synchronous}"
    )


def cipher_brief(vault: Vault) -> str:
    """The status bar's vault line: the version, and a warning when secure_delete is off (the rest: its tooltip)."""
    c = vault.cipher_settings
    return f"Vault: SQLCipher {c.cipher_version.split()[0]}" + ("" if c.secure_delete else " · secure_delete OFF")


class MainWindow(QMainWindow):
    closed = Signal()  # the window really closed (quit), not hidden to the tray: the session ends

    def __init__(
        self, vault: Vault, server: ScimServer, bus: EventBus, tokens: TokenStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.vault = vault
        self.server = server
        self.setWindowTitle("Custos")
        self.bridge = EventBridge(bus, parent=self)
        self.server_panel = ServerPanel(server, self.bridge)
        self.identities = IdentitiesView(vault)
        self.reauthenticate = reauthenticate_with(vault)
        self.identities.users.reauthenticate = self.reauthenticate
        self.identities.users.subject_exporter.reauthenticate = self.reauthenticate
        self.identities.users.bus = bus
        for browser in (self.identities.users, self.identities.groups):  # says why a filter on an unheld attribute
            browser.held = lambda: server.policy.get().minimiser  # matches nothing
        self.tokens_page = TokensPage(tokens, reauthenticate=self.reauthenticate)
        self.policy_page = PolicyPage(vault, server.policy)  # applies go through the server's PolicyInForce
        self.policy_page.reauthenticate = reauthenticate_with(vault)
        self.pages = QTabWidget()
        self.overview_page = OverviewPage(vault, server)
        self.pages.addTab(self.overview_page, "Overview")
        self.pages.addTab(self.identities, "Identities")
        self.pages.addTab(self.policy_page, "Policy")
        self.outside_page = OutsidePolicyPage(vault, server.policy)  # what IdPs send that the policy refuses
        self.outside_page.reauthenticate = self.reauthenticate
        self.pages.addTab(self.outside_page, "Outside the policy")
        self.overview_page.review_outside.connect(lambda: self.pages.setCurrentWidget(self.outside_page))
        self.overview_page.open_page.connect(self.show_named_page)  # a dashboard tile: the page of its figure
        self.targets_page = TargetsPage(vault, server.policy)
        self.pages.addTab(self.targets_page, "Targets")
        self.audit_page = AuditPage(vault, verifier=trail_verdict)
        self.pages.addTab(self.audit_page, "Audit trail")
        self.incidents_page = IncidentsPage(vault, server.policy)
        self.pages.addTab(self.incidents_page, "Incidents")
        self.requests_page = RequestsPage(vault, self.reauthenticate)  # data subject requests (Art. 12–22)
        self.pages.addTab(self.requests_page, "Requests")
        self.pending_reference: tuple[str, str] | None = None  # a notice clicked while locked: selected on unlock
        self.status_line: StatusLine  # made with the status bar, below
        self.unseen_alerts = 0
        self.pages.addTab(self.tokens_page, "Tokens")
        self.pages.currentChanged.connect(self._page_changed)
        self.bridge.resources_changed.connect(self.identities.apply_changes)
        self.bridge.alert_raised.connect(self.show_alert)
        self.bridge.data_changed.connect(self._stored_values_changed)
        self.server_panel.state_changed.connect(self._server_state_changed)

        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.addWidget(self.server_panel)
        layout.addWidget(self.pages, 1)
        self.lock_screen = LockScreen(vault)
        self.lock_screen.unlocked.connect(self.unlock)
        self.lock_screen.close_requested.connect(self.close_vault)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.lock_screen)
        self.setCentralWidget(scrolled(self.stack))
        self.idle = IdleWatcher(autolock_minutes() * 60_000, self)
        self.idle.idle.connect(self.lock)
        self.screen_lock = ScreenLockListener(self.lock, self)
        self.settings_dialog: SettingsDialog | None = None
        self.apply_settings()
        self._build_menu()
        self.records_dialog: RopaExportDialog | None = None
        records = self.menuBar().addMenu("&Records")
        self.export_records_action = records.addAction("Export &Article 30 records…", self.export_records)
        # Read-only and vault-free: an incident responder's copy of the evidence, verified on the spot.
        self.open_bundle_action = records.addAction("Open an &evidence bundle…", self.open_bundle)
        # Every erasure request with its steps: retry, attest and receipts, as `erase status|retry|attest|receipt`.
        self.erasure_history_action = records.addAction("E&rasure history…", lambda: open_history(self.vault, self))
        self.help_actions = build_help_menu(self)
        # Locked, the window still offers what needs no vault: Help, Quit, and reading an evidence bundle.
        self.usable_when_locked = {self.quit_action, self.open_bundle_action, *self.help_actions}
        for page in (self.incidents_page, self.requests_page):  # an incident or request a notice named is gone
            page.status_message.connect(lambda text: self.status_line.say(text, 30_000))
        # The vault line in brief (the whole of it left a notice a third of the bar, cut mid-word); every setting
        # SQLCipher reports is its tooltip. Messages are elided to the room left, whole in Recent messages.
        self.vault_status = selectable_label()
        self.show_cipher()
        self.statusBar().addPermanentWidget(self.vault_status)
        self.status_line = StatusLine(self.statusBar(), [self.vault_status], self)
        self.confirm: Confirm = ask  # "Quit with the endpoint running?"; replaced in tests
        self._quitting = False
        self.tray = Tray(self)  # closing the window keeps the endpoint up, in the system tray
        # Alerts and deadlines as tray notifications (rate-limited, switchable in Settings); a click opens the page.
        self.notifier = TrayNotifier(self.tray.icon, vault, notifications_enabled, parent=self,
                                     certificate=lambda: server.tls.cert_path if server.tls else None)  # fmt: skip
        self.bridge.alert_raised.connect(self.notifier.alert)
        self.notifier.open_requested.connect(self.open_notice)
        self.notifier.shown.connect(self._notice_without_tray)
        self.notifier.start()
        self.setMinimumSize(MINIMUM_SIZE)
        self.resize(opening_size(self.screen().availableGeometry().size()))

    def show_alert(self, alert: object) -> None:
        """An anomaly alert: a badge on the Incidents tab and a message in the status bar (no personal data).
        A configuration alert (schema refusals) points at Outside the policy instead: it is no breach candidate."""
        if getattr(alert, "configuration", False):
            # Short: the permanent vault line shares the status bar (a longer text was cut off).
            self.status_line.say("Configuration: data outside the policy (see Outside the policy)", 30_000)
            return
        self.unseen_alerts += 1
        index = self.pages.indexOf(self.incidents_page)
        self.pages.setTabText(index, f"Incidents ({self.unseen_alerts} new)")
        self.status_line.say(f"Alert: {getattr(alert, 'summary', 'anomaly detected')}", 15_000)
        if self.pages.currentWidget() is self.incidents_page:
            self.incidents_page.refresh()

    def show_cipher(self) -> None:
        self.vault_status.setText(cipher_brief(self.vault))
        self.vault_status.setToolTip(f"{describe_cipher(self.vault)}\n(as reported by SQLCipher for the open vault)")

    def open_notice(self, notice: object) -> None:
        """A click on a tray notification: the window comes up on the page the notice is about, with the incident or
        request it names selected, in view and focused (behind the lock screen when locked: the passphrase is still
        needed to see it, and the selection is made on unlocking). A notice that folded several names none."""
        self.tray.show_window()
        page, reference = str(getattr(notice, "page", "")), str(getattr(notice, "reference", ""))
        self.show_named_page(page)
        if self.locked:
            self.pending_reference = (page, reference)
        else:
            self._select_reference(page, reference)

    def _select_reference(self, page: str, reference: str) -> None:
        if not reference:
            return
        if page == "incidents":
            self.incidents_page.show_incident(reference)
        elif page == "requests":
            self.requests_page.show_request(reference)
        elif page == "tokens":
            self.tokens_page.show_token(reference)

    def _notice_without_tray(self, notice: object) -> None:
        """No system tray to show it (some desktops, a bare X server): the status bar says it instead."""
        if not self.tray.available():  # without its "Click to …": there is nothing to click there
            text = str(getattr(notice, "text", "")).split(" Click ")[0]
            self.status_line.say(f"{getattr(notice, 'title', '')}: {text}", 60_000)

    def show_named_page(self, name: str) -> None:
        """The page a notice or a dashboard tile names (app.notices / app.dashboard use these names)."""
        pages: dict[str, QWidget] = {
            "identities": self.identities, "targets": self.targets_page, "requests": self.requests_page,
            "incidents": self.incidents_page, "outside_policy": self.outside_page, "audit": self.audit_page,
            "tokens": self.tokens_page, "overview": self.overview_page,
        }  # fmt: skip
        page = pages.get(name)
        if page is not None:
            self.pages.setCurrentWidget(page)

    def _page_changed(self, index: int) -> None:
        if self.pages.widget(index) is self.incidents_page and self.unseen_alerts:
            self.unseen_alerts = 0
            self.pages.setTabText(index, "Incidents")
        if self.pages.widget(index) is self.tokens_page:
            self.tokens_page.refresh()  # last-used times move while the server runs
        elif self.pages.widget(index) is self.audit_page:
            self.audit_page.refresh()
        elif self.pages.widget(index) is self.policy_page:
            self.policy_page.refresh()  # `custos policy apply` may have run meanwhile

    def _server_state_changed(self) -> None:
        if self.pages.currentWidget() is self.overview_page:
            self.overview_page.refresh()  # not "stopped" for three seconds after the endpoint came up

    def open_bundle(self) -> None:
        choose_and_open_bundle(self)

    def export_records(self) -> None:
        if self.records_dialog is not None:
            self.records_dialog.deleteLater()
        self.records_dialog = RopaExportDialog(self.vault, self.server, parent=self)
        self.records_dialog.open()

    # -- locking -----------------------------------------------------------------------------------------
    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcuts: QKeySequence | QKeySequence.StandardKey | str | list[QKeySequence] | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcuts, list):
            action.setShortcuts(shortcuts)
        elif shortcuts is not None:
            action.setShortcut(QKeySequence(shortcuts))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Vault")
        self.lock_action = self._action("&Lock", self.lock, "Ctrl+L")
        self.close_action = self._action("&Close the vault", self.close_vault, "Ctrl+Shift+L")
        self.passphrase_action = self._action(
            "Change &passphrase…", lambda: ChangePassphraseDialog(self.vault, self).open()
        )
        self.backup = BackupAction(self, self.vault, self.reauthenticate, on_written=self.overview_page.refresh)
        self.backup_action = self._action("&Back up the vault…", self.backup.run)
        self.backup_keys_action = self._action(
            "Backup &keys…", lambda: open_backup_keys(self.vault, self.reauthenticate, self, self.overview_page.refresh)
        )
        self.settings_action = self._action("&Settings…", self.open_settings, preferences_shortcuts())
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)  # macOS: in the application menu
        # Some platform themes (offscreen, bare X) define no Quit key: Ctrl+Q then, as everywhere else.
        quit_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")]
        self.quit_action = quit_action = self._action("&Quit", self.quit, quit_keys)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        for action in (self.lock_action, self.close_action, self.passphrase_action, self.backup_action,
                       self.backup_keys_action, self.settings_action):  # fmt: skip
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(quit_action)
        view = self.menuBar().addMenu("V&iew")
        for index in range(self.pages.count()):
            view.addAction(
                self._action(self.pages.tabText(index), partial(self.show_page, index), f"Ctrl+{index + 1}")
            )
        view.addSeparator()
        refresh = self._action(
            "&Refresh this page",
            lambda: self._page_changed(self.pages.currentIndex()),
            QKeySequence.StandardKey.Refresh,
        )
        view.addAction(refresh)
        view.addSeparator()
        self.log_action = self._action("&Log", self.open_log, "Ctrl+Shift+J")
        view.addAction(self.log_action)
        # The status bar's messages, whole: a narrow window elides them.
        self.messages_action = self._action("Recent &messages", lambda: self.status_line.open_recent(), "Ctrl+Shift+M")
        view.addAction(self.messages_action)
        self.endpoint_details_action = self._action(
            "SCIM endpoint &details",
            lambda: self.server_panel.set_collapsed(not self.server_panel.collapsed),
            "Ctrl+Shift+E",
        )
        self.endpoint_details_action.setCheckable(True)
        self.endpoint_details_action.setChecked(not self.server_panel.collapsed)
        self.server_panel.collapsed_changed.connect(lambda folded: self.endpoint_details_action.setChecked(not folded))
        view.addAction(self.endpoint_details_action)
        self.endpoint_action = self._action("SCIM &endpoint address and certificate…", self.change_endpoint)
        menu.insertAction(self.settings_action, self.endpoint_action)

    def open_log(self) -> None:
        """This session's log lines, redacted: what support needs, without personal data."""
        open_log_view(self, installed_log_capture() or install_log_capture())

    def change_endpoint(self) -> None:
        dialog = EndpointDialog(self.server, self.vault.path.parent, self.reauthenticate, self)
        dialog.moved.connect(self._endpoint_moved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _endpoint_moved(self, _moved: object) -> None:
        self.server_panel.show_certificate()
        self.server_panel.refresh()
        self.status_line.say("The endpoint moved: update the address in your identity provider.", 15_000)

    def show_page(self, index: int) -> None:
        """Keyboard navigation: Ctrl+1… opens a page and puts the focus in it."""
        self.pages.setCurrentIndex(index)
        page = self.pages.currentWidget()
        if page is not None:
            page.setFocus()
            page.focusNextChild()

    @property
    def locked(self) -> bool:
        return self.stack.currentWidget() is self.lock_screen

    def lock(self) -> None:
        """Hide every piece of personal data; the vault stays open and the server keeps running."""
        if self.locked:
            return
        self.identities.clear_for_lock()
        self.audit_page.clear_for_lock()
        self.outside_page.clear_for_lock()
        self.tokens_page.clear_for_lock()
        secret_clipboard().clear_if_ours()
        for dialog in self.findChildren(QDialog):
            dialog.reject()  # an open dialog may show personal data or hold a passphrase
        self.stack.setCurrentWidget(self.lock_screen)
        self.lock_screen.prepare()
        self._lock_menus(True)
        self.idle.stop_timer()
        self.setWindowTitle("Custos — locked")

    def _lock_menus(self, locked: bool) -> None:
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            for action in menu.actions() if isinstance(menu, QMenu) else ():
                if not action.isSeparator():
                    action.setEnabled(not locked or action in self.usable_when_locked)

    def close_vault(self) -> None:
        """Lock, then drop the key: the endpoint answers 503 and no job runs until the passphrase is given."""
        self.lock()
        if self.vault.is_open:
            self.vault.close()
        self.lock_screen.prepare()
        self.setWindowTitle("Custos — vault closed")

    def unlock(self) -> None:
        self.stack.setCurrentWidget(self.content)
        self._lock_menus(False)
        self.setWindowTitle("Custos")
        self.identities.reload()
        if self.pages.currentWidget() is self.audit_page:
            self.audit_page.refresh()
        self.show_cipher()
        self.idle.restart()
        if self.pending_reference is not None:
            page, reference = self.pending_reference
            self.pending_reference = None
            self._select_reference(page, reference)

    # -- settings ----------------------------------------------------------------------------------------
    def open_settings(self) -> None:
        """Non-modal (``open``), so tests drive it; OK saves, then the new values are applied here."""
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
        self.settings_dialog = SettingsDialog(self.vault.path.parent, parent=self)
        self.settings_dialog.accepted.connect(self.apply_settings)
        self.settings_dialog.open()

    def apply_settings(self) -> None:
        """Read the per-user settings and put them in force: at start-up and after the Settings dialog."""
        self.idle.set_timeout(autolock_minutes() * 60_000)
        if self.locked:
            self.idle.stop_timer()  # unlocking restarts it
        self.screen_lock.set_enabled(lock_on_screen_lock())
        secret_clipboard().set_clear_after_ms(clipboard_clear_seconds() * 1000)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_appearance(app, appearance())

    def _stored_values_changed(self, _event: object) -> None:
        """A policy apply or retention purged values without naming ids: read the mirror again (not while locked:
        the reload on unlock does that)."""
        if self.vault.is_open:
            self.identities.reload()

    def shutdown(self) -> None:
        """Stop timers and event delivery; the caller then stops the server and closes the vault."""
        self._quitting = True  # shut down by the caller: a close from now on is no question and no tray
        self.server_panel.timer.stop()
        self.notifier.stop()
        self.idle.stop()
        self.bridge.close()

    def quit(self) -> None:
        """Vault → Quit and the tray's Quit: stopping the endpoint is asked about, then the app ends."""
        if self.server.running and not self.confirm(self, "Quit Custos", self.tray.quit_question()):
            return
        self._quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._quitting:
            if self.tray.keep_running():  # the window's close button: to the tray, the endpoint stays up
                event.ignore()
                return
            if self.server.running and not self.confirm(self, "Quit Custos", self.tray.quit_question()):
                event.ignore()  # no tray to go to: asked like Quit
                return
        self.tray.close()
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()
