"""Per-user settings of the desktop app (QSettings). Never a secret: those live in the vault or the keyring."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from app.ui.theme import Appearance, normalise

DEFAULT_AUTOLOCK_MINUTES = 5
MAX_AUTOLOCK_MINUTES = 480
DEFAULT_APPEARANCE: Appearance = "system"
DEFAULT_LOCK_ON_SCREEN_LOCK = True
DEFAULT_CLIPBOARD_CLEAR_SECONDS = 30
MIN_CLIPBOARD_CLEAR_SECONDS = 5
MAX_CLIPBOARD_CLEAR_SECONDS = 600

_AUTOLOCK = "security/autolock_minutes"
_SCREEN_LOCK = "security/lock_on_screen_lock"
_CLIPBOARD = "security/clipboard_clear_seconds"
_APPEARANCE = "appearance/theme"
_ENDPOINT_COLLAPSED = "layout/endpoint_panel_collapsed"
_NOTICES = "notifications/enabled"
DEFAULT_NOTIFICATIONS = True


def _settings() -> QSettings:
    return QSettings("Custos", "Custos")


def _int(key: str, default: int, low: int, high: int) -> int:
    value = _settings().value(key, default)
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
    return min(high, max(low, number))


def autolock_minutes() -> int:
    return _int(_AUTOLOCK, DEFAULT_AUTOLOCK_MINUTES, 0, MAX_AUTOLOCK_MINUTES)


def set_autolock_minutes(minutes: int) -> None:
    _settings().setValue(_AUTOLOCK, min(MAX_AUTOLOCK_MINUTES, max(0, minutes)))


def appearance() -> Appearance:
    return normalise(str(_settings().value(_APPEARANCE, DEFAULT_APPEARANCE)))


def set_appearance(choice: str) -> None:
    _settings().setValue(_APPEARANCE, normalise(choice))


def _bool(key: str, default: bool) -> bool:
    value = _settings().value(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):  # INI files hold "true"/"false"
        return value.strip().lower() not in {"false", "0", "no", "off"}
    return default


def lock_on_screen_lock() -> bool:
    return _bool(_SCREEN_LOCK, DEFAULT_LOCK_ON_SCREEN_LOCK)


def set_lock_on_screen_lock(enabled: bool) -> None:
    _settings().setValue(_SCREEN_LOCK, bool(enabled))


def clipboard_clear_seconds() -> int:
    return _int(_CLIPBOARD, DEFAULT_CLIPBOARD_CLEAR_SECONDS, MIN_CLIPBOARD_CLEAR_SECONDS, MAX_CLIPBOARD_CLEAR_SECONDS)


def set_clipboard_clear_seconds(seconds: int) -> None:
    _settings().setValue(_CLIPBOARD, min(MAX_CLIPBOARD_CLEAR_SECONDS, max(MIN_CLIPBOARD_CLEAR_SECONDS, seconds)))


def _flag(key: str, default: bool) -> bool:
    value = _settings().value(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):  # INI files hold "true"/"false"
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return default


def endpoint_panel_collapsed() -> bool:
    """Whether the main window shows the SCIM endpoint as one line (the pages get its height), as last left."""
    return _flag(_ENDPOINT_COLLAPSED, False)


def set_endpoint_panel_collapsed(collapsed: bool) -> None:
    _settings().setValue(_ENDPOINT_COLLAPSED, bool(collapsed))
def notifications_enabled() -> bool:
    """Tray notifications for alerts and deadlines (on unless switched off)."""
    return _bool(_NOTICES, DEFAULT_NOTIFICATIONS)


def set_notifications_enabled(enabled: bool) -> None:
    _settings().setValue(_NOTICES, bool(enabled))
