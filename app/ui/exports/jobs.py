"""Worker-side export jobs for the app, Qt-free: exactly what ``custos export ropa|subject`` does.

The file is written and put on the audit trail (format, SHA-256, policy version) in the transaction that read the
policy in force, through the command's own helpers, so the app and the CLI leave the same evidence.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.commands.export import _policy, _record_written  # one audit-event shape for the CLI and the app
from app.core.errors import ConfigError
from app.exports.facts import gather_facts
from app.exports.ropa import build_processor_record, build_ropa
from app.exports.ropa_writers import MULTI_RECORD_FORMATS, write
from app.exports.subject import export_subject
from app.store.vault import Vault

# (record choice, label); "both" adds the processor record to the formats that hold several.
RECORD_CHOICES = (
    ("controller", "Controller record (Art. 30(1))"),
    ("processor", "Processor record (Art. 30(2))"),
    ("both", "Both records (XLSX, ODS and PDF only)"),
)


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str  # of the file as written


@dataclass(frozen=True)
class RopaWritten:
    file: Written
    content_hash: str  # of the record's content, as stated inside the file
    policy_stamp: str


def _as_args(operator: str) -> argparse.Namespace:
    return argparse.Namespace(operator=operator)


def export_ropa(
    vault: Vault,
    fmt: str,
    out: Path,
    record_choice: str,
    operator: str,
    *,
    server_url: str | None = None,
    tls: str | None = None,
    now: datetime | None = None,
) -> RopaWritten:
    if record_choice == "both" and fmt not in MULTI_RECORD_FORMATS:
        raise ConfigError(f"{fmt.upper()} holds one record: choose the controller or the processor record.")
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    with vault.write_transaction() as conn:
        record = _policy(conn)
        facts = gather_facts(vault, tls=tls, server_url=server_url, policy=record.policy)
        moment = now or datetime.now(UTC)
        processor = build_processor_record(record, facts, moment)
        if record_choice == "processor":
            main, extra = processor, None
        else:
            main, extra = build_ropa(record, facts, moment), processor if record_choice == "both" else None
        try:
            write(main, fmt, out, processor=extra)
        except OSError as exc:
            raise ConfigError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        recorded = "controller" if record_choice == "both" else record_choice  # as the CLI records its default
        sha = _record_written(conn, "export.ropa", _as_args(operator), out, record.version, fmt, record=recorded)
    return RopaWritten(Written(out, sha), main.content_hash, record.stamp)


def export_subject_files(vault: Vault, user_id: str, out_dir: Path, operator: str) -> list[Written]:
    written = []
    with vault.write_transaction() as conn:
        record = _policy(conn)
        try:
            paths = export_subject(vault, record, user_id, out_dir, datetime.now(UTC))
        except OSError as exc:
            raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc
        for path in paths:
            sha = _record_written(conn, "export.subject", _as_args(operator), path, record.version, subject=user_id)
            written.append(Written(path, sha))
    return written
