"""Appearance: the Fusion style with an explicit light or dark palette, chosen by the user or following the system.

Colours that carry meaning (an error, a removed line) come from :func:`status_colour`, which picks a shade that
stays readable (WCAG contrast of at least 4.5:1) on the palette in force, instead of a fixed hex value.
"""

from __future__ import annotations

from typing import Literal, get_args

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

Appearance = Literal["system", "light", "dark"]
StatusKind = Literal["error", "added", "removed", "hunk", "ok", "warning"]
APPEARANCES: tuple[Appearance, ...] = get_args(Appearance)
STATUS_KINDS: tuple[StatusKind, ...] = get_args(StatusKind)
STYLE = "Fusion"

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

# Each palette: the roles every group shares, then what differs when a widget is disabled.
_LIGHT: dict[QPalette.ColorRole, str] = {
    _Role.Window: "#efefef",
    _Role.WindowText: "#1b1b1b",
    _Role.Base: "#ffffff",
    _Role.AlternateBase: "#f5f5f5",
    _Role.Text: "#1b1b1b",
    _Role.Button: "#efefef",
    _Role.ButtonText: "#1b1b1b",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#ffffff",
    _Role.Midlight: "#e3e3e3",
    _Role.Mid: "#b8b8b8",
    _Role.Dark: "#9f9f9f",
    _Role.Shadow: "#767676",
    _Role.Highlight: "#1f5fa8",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#0b57d0",
    _Role.LinkVisited: "#6b3fa0",
    _Role.ToolTipBase: "#ffffdc",
    _Role.ToolTipText: "#1b1b1b",
    _Role.PlaceholderText: "#6b6b6b",
}
_LIGHT_DISABLED: dict[QPalette.ColorRole, str] = {
    _Role.WindowText: "#8a8a8a",
    _Role.Text: "#8a8a8a",
    _Role.ButtonText: "#8a8a8a",
    _Role.Base: "#efefef",
    _Role.Highlight: "#919191",
}
_DARK: dict[QPalette.ColorRole, str] = {
    _Role.Window: "#2b2b2b",
    _Role.WindowText: "#e6e6e6",
    _Role.Base: "#1e1e1e",
    _Role.AlternateBase: "#262626",
    _Role.Text: "#e6e6e6",
    _Role.Button: "#353535",
    _Role.ButtonText: "#e6e6e6",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#4a4a4a",
    _Role.Midlight: "#3f3f3f",
    _Role.Mid: "#262626",
    _Role.Dark: "#1a1a1a",
    _Role.Shadow: "#0d0d0d",
    _Role.Highlight: "#2f65b0",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#8ab4f8",
    _Role.LinkVisited: "#c58af9",
    _Role.ToolTipBase: "#3a3a3a",
    _Role.ToolTipText: "#e6e6e6",
    _Role.PlaceholderText: "#a0a0a0",
}
_DARK_DISABLED: dict[QPalette.ColorRole, str] = {
    _Role.WindowText: "#7f7f7f",
    _Role.Text: "#7f7f7f",
    _Role.ButtonText: "#7f7f7f",
    _Role.Base: "#262626",
    _Role.Button: "#2f2f2f",
    _Role.Highlight: "#4a4a4a",
}

# Shades per kind: (on a light palette, on a dark palette). Each has a contrast of at least 4.5:1 against the
# Base, AlternateBase, Window and Button colours of the matching palette above (tests/ui/test_ui_theme.py).
_STATUS: dict[StatusKind, tuple[str, str]] = {
    "error": ("#b3261e", "#ff8a80"),
    "added": ("#116329", "#6bd48a"),
    "removed": ("#b3261e", "#ff8a80"),
    "hunk": ("#6639ba", "#d2a8ff"),
    "ok": ("#116329", "#6bd48a"),
    "warning": ("#7d4e00", "#f0c060"),
}
_FOLLOWER_NAME = "custos-appearance"


def _palette(colours: dict[QPalette.ColorRole, str], disabled: dict[QPalette.ColorRole, str]) -> QPalette:
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))  # all groups
    accent = getattr(_Role, "Accent", None)  # Qt 6.6+
    if accent is not None:
        palette.setColor(accent, QColor(colours[_Role.Highlight]))
    for role, colour in disabled.items():
        palette.setColor(_Group.Disabled, role, QColor(colour))
    return palette


def light_palette() -> QPalette:
    return _palette(_LIGHT, _LIGHT_DISABLED)


def dark_palette() -> QPalette:
    return _palette(_DARK, _DARK_DISABLED)


def is_dark(palette: QPalette) -> bool:
    """Dark when the window background is; works for any palette, ours or the platform's."""
    return palette.color(_Role.Window).lightnessF() < 0.5


def status_colour(kind: StatusKind, palette: QPalette | None = None) -> QColor:
    """The colour of ``kind`` readable on ``palette`` (the application palette by default)."""
    light, dark = _STATUS[kind]
    return QColor(dark if is_dark(palette if palette is not None else QGuiApplication.palette()) else light)


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG 2 contrast ratio between two colours, from 1 to 21."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def normalise(choice: str) -> Appearance:
    """A stored or typed choice as one of APPEARANCES; anything unknown follows the system."""
    for appearance in APPEARANCES:
        if choice == appearance:
            return appearance
    return "system"


def scheme_is_dark(scheme: Qt.ColorScheme) -> bool:
    """Unknown (no desktop preference reported, e.g. offscreen) counts as light."""
    return scheme == Qt.ColorScheme.Dark


def system_scheme() -> Qt.ColorScheme:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown


def palette_for(choice: str, scheme: Qt.ColorScheme | None = None) -> QPalette:
    """The palette ``choice`` stands for; "system" reads ``scheme`` (the desktop's current one by default)."""
    appearance = normalise(choice)
    if appearance == "system":
        dark = scheme_is_dark(system_scheme() if scheme is None else scheme)
    else:
        dark = appearance == "dark"
    return dark_palette() if dark else light_palette()


class _SystemFollower(QObject):
    """Lives on the application; re-applies the palette when the desktop switches scheme and the choice is system."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName(_FOLLOWER_NAME)
        self.app = app
        self.choice: Appearance = "system"
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt 6.5+
            hints.colorSchemeChanged.connect(self.scheme_changed)

    @Slot(Qt.ColorScheme)
    def scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        follow_system_scheme(self.app, self.choice, scheme)


def follow_system_scheme(app: QApplication, choice: str, scheme: Qt.ColorScheme) -> bool:
    """The colorSchemeChanged handler: with "system" chosen, apply the palette for ``scheme``; True if it did."""
    if normalise(choice) != "system":
        return False
    app.setPalette(palette_for("system", scheme))
    return True


def _follower(app: QApplication) -> _SystemFollower:
    existing = app.findChild(_SystemFollower, _FOLLOWER_NAME)
    return existing if existing is not None else _SystemFollower(app)


def current_appearance(app: QApplication) -> Appearance:
    """The choice last applied to ``app`` ("system" before any)."""
    existing = app.findChild(_SystemFollower, _FOLLOWER_NAME)
    return existing.choice if existing is not None else "system"


def apply_appearance(app: QApplication, choice: str) -> None:
    """Fusion with the light or dark palette; "system" also follows later changes of the desktop's scheme."""
    if app.style().name().lower() != STYLE.lower():
        app.setStyle(STYLE)
    _follower(app).choice = normalise(choice)
    app.setPalette(palette_for(choice))


class _StatusTint(QObject):
    """Keeps a widget's text in a status colour when the application palette changes."""

    def __init__(self, widget: QWidget, kind: StatusKind) -> None:
        super().__init__(widget)
        self.kind = kind
        self.apply(widget)
        widget.installEventFilter(self)

    def apply(self, widget: QWidget) -> None:
        colour = status_colour(self.kind, QGuiApplication.palette())
        own = widget.testAttribute(Qt.WidgetAttribute.WA_SetPalette)
        if own and widget.palette().color(_Role.WindowText) == colour:
            return  # also ends the PaletteChange that setPalette below sends
        palette = QPalette()  # only these roles are set: every other one follows the application palette
        for role in (_Role.WindowText, _Role.Text):
            palette.setColor(role, colour)
        widget.setPalette(palette)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A widget with its own palette gets PaletteChange (not ApplicationPaletteChange) when the application's
        # palette changes.
        if event.type() == QEvent.Type.PaletteChange and isinstance(watched, QWidget):
            self.apply(watched)
        return False


def tint(widget: QWidget, kind: StatusKind) -> None:
    """Show ``widget``'s text in the colour of ``kind``, now and after any change of appearance."""
    _StatusTint(widget, kind)
