"""A modeless window that belongs to one page of the main window: hidden while another page is shown, back when
its page is. A QDialog parented to a page is still a top-level window of its own, so without this a report left
open on the Targets page floated over the Overview, the Incidents page and every other page the operator went to."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class PageBound(QObject):
    """Watches ``page`` for its own (non-spontaneous) hide and show: a tab switch, a lock, the window hidden to the
    tray. A minimised window is the window system's business (spontaneous events), left to it."""

    def __init__(self, window: QWidget, page: QWidget) -> None:
        super().__init__(window)
        self.window, self.page = window, page
        self.hidden_with_page = False
        page.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.page and not event.spontaneous():
            if event.type() == QEvent.Type.Hide and self.window.isVisible():
                self.hidden_with_page = True
                self.window.hide()
            elif event.type() == QEvent.Type.Show and self.hidden_with_page:
                self.hidden_with_page = False
                self.window.show()
        return False

    def release(self) -> None:
        """The window was closed by the operator: it never comes back with the page."""
        self.hidden_with_page = False
        self.page.removeEventFilter(self)


def bind_to_page(window: QWidget, page: QWidget) -> PageBound:
    """``window`` (a modeless dialog parented to ``page``) goes and comes back with ``page``."""
    return PageBound(window, page)
