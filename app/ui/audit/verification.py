"""Running the audit trail's verification from a page: a progress bar, a status line, and a button that cancels.

The worker and the GUI share only a ``VerifyRun``, a plain Python object: the worker writes the latest
(entries checked, total) into it and reads its stop flag; a GUI timer reads it every 100 ms. No Qt object is
referenced from the worker's closure: a Qt wrapper released on a pool thread can crash PySide.

Verification only reads the vault, so a cancelled run leaves nothing to undo.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from app.audit.verify import VerificationCancelled
from app.store.vault import Vault
from app.ui.policy.common import user_message
from app.ui.workers import submit

# Called as verifier(conn), or verifier(conn, progress=..., cancelled=...) when it takes those keywords
# (app.ui.audit.view.trail_verdict does); returns the verdict (its line, then the range it covered).
Verifier = Callable[..., str]
POLL_MS = 100
CANCEL_TEXT = "&Cancel verification"
RUNNING_TEXT = "Verifying the trail…"
CANCELLING_TEXT = "Cancelling the verification…"
CANCELLED_TEXT = "Verification cancelled."


class VerifyRun:
    """One run's progress and stop request. Deliberately not a QObject (see the module's docstring)."""

    def __init__(self) -> None:
        self.latest: tuple[int, int] | None = None  # (entries checked, total); None until the first report
        self.stop = threading.Event()

    def report(self, done: int, total: int) -> None:
        self.latest = (done, total)  # one tuple assignment: atomic under the GIL

    def cancelled(self) -> bool:
        return self.stop.is_set()


def watches_progress(verifier: Verifier) -> bool:
    """Whether the verifier takes ``progress`` and ``cancelled`` (a stand-in taking only the connection does not)."""
    try:
        parameters = inspect.signature(verifier).parameters
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return True
    return {"progress", "cancelled"} <= parameters.keys()


def verification_job(vault: Vault, verifier: Verifier, run: VerifyRun) -> Callable[[], str]:
    """The worker's side, built here so that its closure holds only the vault, the verifier and the run."""
    watched = watches_progress(verifier)

    def job() -> str:
        if run.cancelled():  # cancelled while waiting for a free pool thread
            raise VerificationCancelled()
        with vault.read_connection() as conn:
            if watched:
                return verifier(conn, progress=run.report, cancelled=run.cancelled)
            return verifier(conn)

    return job


def progress_text(done: int, total: int) -> str:
    if total and done >= total:
        return "Verifying the trail… every entry checked; now the Merkle tree and the signed checkpoints."
    return f"Verifying the trail… {done:,} of {total:,} entries checked."


class VerificationControl(QObject):
    """Drives one page's button, progress bar and status label; one run at a time.

    While a run is going the button reads "Cancel verification"; pressing it asks the worker to stop, which it
    does within a few thousand entries, and then the page says "Verification cancelled." and the button is back.
    """

    verified = Signal()  # a run completed with a verdict (not cancelled, not failed)

    def __init__(
        self, vault: Vault, verifier: Verifier, button: QPushButton, bar: QProgressBar, status: QLabel, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.vault = vault
        self.verifier = verifier
        self.button = button
        self.bar = bar
        self.status = status
        self.idle_text = button.text()
        self.run: VerifyRun | None = None
        bar.setVisible(False)
        bar.setAccessibleName("Verification progress")
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._show_progress)
        button.clicked.connect(self.toggle)

    @property
    def running(self) -> bool:
        return self.run is not None

    def toggle(self) -> None:
        if self.run is None:
            self.start()
        else:
            self.cancel()

    def start(self) -> None:
        if self.run is not None:
            return
        self.run = run = VerifyRun()
        self.button.setText(CANCEL_TEXT)
        self.button.setEnabled(True)
        self.bar.setRange(0, 0)  # busy until the first report brings the total
        self.bar.setVisible(True)
        self.status.setText(RUNNING_TEXT)
        self.poll.start()
        submit(verification_job(self.vault, self.verifier, run), self._verified, self._failed)

    def cancel(self) -> None:
        run = self.run
        if run is None or run.stop.is_set():
            return
        run.stop.set()
        self.button.setEnabled(False)  # enabled again when the worker has stopped: a moment later
        self.status.setText(CANCELLING_TEXT)

    def _show_progress(self) -> None:
        run = self.run
        if run is None or run.stop.is_set() or run.latest is None:
            return
        done, total = run.latest
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        self.status.setText(progress_text(done, total))

    def _finish(self) -> None:
        self.run = None
        self.poll.stop()
        self.bar.setVisible(False)
        self.button.setText(self.idle_text)
        self.button.setEnabled(True)

    def _verified(self, verdict: str) -> None:
        self._finish()
        self.status.setText(verdict)  # even after a late cancel: a complete verdict is worth showing
        self.verified.emit()

    def _failed(self, exc: Exception) -> None:
        self._finish()
        if isinstance(exc, VerificationCancelled):
            self.status.setText(CANCELLED_TEXT)
        else:
            self.status.setText(user_message(exc, "Verification could not run."))
