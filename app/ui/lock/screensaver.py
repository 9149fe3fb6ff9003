"""Lock when the desktop's screen locks, where the platform tells (freedesktop/GNOME screensaver on D-Bus).

Best effort: on platforms or sessions without that signal, the idle auto-lock still applies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import SLOT, QObject, Slot

log = logging.getLogger(__name__)
_SERVICES = (
    ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
)


class ScreenLockListener(QObject):
    def __init__(self, on_lock: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_lock = on_lock
        self.connected = False
        self.enabled = True
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return
        # SLOT() marks the text as a slot (a leading "1"); without it Qt read "ctive_changed" and never connected.
        slot = SLOT("active_changed(bool)")
        for service, path, interface in _SERVICES:
            if bus.connect(service, path, interface, "ActiveChanged", self, slot):  # type: ignore[call-overload]  # PySide takes text; its stub says bytes
                self.connected = True
        log.debug("screen-lock signal %s", "connected" if self.connected else "not available")

    def set_enabled(self, enabled: bool) -> None:
        """Off: the screen locking no longer locks Custos (the user's setting); the signal stays connected."""
        self.enabled = enabled

    @Slot(bool)
    def active_changed(self, active: bool) -> None:
        if active and self.enabled:
            self._on_lock()
