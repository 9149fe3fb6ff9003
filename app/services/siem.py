"""The audit trail for a SIEM, the use cases behind ``custos siem``: export entries as CEF or OCSF JSON lines to a
file (owner-only; the export itself on the trail, never its content), forward what is pending to a syslog
collector over TLS (once, or until stopped), and how far each collector has received the trail."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from app.audit.trail import Event, append, read
from app.core.errors import ConfigError
from app.core.file_suffix import binary_suffix
from app.exports.recording import staged
from app.siem import spool, syslog
from app.siem.cef import to_cef
from app.siem.forwarder import Delivery, SiemForwarder, send_pending
from app.siem.lines import json_line
from app.siem.ocsf import to_ocsf
from app.siem.syslog import Collector
from app.store.vault import Vault

__all__ = ["FORMATS", "Collector", "Delivery", "Exported", "SiemForwarder", "Status", "collector", "export",
           "forwarder", "send_once", "status"]  # fmt: skip

FORMATS = ("cef", "ocsf")


@dataclass(frozen=True)
class Exported:
    count: int
    first_seq: int | None
    last_seq: int | None
    sha256: str  # of the lines written


LINE_SUFFIXES = {"cef": "cef", "ocsf": "jsonl"}  # what to name an export instead (any text suffix is kept)


def export(vault: Vault, fmt: str, start: int, end: int | None, out: Path, operator: str) -> Exported:
    """Entries ``start``..``end`` (the newest when None) as CEF lines or OCSF JSON lines, into an owner-only file
    (the trail is pseudonymous, but still only for the people who run the SIEM); the export is on the trail.

    All or nothing, as the other exports: written under a hidden name beside ``out`` and moved into place with the
    trail entry, so a Ctrl-C, a full disk or a failed read leaves neither a half-written file nor an emptied one
    where an earlier export was."""
    if fmt not in FORMATS:
        raise ConfigError(f"Choose a format: one of {', '.join(FORMATS)}.")
    if start < 1 or (end is not None and end < start):
        raise ConfigError("--from must be 1 or more, and --to (if given) not before --from.")
    if out.is_dir():
        raise ConfigError(f"Cannot write {out}: Is a directory.")
    if (found := binary_suffix(out)) is not None:  # lines of text under a spreadsheet's or a PDF's name
        raise ConfigError(f"{fmt.upper()} is written as lines of text: give the file a name ending in "
                          f".{LINE_SUFFIXES[fmt]}, not {found}. Nothing was written.")  # fmt: skip
    with staged(out) as staging:
        try:
            count, first, last, sha = _write_lines(vault, fmt, start, end, staging.partial)
        except OSError as exc:
            raise ConfigError(f"Cannot write {out}: {exc.strerror or type(exc).__name__}.") from exc
        details = {"format": fmt, "events": count, "first_seq": first, "last_seq": last, "sha256": sha}
        with vault.write_transaction() as conn:  # an export is an operator action: on the record, never its content
            append(conn, Event("export.siem", f"operator:{operator}", details=details))
            staging.place()
    return Exported(count, first, last, sha)


def _write_lines(
    vault: Vault, fmt: str, start: int, end: int | None, partial: Path
) -> tuple[int, int | None, int | None, str]:
    """The lines into ``partial``, created owner-only and new (O_EXCL); their count, seq span and SHA-256."""
    count, first, last = 0, None, None
    digest = hashlib.sha256()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with vault.read_connection() as conn, open(fd, "w", encoding="utf-8", newline="\n") as file:
        for event in read(conn, start):
            if end is not None and event.seq > end:
                break
            record = to_ocsf(event) if fmt == "ocsf" else None
            line = json_line(record, sort_keys=True) if record is not None else to_cef(event)
            file.write(line + "\n")
            digest.update(line.encode() + b"\n")
            count, first, last = count + 1, first or event.seq, event.seq
    return count, first, last, digest.hexdigest()


def collector(host: str, port: int, fingerprint: str | None, ca: str | None, fmt: str) -> Collector:
    """A syslog/TLS collector, its pin checked (ConfigError for a malformed fingerprint)."""
    found = Collector(host, port, fingerprint, ca, fmt)
    try:
        syslog.check_trust(found)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return found


def send_once(vault: Vault, to: Collector) -> Delivery:
    """Send what is pending and return; an unreachable collector loses nothing (the entries stay pending)."""
    try:
        return send_pending(vault, to)
    except OSError as exc:
        raise ConfigError(f"Cannot deliver to {to.name}: {syslog.failure_reason(exc)}; nothing was lost, "
                          "the entries stay pending.") from exc  # fmt: skip


def forwarder(vault: Vault, to: Collector) -> SiemForwarder:
    """A background forwarder (not started): the caller starts it and stops it (Ctrl-C on the command line)."""
    return SiemForwarder(vault, to)


@dataclass(frozen=True)
class Status:
    rows: list[tuple[str, int, int]]  # (destination, delivered up to seq, pending)
    newest: int
    rules_at: int  # how far the anomaly rules have read
    # False where this system cannot see a collector's TCP acknowledgements: a cursor moved here says "sent"
    confirmed: bool = True


def status(vault: Vault) -> Status:
    with vault.read_connection() as conn:
        rows = [(destination, seq, spool.pending(conn, destination)) for destination, seq in spool.cursors(conn)]
        return Status(rows, spool.last_seq(conn), spool.cursor(conn, spool.ALERTS),
                      syslog.can_confirm_delivery())  # fmt: skip


def forget(vault: Vault, destination: str, operator: str) -> int:
    """Stop keeping the trail for a collector no longer used: its cursor goes, on the record. Returns the seq it had
    received up to; ConfigError naming the destinations there are when it has none."""
    with vault.write_transaction() as conn:
        reached = spool.forget(conn, destination)
        if reached is None:
            known = ", ".join(name for name, _seq in spool.cursors(conn)) or "none"
            raise ConfigError(f"No collector {destination!r} has a cursor (destinations: {known}); nothing changed.")
        details = {"destination": destination, "received_up_to": reached, "pending": spool.last_seq(conn) - reached}
        append(conn, Event("siem.destination_forgotten", f"operator:{operator}", details=details))
    return reached
