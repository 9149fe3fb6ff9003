"""Tray notifications: operator and configuration alerts, breach clocks, request deadlines, expiring credentials.

The decisions are Qt-free (app/notices): what a notice says, which deadlines are worth one, the rate limit. This
layer only feeds them and shows the result with ``QSystemTrayIcon.showMessage``: alerts as the bridge delivers
them, deadlines read in a worker every ``CHECK_MS``, held notices flushed every ``FLUSH_MS``. Clicking a notice
opens the page it is about. Notices can be switched off in Settings; nothing is shown while they are off, and
nothing held is said later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from app.core.events import AlertRaised
from app.notices.deadlines import DeadlineWatch, Reached, read_deadlines
from app.notices.notice import Notice, from_alert
from app.notices.throttle import NoticeThrottle
from app.store.vault import Vault
from app.ui.workers import submit

CHECK_MS = 60_000  # deadlines are days and hours: a minute late is nothing
FLUSH_MS = 10_000
SHOW_MS = 10_000


def now_utc() -> datetime:
    return datetime.now(UTC)


class TrayNotifier(QObject):
    shown = Signal(object)  # each Notice as it is handed to the tray (tests and the status bar listen)
    open_requested = Signal(object)  # the Notice that was clicked: the window opens its page

    def __init__(
        self,
        icon: QSystemTrayIcon,
        vault: Vault,
        enabled: Callable[[], bool],
        clock: Callable[[], datetime] = now_utc,
        throttle: NoticeThrottle | None = None,
        parent: QObject | None = None,
        certificate: Callable[[], Path | None] = lambda: None,
    ) -> None:
        """``certificate``: the TLS certificate the endpoint serves now, whose expiry is a deadline too."""
        super().__init__(parent)
        self.certificate = certificate
        self.icon = icon
        self.vault = vault
        self.enabled = enabled
        self.clock = clock
        self.throttle = throttle or NoticeThrottle()
        self.watch = DeadlineWatch()
        self.last: Notice | None = None  # what a click on the balloon is about
        self.icon.messageClicked.connect(self._clicked)
        self.check_timer = QTimer(self)
        self.check_timer.setInterval(CHECK_MS)
        self.check_timer.timeout.connect(self.check_deadlines)
        self.flush_timer = QTimer(self)
        self.flush_timer.setInterval(FLUSH_MS)
        self.flush_timer.timeout.connect(self.flush)

    def start(self) -> None:
        self.check_timer.start()
        self.flush_timer.start()
        QTimer.singleShot(0, self.check_deadlines)  # at start: what is already due is said once

    def stop(self) -> None:
        self.check_timer.stop()
        self.flush_timer.stop()

    # -- feeding ---------------------------------------------------------------------------------------
    def alert(self, alert: object) -> None:
        if isinstance(alert, AlertRaised):
            self.offer(from_alert(alert))

    def check_deadlines(self) -> None:
        if not self.vault.is_open or not self.enabled():
            return
        vault, moment, certificate = self.vault, self.clock(), self.certificate()
        submit(lambda: read_deadlines(vault, moment, certificate), self._deadlines_read, self._read_failed)

    def _deadlines_read(self, reached: list[Reached]) -> None:
        for notice in self.watch.news(reached):
            self.offer(notice)

    def _read_failed(self, _exc: Exception) -> None:
        """The vault closed or locked meanwhile: the next check tries again."""

    def offer(self, notice: Notice) -> None:
        if not self.enabled():
            self.throttle.clear()
            return
        ready = self.throttle.offer(notice, self.clock())
        if ready is not None:
            self._show(ready)

    def flush(self) -> None:
        if not self.enabled():
            self.throttle.clear()
            return
        for notice in self.throttle.flush(self.clock()):
            self._show(notice)

    # -- showing ---------------------------------------------------------------------------------------
    def _show(self, notice: Notice) -> None:
        self.last = notice
        kind = QSystemTrayIcon.MessageIcon.Warning if notice.urgent else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(notice.title, notice.text, kind, SHOW_MS)
        self.shown.emit(notice)

    def _clicked(self) -> None:
        if self.last is not None:
            self.open_requested.emit(self.last)
