"""A small bar chart of events over time (QtCharts is not part of PySide6-Essentials; this is all it needs)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget


class EventChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts: list[int] = []
        self.caption = ""
        self.setMinimumHeight(70)
        self.setAccessibleName("Events over time")

    def sizeHint(self) -> QSize:
        return QSize(600, 90)

    def set_counts(self, counts: list[int], caption: str) -> None:
        self.counts = counts
        self.caption = caption
        self.setToolTip(f"{caption}: {sum(counts):,} events; busiest slice {max(counts, default=0):,}")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text_height = self.fontMetrics().height()
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(4, text_height, self.caption)
        if not self.counts or max(self.counts) == 0:
            painter.end()
            return
        top = text_height + 4
        height = max(1, self.height() - top - 2)
        width = self.width() / len(self.counts)
        peak = max(self.counts)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        for index, value in enumerate(self.counts):
            bar = height * value / peak
            painter.drawRect(QRectF(index * width + 1, top + height - bar, max(1.0, width - 2), bar))
        painter.end()
