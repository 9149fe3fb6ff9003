"""The first-run assistant's endpoint page with a cloud IdP: the three ways it may reach Custos are shown whole,
and the one chosen is never left half below the page's edge (walked at 1280×800 in a real X window)."""

from __future__ import annotations

from pathlib import Path

from test_ui_small_screens import on_a_screen

# The endpoint page reached as an operator does (Next from the identity provider page, Entra ID by default); what
# the page's scroll area shows of the third route after it is clicked.
_ENDPOINT_PAGE = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea
from app.ui.first_run.wizard import FirstRunWizard

app = QApplication(sys.argv[:1])
wizard = FirstRunWizard(Path(sys.argv[1]), "dpo")
wizard.show()
wizard.activateWindow()
wizard.setStartId(wizard.pageIds()[wizard.pageIds().index(wizard.currentId()) + 2])
wizard.restart()
for _ in range(5):
    app.processEvents()
assert wizard.currentPage() is wizard.token_page, wizard.currentPage().title()
wizard.next()
for _ in range(5):
    app.processEvents()
page = wizard.endpoint_page
area = page.findChild(QScrollArea)
third = list(page.route_buttons.values())[2]
hidden_before = area.verticalScrollBar().maximum()
QTest.mouseClick(third, Qt.MouseButton.LeftButton)
for _ in range(5):
    app.processEvents()
viewport = area.viewport()
shown = QRect(third.mapTo(viewport, QPoint(0, 0)), third.size())
print(json.dumps({"checked": third.isChecked(), "hidden": hidden_before, "whole": viewport.rect().contains(shown),
                  "wizard": wizard.size().toTuple()}))
"""


def endpoint_page_on(tmp_path: Path, size: tuple[int, int]) -> dict[str, object]:
    folder = tmp_path / "empty"
    folder.mkdir(mode=0o700)
    return on_a_screen(_ENDPOINT_PAGE, tmp_path, size, str(folder))


def test_at_1280_by_800_the_endpoint_page_shows_every_route_without_scrolling(tmp_path: Path) -> None:
    """Before: the page's height was taken from its minimum size hint, which counts a wrapped label as one line;
    the assistant opened 505 px tall with the third route cut in half at the page's bottom edge, and choosing it
    left it there. Now the page is as tall as its text needs at its width, where the screen has the room."""
    seen = endpoint_page_on(tmp_path, (1280, 800))
    assert seen["checked"] is True
    assert seen["hidden"] == 0, seen
    assert seen["whole"] is True, seen


def test_at_640_by_480_the_route_chosen_is_scrolled_into_view(tmp_path: Path) -> None:
    """Where the page must scroll, the option just chosen (by mouse or by arrow keys) is brought whole into view."""
    seen = endpoint_page_on(tmp_path, (640, 480))
    assert seen["checked"] is True
    assert seen["whole"] is True, seen
    assert seen["wizard"][1] <= 440, seen  # type: ignore[index]
