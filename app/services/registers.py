"""The breach register and the data-subject-request register as files (``custos breach export``, ``custos dsr
export`` and the Incidents and Requests pages' "Export register…"): CSV or XLSX, written whole or not at all and
recorded on the audit trail (``export.breach_register`` / ``export.dsr_register``: format, rows, SHA-256)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.exports.breach_register import export_breach_register
from app.exports.dsr_register import export_dsr_register
from app.exports.register_files import FORMATS, RegisterWritten
from app.services.incidents import controller_zone
from app.store.vault import Vault

__all__ = ["FORMATS", "RegisterWritten", "export_breaches", "export_requests"]


def export_breaches(vault: Vault, fmt: str, out: Path, operator: str, now: datetime | None = None) -> RegisterWritten:
    """Every incident, one row each, with the deadline also in the controller's zone where it is known."""
    return export_breach_register(vault, fmt, out, operator, controller_zone(vault), now)


def export_requests(vault: Vault, fmt: str, out: Path, operator: str, now: datetime | None = None) -> RegisterWritten:
    """Every request, one row each, its sealed requester details left out."""
    return export_dsr_register(vault, fmt, out, operator, now)
