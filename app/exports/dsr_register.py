"""The register of data subject requests as a document: the controller's accountability record for Art. 12–22
(Art. 5(2)), for an auditor or a supervisory authority.

One row per request, every request the register still holds, in the order received: the rights asked, how it
arrived, when it was received (UTC, and the day in the controller's zone the period is counted from), the due date
with any Art. 12(6) wait and Art. 12(3) extension, the identity check, what became of each right (with the refusal
grounds), the answer and whether it was in time, the closure, and the erasure requests and subject exports linked.

What is sealed is left out: the requester's name and authority, the answer address, the notes, the means of the
identity check and the reasoning typed for a refusal, an extension or a task are encrypted under the person's own
key (app/dsr/sealing.py) and are personal data; the export never opens them (``DsrRegister.skeletons``) and says,
in the last column's header and on each row, only whether a request holds such detail. Attached files are named
by kind and SHA-256, not by file name (a subject export's name carries the person's id).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from app.core.wording import counted
from app.dsr import model
from app.dsr.deadline import NO_DEADLINE, end_of_day
from app.dsr.register import DsrRegister, RequestView, Skeleton
from app.exports.register_files import Cell, RegisterWritten, Table, export_register, iso
from app.store.vault import Vault

KIND = "export.dsr_register"
SHEET = "Request register"
ABOUT_SHEET = "About this export"
SEALED_HEADER = (
    "Requester's details (name, authority, answer address, note, identity means, reasoning typed): NOT EXPORTED — "
    "sealed under the person's own key; personal data"
)
SEALED_STATES = {
    "held": "held sealed in Custos, left out",
    "none": "none recorded",
    "shredded": "crypto-shredded (the person was erased; the key is destroyed)",
}

Column = tuple[str, Callable[["Row"], Cell]]


class Row:
    def __init__(self, skeleton: Skeleton, now: datetime) -> None:
        self.view: RequestView = skeleton.view
        self.f = skeleton.view.fields
        self.sealed = skeleton.sealed
        self.now = now


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _holidays(f: dict[str, object]) -> str:
    if not f["country"]:
        return "weekends only (no country set)"
    return f"{f['country']}-{f['subdivision']}" if f["subdivision"] else str(f["country"])


def right_state(view: RequestView, right: str) -> str:
    """What became of one right: "" when it was not asked, else its state, ground or link, and when it ended."""
    step = view.step(right)
    if step is None:
        return ""
    said = step.state.replace("_", " ")
    if step.ground:
        said += f" ({step.ground})"
    elif step.link_kind == "erased_before":  # none held: the person's earlier erasure (decision 0073)
        said += f" (erased earlier: erasure {step.link_ref})"
    elif step.link_ref:
        said += f" ({step.link_kind} {step.link_ref})"
    return said + (f", {iso(step.done_at)}" if step.done_at else "")


def _grounds(view: RequestView) -> str:
    found = dict.fromkeys(step.ground for step in view.steps if step.ground)
    return "; ".join(f"{model.REFUSAL_GROUNDS.get(ground, ground)}" for ground in found if ground)


def _linked(view: RequestView, kind: str) -> str:
    return ", ".join(dict.fromkeys(s.link_ref for s in view.steps if s.link_kind == kind and s.link_ref))


def _answered(view: RequestView, now: datetime) -> str:
    clock = view.clock(now)
    if clock.state == "no_deadline":
        return NO_DEADLINE
    what = " (the refusal, Art. 12(4))" if view.refusal_due and view.extended_months else ""
    if clock.state == "answered_in_time":
        return f"in time{what}"
    if clock.state == "answered_late":
        return f"LATE by {counted((view.answered_on - view.deadline).days, 'day', grouped=False)}{what}"
    return f"not answered at export: {clock.describe()}"


def _extension(f: dict[str, object]) -> str:
    months = f["extended_months"]
    return f"by {counted(months, 'month', grouped=False)}" if isinstance(months, int) and months else ""


def _gdpr_day(view: RequestView, value: date | None) -> str:
    """A deadline's day, none for a request recorded as not a GDPR request (Art. 12(3) does not apply to it)."""
    return _day(value) if view.gdpr else ""


def _right_column(right: str, label: str) -> Column:
    return f"{label}: outcome", lambda r: right_state(r.view, right)


COLUMNS: list[Column] = [
    ("Request", lambda r: r.f["id"]),
    ("Rights asked", lambda r: "; ".join(model.RIGHTS.get(right, right) for right in r.f["rights"])),
    ("Channel", lambda r: r.f["channel"]),
    ("Requester", lambda r: r.f["requester"]),
    ("Matched to an identity", lambda r: "yes" if r.f["subject"] else "no"),
    ("Received (UTC)", lambda r: iso(r.f["received"])),
    ("Controller's time zone", lambda r: r.f["zone"]),
    ("Received (day in the controller's zone)", lambda r: r.view.received_day.isoformat()),
    ("Public holidays counted", lambda r: _holidays(r.f)),
    ("Days waited for identity information (Art. 12(6))", lambda r: r.f["paused_days"]),
    ("Waiting for identity information since", lambda r: _day(r.f["paused_since"])),
    ("Due (one month, Art. 12(3))", lambda r: _day(r.f["due"]) if r.view.gdpr else NO_DEADLINE),
    ("Extended (Art. 12(3))", lambda r: _extension(r.f)),
    ("Extended due", lambda r: _day(r.f["extended_due"])),
    ("Person told of the extension on", lambda r: _day(r.f["extension_told"])),
    # a refusal is due within one month of receipt, whatever the extension (Art. 12(4)): the deadline is then that
    ("Refusal due (Art. 12(4): one month from receipt)", lambda r: _day(r.view.refusal_due)),
    ("Deadline (day in the controller's zone)", lambda r: _gdpr_day(r.view, r.view.deadline)),
    ("Deadline ends (UTC)", lambda r: iso(end_of_day(r.view.deadline, r.f["zone"])) if r.view.gdpr else ""),
    # "not needed" only once someone recorded it: every new request starts so, and the file said a decision no one made
    ("Identity verification", lambda r: model.verification_said(r.f["verification"], r.f["verification_at"])),
    ("Identity verification recorded (UTC)", lambda r: iso(r.f["verification_at"])),
    *[_right_column(right, label) for right, label in model.RIGHTS.items()],
    ("Refusal grounds", lambda r: _grounds(r.view)),
    ("State", lambda r: model.STATE_WORDS.get(r.f["state"], r.f["state"])),
    ("Outcome", lambda r: model.OUTCOMES.get(r.f["outcome"] or "", "")),
    ("Answered on (day in the controller's zone)", lambda r: _day(r.f["answered_on"])),
    ("Answered: in time or late", lambda r: _answered(r.view, r.now)),
    ("Restriction (Art. 18) in force", lambda r: "yes" if r.f["restricted"] else "no"),
    ("Closed (UTC)", lambda r: iso(r.f["closed"])),
    ("Linked erasure requests", lambda r: _linked(r.view, "erasure")),
    ("Linked subject exports (SHA-256 of the JSON)", lambda r: _linked(r.view, "export")),
    ("Files attached (kind, SHA-256)", lambda r: "; ".join(f"{a.kind} {a.sha256}" for a in r.view.attachments)),
    ("Recorded by", lambda r: r.f["operator"]),
    ("Recorded in the register (UTC)", lambda r: iso(r.f["created"])),
    (SEALED_HEADER, lambda r: SEALED_STATES[r.sealed]),
]
HEADERS = [header for header, _cell in COLUMNS]
_WIDE = {"Rights asked": 34, "Refusal grounds": 45, "Answered: in time or late": 34, SEALED_HEADER: 48,
         "Files attached (kind, SHA-256)": 50}  # fmt: skip


def request_row(skeleton: Skeleton, now: datetime) -> list[Cell]:
    row = Row(skeleton, now)
    return [cell(row) for _header, cell in COLUMNS]


def about_rows(count: int, now: datetime) -> list[list[Cell]]:
    return [
        ["Register", "Register of data subject requests (Art. 12–22 GDPR; the controller's record, Art. 5(2))"],
        ["Exported at (UTC)", iso(now)],
        ["Requests", counted(count, "request")],
        ["Left out", "The requester's details — name, a representative's authority, the answer address, notes, "
                     "how the identity was checked, and the reasoning typed for a refusal, an extension or a task — "
                     "are sealed in Custos under the person's own key. They are personal data and are not in this "
                     "file; the last column says only whether a request holds them, or whether they were "
                     "crypto-shredded when the person was erased. Attached files are named by kind and SHA-256."],
        ["Times and days", "Times are ISO 8601 in UTC (the Z). Receipt, due dates and the answer are days in the "
                           "controller's time zone (its own column), as the register counts Art. 12(3)'s month; "
                           "'Deadline ends (UTC)' is the last instant of the deadline's day there."],
        ["Audit trail", f"This export is on Custos' audit trail (kind {KIND}) with its row count and the file's "
                        "SHA-256, never its content. Each request's history is on the trail under its id."],
    ]  # fmt: skip


def register_tables(vault: Vault, now: datetime) -> list[Table]:
    skeletons = DsrRegister(vault, lambda: now).skeletons()
    rows = [request_row(skeleton, now) for skeleton in skeletons]
    widths = [float(_WIDE.get(header, 22)) for header in HEADERS]
    return [
        Table(SHEET, HEADERS, rows, widths),
        Table(ABOUT_SHEET, ("Field", "Value"), about_rows(len(rows), now), (24, 110)),
    ]


def export_dsr_register(
    vault: Vault, fmt: str, out: Path, operator: str, now: datetime | None = None
) -> RegisterWritten:
    """The register as ``fmt`` (csv: the requests sheet alone) at ``out``, on the audit trail."""
    moment = now or datetime.now(UTC)
    return export_register(vault, KIND, fmt, out, operator, lambda: register_tables(vault, moment))
