"""Exports (Art. 30 records, subject access), the one use case behind ``custos export ropa|subject`` and the app's
export dialogs: the file is written and put on the audit trail (format, SHA-256, policy version) in the transaction
that read the policy in force, so the app and the CLI leave the same evidence.

All or nothing: files are written under a hidden temporary name (a staging folder for a person's data) in the
target folder and moved into place only at the end, right before they are recorded. A cancel (``ExportControl``)
is honoured up to that move; cancelled, failed or unrecorded output is removed, and nothing reaches the trail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import ConfigError, CustosError
from app.exports.facts import gather_facts
from app.exports.recording import (  # one audit-event shape, CLI and app
    policy_for_export,
    record_written,
    refuse_other_suffix,
    staged,
)
from app.exports.ropa import build_processor_record, build_ropa
from app.exports.ropa_writers import FORMATS, MULTI_RECORD_FORMATS, suffix_of, write
from app.exports.subject import export_subject
from app.store.vault import Vault

if TYPE_CHECKING:
    from app.dsr.deadline import DueDay
    from app.policy.model import Policy

__all__ = ["FORMATS", "MULTI_RECORD_FORMATS", "RECORD_CHOICES", "ExportCancelled", "ExportControl", "RopaWritten",
           "SubjectWritten", "Written", "export_ropa", "export_subject_files", "suffix_of"]  # fmt: skip

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
class SubjectWritten:
    files: tuple[Written, ...]  # the JSON, then the PDF
    policy_stamp: str  # the policy version the export was made under


@dataclass(frozen=True)
class RopaWritten:
    file: Written
    content_hash: str  # of the record's content, as stated inside the file
    policy_stamp: str


class ExportCancelled(CustosError):
    def __init__(self) -> None:
        super().__init__("Export cancelled. No file was written and nothing was recorded on the audit trail.")


class ExportControl:
    """The step a running export is on, and the user's request to stop it: written by the worker, read by a GUI
    timer. Deliberately plain Python: no Qt object is handed to the worker thread."""

    def __init__(self) -> None:
        self.step = ""
        self.final = False  # the files are being moved into place and recorded: a cancel is no longer honoured
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def begin(self, step: str, *, final: bool = False) -> None:
        """Start the next step, or stop here with ExportCancelled if the user asked to."""
        if self._stop.is_set():
            raise ExportCancelled()
        self.step = step
        self.final = final


def _place(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as exc:
        raise ConfigError(f"Cannot write {target}: {exc.strerror or exc}.") from exc


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
    control: ExportControl | None = None,
) -> RopaWritten:
    if record_choice == "both" and fmt not in MULTI_RECORD_FORMATS:
        raise ConfigError(f"{fmt.upper()} holds one record: choose the controller or the processor record.")
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    if fmt not in FORMATS:
        raise ConfigError(f"Choose a format: one of {', '.join(FORMATS)}.")
    refuse_other_suffix(out, suffix_of(fmt))
    control = control or ExportControl()
    control.begin("Reading the policy in force and the facts about the processing…")
    with staged(out) as staging, vault.write_transaction() as conn:
        record = policy_for_export(conn)
        facts = gather_facts(vault, tls=tls, server_url=server_url, policy=record.policy)
        control.begin("Building the records…")
        moment = now or datetime.now(UTC)
        processor = build_processor_record(record, facts, moment)
        if record_choice == "processor":
            main, extra = processor, None
        else:
            main, extra = build_ropa(record, facts, moment), processor if record_choice == "both" else None
        control.begin(f"Writing the {fmt.upper()} file…")
        try:
            write(main, fmt, staging.partial, processor=extra)
        except OSError as exc:
            raise ConfigError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        control.begin("Saving the file and recording the export on the audit trail…", final=True)
        staging.place()
        recorded = "controller" if record_choice == "both" else record_choice  # as the CLI records its default
        sha = record_written(conn, "export.ropa", operator, out, record.version, fmt, record=recorded)
    return RopaWritten(Written(out, sha), main.content_hash, record.stamp)


def export_subject_files(
    vault: Vault,
    user_id: str,
    out_dir: Path,
    operator: str,
    *,
    received: datetime | None = None,
    data_dir: Path | None = None,
    now: datetime | None = None,
    control: ExportControl | None = None,
) -> SubjectWritten:
    """Everything held about one user, as ``subject-<id>.json`` and ``.pdf`` in ``out_dir``, each on the trail.

    ``received``: when the request came in (without a zone: the controller's local time, as the request register
    reads it, with its settings from ``data_dir``); the answer is then due as the register counts it."""
    control = control or ExportControl()
    control.begin("Reading the policy in force…")
    made_dir = not out_dir.exists()
    staging: Path | None = None
    placed: list[Path] = []
    written = []
    try:
        with vault.write_transaction() as conn:
            record = policy_for_export(conn)
            moment = now or datetime.now(UTC)
            received_at, answer_by = _request_dates(record.policy, received, data_dir, moment)
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".custos-partial-", dir=out_dir))  # 0700: personal data
                control.begin("Collecting everything held about this person and writing the files…")
                staged = export_subject(vault, record, user_id, staging, moment, received=received_at,
                                        answer_by=answer_by)  # fmt: skip
            except OSError as exc:
                raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc
            control.begin("Saving the files and recording the export on the audit trail…", final=True)
            for path in staged:
                _place(path, out_dir / path.name)
                placed.append(out_dir / path.name)
            for path in placed:
                sha = record_written(conn, "export.subject", operator, path, record.version, subject=user_id)
                written.append(Written(path, sha))
    except BaseException:
        for path in placed:  # in place but not on the trail: personal data that must not stay behind
            path.unlink(missing_ok=True)
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if made_dir:
            _remove_if_empty(out_dir)
    return SubjectWritten(tuple(written), record.stamp)


def _request_dates(
    policy: Policy, received: datetime | None, data_dir: Path | None, now: datetime
) -> tuple[datetime | None, DueDay | None]:
    """The request's receipt in the controller's zone and its due day, as the DSR register counts them."""
    if received is None:
        return None, None
    from app.dsr import settings as dsr_settings

    where = dsr_settings.load(data_dir, policy)
    moment = where.localise(received)
    if moment > now:
        raise ConfigError("The request cannot have been received in the future.")
    return moment.astimezone(UTC), where.answer_by(moment)


def _remove_if_empty(folder: Path) -> None:
    """A folder this export created and left empty (cancelled, failed) goes too."""
    with contextlib.suppress(OSError):  # not empty (the export succeeded) or already gone
        folder.rmdir()
