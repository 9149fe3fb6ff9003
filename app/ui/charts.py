"""Stacked bar charts of time series (QtCharts is not part of PySide6-Essentials; a painter is all it takes).

Fed with ``app.audit.timeseries.TimeSeries`` (pandas computes them off the GUI thread): one bar per slot, the
series stacked in a colour-blind-safe palette (Okabe–Ito), a legend with each series' total, the busiest slot's
value as the scale, the first and last time under the bars, and a tooltip naming the slot under the mouse.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.audit.timeseries import TimeSeries
from app.ui.times import local_slot, utc_day

# Okabe & Ito (2008): told apart with every common colour-vision deficiency; grey for "other".
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442")
OTHER = "#999999"
FIXED = {"served": "#0072B2", "refused": "#D55E00", "requested": "#0072B2", "closed": "#009E73", "other": OTHER}


def colour_of(name: str, index: int) -> QColor:
    return QColor(FIXED.get(name, PALETTE[index % len(PALETTE)]))


def slot_text(moment: datetime, step: timedelta) -> str:
    """Where a slot starts, naming its zone: the times under the bars were bare local times beside captions and
    tables in UTC."""
    return utc_day(moment) if step >= timedelta(days=1) else local_slot(moment)


def per_slot(step: timedelta) -> str:
    if step == timedelta(hours=1):
        return " in an hour"
    if step == timedelta(days=1):
        return " in a day"
    return ""


class StackedBarChart(QWidget):
    """Bars per time slot, one colour per series. ``stacked``: the series are parts of one whole (served and
    refused requests) and stack; otherwise they are different things counted in the same slot (erasures requested
    and closed) and stand side by side, so no bar adds up what is not a sum."""

    def __init__(self, accessible_name: str, parent: QWidget | None = None, *, stacked: bool = True) -> None:
        super().__init__(parent)
        self.stacked = stacked
        self.data: TimeSeries | None = None
        self.caption = ""
        self.empty_text = "Nothing in this period."
        self.setAccessibleName(accessible_name)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(480, line * 4 + 60)

    def minimumSizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(160, line * 3 + 30)

    def set_series(self, data: TimeSeries | None, caption: str) -> None:
        self.data = data
        self.caption = caption
        totals = ", ".join(f"{name} {sum(values):,}" for name, values in (data.series.items() if data else ()))
        self.setAccessibleDescription(f"{caption}: {totals or 'nothing'}")
        self.setToolTip("")
        self.update()

    def clear(self) -> None:
        self.set_series(None, "")

    # -- geometry --------------------------------------------------------------------------------------
    def _plot(self) -> QRectF:
        line = self.fontMetrics().height()
        return QRectF(4, line * 2 + 6, max(1, self.width() - 8), max(1, self.height() - line * 3 - 10))

    def _stacks(self) -> list[int]:
        if self.data is None:
            return []
        return [sum(values[i] for values in self.data.series.values()) for i in range(self.data.slots)]

    def peak(self) -> int:
        """The tallest bar: a slot's stack, or the largest single count when the series stand side by side."""
        if self.data is None:
            return 0
        if self.stacked:
            return max(self._stacks(), default=0)
        return max((max(values, default=0) for values in self.data.series.values()), default=0)

    def scale_text(self) -> str:
        data = self.data
        return f"tallest bar: {self.peak():,}{per_slot(data.step)}" if data is not None else ""

    def slot_at(self, x: float) -> int | None:
        if self.data is None or not self.data.slots:
            return None
        plot = self._plot()
        index = int((x - plot.left()) / (plot.width() / self.data.slots))
        return index if 0 <= index < self.data.slots else None

    # -- painting --------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        metrics = self.fontMetrics()
        line = metrics.height()
        painter.setPen(text)
        caption_font = QFont(self.font())
        caption_font.setBold(True)
        painter.setFont(caption_font)
        painter.drawText(QRectF(4, 2, self.width() - 8, line), Qt.AlignmentFlag.AlignLeft, self.caption)
        painter.setFont(self.font())
        data, stacks = self.data, self._stacks()
        if data is None or not stacks or max(stacks) == 0:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self._plot(), Qt.AlignmentFlag.AlignCenter, self.empty_text if data else "")
            painter.end()
            return
        self._legend(painter, data, line + 4)
        plot = self._plot()
        self._bars(painter, data, plot)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.setPen(text)
        under = QRectF(plot.left(), plot.bottom() + 2, plot.width(), line)
        first, last = slot_text(data.start, data.step), slot_text(data.end - data.step, data.step)
        painter.drawText(under, Qt.AlignmentFlag.AlignLeft, first)
        painter.drawText(under, Qt.AlignmentFlag.AlignRight, last)
        scale = self.scale_text()  # under the bars, never over them
        room = under.width() - metrics.horizontalAdvance(first) - metrics.horizontalAdvance(last) - 24
        if metrics.horizontalAdvance(scale) <= room:
            painter.drawText(under, Qt.AlignmentFlag.AlignHCenter, scale)
        painter.end()

    def _bars(self, painter: QPainter, data: TimeSeries, plot: QRectF) -> None:
        peak, count = self.peak(), len(data.series)
        width = plot.width() / data.slots
        gap = 1 if width > 3 else 0
        painter.setPen(Qt.PenStyle.NoPen)
        for index in range(data.slots):
            left, bottom = plot.left() + index * width + gap, plot.bottom()
            for order, (name, values) in enumerate(data.series.items()):
                if not values[index]:
                    continue
                height = plot.height() * values[index] / peak
                painter.setBrush(colour_of(name, order))
                if self.stacked:
                    painter.drawRect(QRectF(left, bottom - height, max(1.0, width - 2 * gap), height))
                    bottom -= height
                else:
                    each = max(1.0, (width - 2 * gap) / count)
                    painter.drawRect(QRectF(left + order * each, bottom - height, each, height))

    def _legend(self, painter: QPainter, data: TimeSeries, top: float) -> None:
        metrics = self.fontMetrics()
        box = metrics.height() * 0.7
        x = 4.0
        for order, (name, values) in enumerate(data.series.items()):
            label = f"{name} {sum(values):,}"
            painter.fillRect(QRectF(x, top + (metrics.height() - box) / 2, box, box), colour_of(name, order))
            x += box + 4
            painter.drawText(QRectF(x, top, metrics.horizontalAdvance(label) + 2, metrics.height()),
                             Qt.AlignmentFlag.AlignLeft, label)  # fmt: skip
            x += metrics.horizontalAdvance(label) + 12

    # -- the slot under the mouse ------------------------------------------------------------------------
    def describe_slot(self, index: int) -> str:
        assert self.data is not None
        moment = self.data.start + self.data.step * index
        counts = ", ".join(f"{name} {values[index]:,}" for name, values in self.data.series.items())
        return f"{slot_text(moment, self.data.step)}: {counts}"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.slot_at(event.position().x())
        if index is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe_slot(index), self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    def tooltip_point(self, index: int) -> QPoint:
        """Where slot ``index`` is drawn (tests move the mouse there)."""
        plot = self._plot()
        assert self.data is not None
        return QPoint(int(plot.left() + (index + 0.5) * plot.width() / self.data.slots), int(plot.center().y()))
