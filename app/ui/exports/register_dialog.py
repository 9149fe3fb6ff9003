""" "Export register…" on the Incidents and Requests pages: the whole register as CSV or XLSX, for a supervisory
authority (the breach register, Art. 33(5)) or an auditor (the request register, Art. 5(2)).

The work is app/services/registers.py's (the same file and trail entry as ``custos breach export`` / ``custos dsr
export``); this dialog only asks the format and where (a file dialog starting in Documents), runs it in the pool,
and offers Open / Show in folder afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QFormLayout, QWidget

from app.core.wording import counted
from app.services.registers import FORMATS, RegisterWritten, export_breaches, export_requests
from app.store.vault import Vault
from app.ui.exports.dialog import ExportDialog, ask_save_path, dated_in_documents
from app.ui.policy.common import login_name, plain_label

ChoosePath = Callable[[QWidget, Path, str], Path | None]
FORMAT_LABELS = {"xlsx": "Excel workbook (XLSX, with a sheet about the export)", "csv": "CSV (UTF-8, one table)"}


@dataclass(frozen=True)
class Register:
    title: str  # the dialog's title
    file_stem: str
    entry: str  # one row of the file
    note: str  # what the file holds, and what it leaves out
    export: Callable[[Vault, str, Path, str], RegisterWritten]


BREACHES = Register(
    "Export the breach register",
    "custos-breach-register",
    "incident",
    "One row per incident, notified or not (Art. 33(5)): the Art. 33(3) content, every time in UTC with its "
    "corrections, the 72-hour deadline and whether the notification was in time or late with the reasons, the risk "
    "assessment, Art. 34, and how it ended. The XLSX adds every time's history. The export is recorded on the audit "
    "trail.",
    export_breaches,
)
REQUESTS = Register(
    "Export the request register",
    "custos-request-register",
    "request",
    "One row per request (Art. 12–22): rights, dates, due dates and extensions, identity check, what became of each "
    "right, the answer and the links to erasures and exports. The requester's sealed details (name, address, notes, "
    "reasoning) are personal data under the person's own key and are left out. The export is recorded on the audit "
    "trail.",
    export_requests,
)


def choose_register_path(parent: QWidget, suggested: Path, fmt: str) -> Path | None:
    return ask_save_path(parent, "Export the register", suggested, f"{fmt.upper()} (*.{fmt})")


def default_path(register: Register, fmt: str) -> Path:
    return dated_in_documents(register.file_stem, fmt)


class RegisterExportDialog(ExportDialog):
    busy_text = "Reading the register and writing the file…"
    failure_text = "The register could not be exported."
    what = "the register"

    def __init__(
        self,
        vault: Vault,
        register: Register,
        choose_path: ChoosePath = choose_register_path,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(register.title, default_path(register, FORMATS[-1]), parent)
        self.vault, self.register = vault, register
        self.choose_path, self.operator = choose_path, operator
        self.outcome: RegisterWritten | None = None
        form = QFormLayout()
        # XLSX first: what an authority opens. Alt+M: Alt+F is "Show in folder".
        form.addRow("For&mat", self.add_formats([(fmt, FORMAT_LABELS[fmt]) for fmt in FORMATS[::-1]]))
        self.note = plain_label(register.note, wrap=True)
        self.lay_out(form, self.note, 600)

    def browse(self) -> None:
        fmt = self.chosen_format()
        self.output.choose(lambda start: self.choose_path(self, start, fmt), default_path(self.register, fmt))

    def job_for(self, out: Path) -> Callable[[], RegisterWritten]:
        vault, fmt, operator, export = self.vault, self.chosen_format(), self.operator(), self.register.export
        return lambda: export(vault, fmt, out, operator)

    def exported(self, result: RegisterWritten) -> None:
        self.outcome = result
        said = f"Exported {counted(result.rows, self.register.entry)}; recorded on the audit trail."
        self.show_written(said, result.path, result.sha256)
