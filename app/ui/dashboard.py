"""The Overview's dashboard widgets: tiles (a figure, a line, a mark) and the two charts.

Only drawing: the figures come from app.dashboard.figures, read in a worker. A tile is a button for the keyboard
and the mouse alike: activating it opens the page its figure comes from. Its mark (a coloured edge) is named in
words as well, in the accessible description, since colour alone says nothing to a screen reader.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.dashboard.figures import BAD, WARN, Dashboard, Tile
from app.ui.charts import StackedBarChart
from app.ui.theme import status_colour
from app.ui.times import local_time

LEVEL_WORDS = {BAD: "needs action", WARN: "look soon", "": "nothing to do"}
COLUMNS = 3


class TileWidget(QFrame):
    activated = Signal(str)  # the page to open

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"tile_{key}")
        self.tile: Tile | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.title = QLabel("…")
        self.value = QLabel("…")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.value.setFont(font)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        for label in (self.title, self.value, self.detail):
            label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 6)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.detail, 1)

    def show_tile(self, tile: Tile) -> None:
        self.tile = tile
        self.title.setText(tile.title)
        self.value.setText(tile.value)
        self.detail.setText(tile.detail)
        self.setAccessibleName(f"{tile.title}: {tile.value}")
        self.setAccessibleDescription(f"{tile.detail} ({LEVEL_WORDS[tile.level]})")
        self.setToolTip(f"{tile.detail}\nOpen the page: Enter or click")
        palette = self.palette()
        edge = status_colour("error" if tile.level == BAD else "warning", palette).name() if tile.level else None
        frame = palette.color(palette.ColorRole.Mid).name()
        self.setStyleSheet(  # by object name: the labels inside keep the theme's look
            f"QFrame#{self.objectName()} {{ border: 1px solid {frame}; border-radius: 3px; "
            f"border-left: 6px solid {edge or frame}; background: {palette.color(palette.ColorRole.Base).name()}; }}"
        )

    def _activate(self) -> None:
        if self.tile is not None and self.tile.page:
            self.activated.emit(self.tile.page)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self._activate()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._activate()
            return
        super().keyPressEvent(event)


class DashboardView(QWidget):
    """Six tiles in a grid, then the requests chart and the erasures chart side by side."""

    open_page = Signal(str)
    KEYS = ("users", "groups", "targets", "requests", "incidents", "refusals")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles = {key: TileWidget(key) for key in self.KEYS}
        grid = QGridLayout()
        grid.setSpacing(8)
        for index, key in enumerate(self.KEYS):
            self.tiles[key].activated.connect(self.open_page)
            grid.addWidget(self.tiles[key], index // COLUMNS, index % COLUMNS)
        for column in range(COLUMNS):
            grid.setColumnStretch(column, 1)
        self.requests_chart = StackedBarChart("SCIM requests per hour, last 7 days")
        self.erasures_chart = StackedBarChart("Erasures per day, last 30 days", stacked=False)
        charts = QHBoxLayout()
        charts.addWidget(self.requests_chart, 3)
        charts.addWidget(self.erasures_chart, 2)
        # The tiles are re-read every few seconds only while the trail grows (the read scans a week of requests):
        # a count may lag the Identities page by that much, so the view says when its figures were read.
        self.as_of = QLabel("")
        self.as_of.setAccessibleName("When the figures were read")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.as_of)
        layout.addLayout(grid)
        layout.addLayout(charts)

    def show_dashboard(self, dashboard: Dashboard) -> None:
        for tile in dashboard.tiles:
            widget = self.tiles.get(tile.key)
            if widget is not None:
                widget.show_tile(tile)
        self.requests_chart.set_series(dashboard.requests, "SCIM requests per hour, last 7 days")
        self.erasures_chart.set_series(dashboard.erasures, "Erasures per day, last 30 days")
        self.as_of.setText(f"Figures as of {local_time(dashboard.read_at)}")

    def clear(self) -> None:
        for widget in self.tiles.values():
            widget.tile = None
            widget.value.setText("…")
            widget.detail.clear()
        self.as_of.clear()
        self.requests_chart.clear()
        self.erasures_chart.clear()
