"""Writing an evidence bundle and putting it on the audit trail, for the command line and the app alike.

The bundle is written and its ``export.audit_bundle`` entry appended in one write transaction; if the entry cannot
be written the file is removed: an export that is not on the record does not exist.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.audit.bundle import BundleInfo, export_bundle
from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.store.vault import Vault

KIND = "export.audit_bundle"


def export_recorded_bundle(
    vault: Vault,
    out: Path,
    actor: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    seqs: tuple[int, int] | None = None,
) -> BundleInfo:
    """The bundle of the entries timed in [start, end), or of the entries ``seqs`` (first, last), recorded."""
    if start is not None and end is not None and start >= end:
        raise ConfigError("The start of the range must be earlier than its end.")
    out = Path(out)
    written = False
    try:
        with vault.write_transaction() as conn:
            info = export_bundle(conn, start, end, out, seqs=seqs)  # replaces ``out`` only once it is complete
            written = True
            details = {
                "file": out.name,
                "entries": info.entries,
                "first_seq": info.first_seq,
                "last_seq": info.last_seq,
                "sha256": info.sha256,
                "checkpoint": info.checkpoint.fingerprint,
            }
            append(conn, Event(KIND, actor, details=details))
    except BaseException:
        if written:  # on disk but not on the record (the entry or the commit failed): not an export to keep
            out.unlink(missing_ok=True)
        raise
    return info
