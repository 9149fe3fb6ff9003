"""Appearance: Fusion with an explicit light or dark palette, following the desktop's scheme when asked; the
semantic colours stay readable (WCAG 4.5:1) on both palettes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.ui.theme import (
    STATUS_KINDS,
    apply_appearance,
    contrast_ratio,
    current_appearance,
    dark_palette,
    follow_system_scheme,
    is_dark,
    light_palette,
    normalise,
    palette_for,
    status_colour,
    tint,
)

Role = QPalette.ColorRole
BACKGROUNDS = (Role.Base, Role.AlternateBase, Role.Window, Role.Button)
TEXT_PAIRS = (
    (Role.WindowText, Role.Window),
    (Role.Text, Role.Base),
    (Role.Text, Role.AlternateBase),
    (Role.ButtonText, Role.Button),
    (Role.HighlightedText, Role.Highlight),
    (Role.PlaceholderText, Role.Base),
    (Role.Link, Role.Base),
    (Role.LinkVisited, Role.Base),
    (Role.ToolTipText, Role.ToolTipBase),
)


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The test's changes of appearance are undone: later tests see the palette they would have seen."""
    palette, choice = QApplication.palette(), current_appearance(qapp)
    yield qapp
    apply_appearance(qapp, choice)
    qapp.setPalette(palette)


def window_colour(widget: QWidget) -> QColor:
    return widget.palette().color(Role.Window)


def test_dark_and_light_are_applied_with_fusion(app: QApplication, qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    apply_appearance(app, "dark")
    assert app.style().name().lower() == "fusion"
    assert current_appearance(app) == "dark"
    assert QGuiApplication.palette().color(Role.Window).lightnessF() < 0.3
    qtbot.waitUntil(lambda: window_colour(widget).lightnessF() < 0.3)  # widgets get the palette through events
    apply_appearance(app, "light")
    assert QGuiApplication.palette().color(Role.Window).lightnessF() > 0.7
    qtbot.waitUntil(lambda: window_colour(widget).lightnessF() > 0.7)


@pytest.mark.parametrize("palette", [light_palette(), dark_palette()], ids=["light", "dark"])
def test_semantic_colours_are_readable_on_both_palettes(palette: QPalette) -> None:
    for kind in STATUS_KINDS:
        colour = status_colour(kind, palette)
        for background in BACKGROUNDS:
            ratio = contrast_ratio(colour, palette.color(background))
            assert ratio >= 4.5, f"{kind} on {background.name}: {ratio:.2f}"
    for text, background in TEXT_PAIRS:
        ratio = contrast_ratio(palette.color(text), palette.color(background))
        assert ratio >= 4.5, f"{text.name} on {background.name}: {ratio:.2f}"


def test_semantic_colour_follows_the_palette_in_force(app: QApplication) -> None:
    assert status_colour("error", light_palette()) != status_colour("error", dark_palette())
    apply_appearance(app, "dark")
    assert status_colour("removed") == status_colour("removed", dark_palette())
    apply_appearance(app, "light")
    assert status_colour("removed") == status_colour("removed", light_palette())


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#777777"), QColor("#777777")) == pytest.approx(1.0)
    assert contrast_ratio(QColor("#767676"), QColor("#ffffff")) == pytest.approx(4.54, abs=0.01)


def test_system_follows_the_desktop_scheme_when_chosen(app: QApplication, qtbot: QtBot) -> None:
    hints = QGuiApplication.styleHints()
    if not hasattr(hints, "colorSchemeChanged"):
        pytest.skip("Qt older than 6.5 reports no colour scheme")
    apply_appearance(app, "system")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # what the platform sends when the desktop switches
    assert is_dark(QGuiApplication.palette())
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not is_dark(QGuiApplication.palette())

    apply_appearance(app, "light")  # an explicit choice is kept whatever the desktop does
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert not is_dark(QGuiApplication.palette())


def test_scheme_handler_and_choices(app: QApplication) -> None:
    assert not follow_system_scheme(app, "dark", Qt.ColorScheme.Light)  # not following: nothing applied
    assert follow_system_scheme(app, "system", Qt.ColorScheme.Dark)
    assert is_dark(QGuiApplication.palette())
    assert follow_system_scheme(app, "system", Qt.ColorScheme.Unknown)  # no preference reported: light
    assert not is_dark(QGuiApplication.palette())
    assert is_dark(palette_for("dark", Qt.ColorScheme.Light)) and not is_dark(palette_for("light", Qt.ColorScheme.Dark))
    assert normalise("DARK") == "system" and normalise("light") == "light"


def test_tinted_text_changes_shade_with_the_palette(app: QApplication, qtbot: QtBot) -> None:
    apply_appearance(app, "light")
    label = QLabel("The two passphrases differ.")
    qtbot.addWidget(label)
    tint(label, "error")
    assert label.palette().color(Role.WindowText) == status_colour("error", light_palette())
    apply_appearance(app, "dark")
    qtbot.waitUntil(lambda: label.palette().color(Role.WindowText) == status_colour("error", dark_palette()))
    assert label.palette().color(Role.Window) == dark_palette().color(Role.Window)  # only the text is set
