"""``custos export ropa|subject``: the Art. 30 records of processing and a subject-access export.

Printed format (a contract for scripts): one ``Wrote PATH (sha256 HEX)`` line per file written, then
``Policy vN sha256:HEX``. Each written file is on the audit trail (``export.ropa`` / ``export.subject``) with its
format, SHA-256 and the policy version, recorded in the transaction that read the policy in force.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.audit.trail import Event, append
from app.commands.common import open_vault, operator_name
from app.core.errors import ConfigError
from app.core.paths import data_dir
from app.dsr import settings as dsr_settings
from app.policy.in_force import install_default_if_missing
from app.policy.model import Policy
from app.policy.versions import PolicyRecord, in_force

FORMATS = ("xlsx", "ods", "csv", "json", "pdf", "cnil")  # as app.exports.ropa_writers.FORMATS (kept light here)
RECORDS = ("controller", "processor")


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    export = commands.add_parser("export", help="records of processing (Art. 30) and subject-access exports")
    sub = export.add_subparsers(dest="export_command", required=True)
    ropa = sub.add_parser("ropa", help="write the record of processing activities (Art. 30 GDPR)")
    ropa.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the --out suffix; cnil: the CNIL model (one French form per activity) as ODS",
    )
    ropa.add_argument("--out", required=True, help="the file to write")
    ropa.add_argument(
        "--record",
        choices=RECORDS,
        default="controller",
        help="controller (Art. 30(1), default; XLSX, ODS, PDF and CNIL add the processor record) or processor (30(2))",
    )
    ropa.add_argument("--operator", help="who exports, for the audit trail (default: login name)")
    add_data_dir(ropa)
    subject = sub.add_parser("subject", help="write everything held about one user (Art. 15 and 20 GDPR)")
    subject.add_argument("--user-id", required=True, help="the user's SCIM id in Custos")
    subject.add_argument("--out", required=True, help="the folder to write subject-<id>.json and .pdf into")
    subject.add_argument("--operator", help="who exports, for the audit trail (default: login name)")
    subject.add_argument(
        "--received",
        type=_received_date,
        help="when the request was received (YYYY-MM-DD or ISO 8601; without a zone: the controller's local time, "
        "as `dsr open` reads it); the answer is due as the request register counts it",
    )
    add_data_dir(subject)


def run(args: argparse.Namespace) -> int:
    if args.export_command == "ropa":
        return _ropa(args)
    return _subject(args)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _policy(conn: Connection) -> PolicyRecord:
    """The version in force; a vault without one gets the shipped default, on the record."""
    return in_force(conn) or install_default_if_missing(conn)


def _format_of(args: argparse.Namespace, out: Path) -> str:
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"Choose --format: one of {', '.join(FORMATS)} (or give --out one of these suffixes).")
    return fmt


def _record_written(
    conn: Connection, kind: str, args: argparse.Namespace, path: Path, version: int, fmt: str = "", **extra: str
) -> str:
    """Put the written file on the audit trail (format, hash, policy version; never its content); its SHA-256."""
    sha = _sha256(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    details: dict[str, Any] = {"format": fmt, "sha256": sha, "policy_version": version}
    subject = extra.pop("subject", None)
    details.update(extra)
    append(conn, Event(kind, f"operator:{operator_name(args)}", subject=subject, details=details))
    return sha


def _ropa(args: argparse.Namespace) -> int:
    from app.exports.facts import gather_facts
    from app.exports.ropa import build_processor_record, build_ropa
    from app.exports.ropa_writers import MULTI_RECORD_FORMATS, write

    out = Path(args.out).expanduser()
    fmt = _format_of(args, out)
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    vault = open_vault(args)
    try:
        with vault.write_transaction() as conn:
            record = _policy(conn)
            facts = gather_facts(vault, policy=record.policy)
            now = datetime.now(UTC)
            processor = build_processor_record(record, facts, now)
            if args.record == "processor":
                main, extra = processor, None
            else:
                main, extra = build_ropa(record, facts, now), processor if fmt in MULTI_RECORD_FORMATS else None
            try:
                write(main, fmt, out, processor=extra)
            except OSError as exc:
                raise ConfigError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
            sha = _record_written(conn, "export.ropa", args, out, record.version, fmt, record=args.record)
    finally:
        vault.close()
    print(f"Wrote {out} (sha256 {sha})")
    print(f"Policy {record.stamp}")
    return 0


def _received_date(text: str) -> datetime:
    """A request date: a day or an ISO 8601 time, kept without a zone when none is given (it is then the
    controller's local time, placed in its zone once the policy is read); not in the future (a wrong date makes a
    false deadline). A bare time is checked here against the furthest zone ahead (UTC+14), then again in its own."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError("give the date as YYYY-MM-DD or an ISO 8601 time") from exc
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone(timedelta(hours=14)))
    if aware > datetime.now(UTC):
        raise argparse.ArgumentTypeError("the request cannot have been received in the future")
    return moment


def _request_dates(args: argparse.Namespace, policy: Policy) -> tuple[datetime | None, datetime | None]:
    """The request's receipt in the controller's zone and its deadline, as the DSR register counts them."""
    received = getattr(args, "received", None)
    if received is None:
        return None, None
    where = dsr_settings.load(data_dir(getattr(args, "data_dir", None)), policy)
    moment = where.localise(received)
    if moment > datetime.now(UTC):
        raise ConfigError("The request cannot have been received in the future.")
    return moment.astimezone(UTC), where.answer_by(moment)


def _subject(args: argparse.Namespace) -> int:
    from app.exports.subject import export_subject

    out_dir = Path(args.out).expanduser()
    vault = open_vault(args)
    written: list[tuple[Path, str]] = []
    try:
        with vault.write_transaction() as conn:
            record = _policy(conn)
            try:
                received, answer_by = _request_dates(args, record.policy)
                paths = export_subject(vault, record, args.user_id, out_dir, datetime.now(UTC), received=received,
                                       answer_by=answer_by)  # fmt: skip
            except OSError as exc:
                raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc
            for path in paths:
                sha = _record_written(conn, "export.subject", args, path, record.version, subject=args.user_id)
                written.append((path, sha))
    finally:
        vault.close()
    for path, sha in written:
        print(f"Wrote {path} (sha256 {sha})")
    print(f"Policy {record.stamp}")
    return 0
