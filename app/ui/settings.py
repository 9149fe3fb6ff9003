"""Per-user settings of the desktop app (QSettings). Never a secret: those live in the vault or the keyring."""

from __future__ import annotations

from PySide6.QtCore import QSettings

DEFAULT_AUTOLOCK_MINUTES = 5


def _settings() -> QSettings:
    return QSettings("Custos", "Custos")


def autolock_minutes() -> int:
    value = _settings().value("security/autolock_minutes", DEFAULT_AUTOLOCK_MINUTES)
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return DEFAULT_AUTOLOCK_MINUTES


def set_autolock_minutes(minutes: int) -> None:
    _settings().setValue("security/autolock_minutes", max(0, minutes))
