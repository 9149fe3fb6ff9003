"""What an export's dialog shows while it runs: the current step, and when Cancel has become too late."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton

from app.services.export import ExportControl


def show_export_step(control: ExportControl | None, status: QLabel, cancel: QPushButton, too_late: str) -> None:
    if control is None or control.cancel_requested:
        return  # "Cancelling…" stays until the worker has removed what it wrote
    if control.final:
        cancel.setEnabled(False)
        cancel.setToolTip(too_late)
        status.setText(f"{control.step} {too_late}")
    elif control.step:
        status.setText(control.step)
