"""``custos export ropa|subject``: the Art. 30 records of processing and a subject-access export.

Printed format (a contract for scripts): one ``Wrote PATH (sha256 HEX)`` line per file written, then
``Policy vN sha256:HEX``. Each written file is on the audit trail (``export.ropa`` / ``export.subject``) with its
format, SHA-256 and the policy version, recorded in the transaction that read the policy in force.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from app.commands.common import open_vault, operator_name, refuse_other_suffix, vault_folder
from app.core.errors import ConfigError
from app.core.terminal import shown

FORMATS = ("xlsx", "ods", "csv", "json", "pdf", "cnil")  # as app.exports.ropa_writers.FORMATS (kept light here)
SUFFIXES = {"cnil": "ods"}  # as app.exports.ropa_writers.SUFFIXES: the CNIL model is an ODS workbook
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


def _format_of(args: argparse.Namespace, out: Path) -> str:
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"Choose --format: one of {', '.join(FORMATS)} (or give --out one of these suffixes).")
    refuse_other_suffix(out, fmt, SUFFIXES.get(fmt, fmt))
    return fmt


def _ropa(args: argparse.Namespace) -> int:
    from app.services.export import MULTI_RECORD_FORMATS, export_ropa

    out = Path(args.out).expanduser()
    fmt = _format_of(args, out)
    # --record controller (the default) adds the processor record to the formats that hold several.
    choice = "both" if args.record == "controller" and fmt in MULTI_RECORD_FORMATS else args.record
    if not out.parent.is_dir():  # before the vault is opened for an export that cannot be written
        raise ConfigError(f"The folder {out.parent} does not exist.")
    vault = open_vault(args)
    try:
        written = export_ropa(vault, fmt, out, choice, operator_name(args))
    finally:
        vault.close()
    print(f"Wrote {shown(written.file.path)} (sha256 {written.file.sha256})")
    print(f"Policy {written.policy_stamp}")
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


def _subject(args: argparse.Namespace) -> int:
    from app.services.export import export_subject_files

    out_dir = Path(args.out).expanduser()
    vault = open_vault(args)
    try:
        written = export_subject_files(vault, args.user_id, out_dir, operator_name(args), received=args.received,
                                       data_dir=vault_folder(args))  # fmt: skip
    finally:
        vault.close()
    for file in written.files:
        print(f"Wrote {shown(file.path)} (sha256 {file.sha256})")
    print(f"Policy {written.policy_stamp}")
    return 0
