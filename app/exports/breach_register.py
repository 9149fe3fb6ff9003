"""The breach register as a document (Art. 33(5): the controller documents every personal data breach, "its
effects and the remedial action taken", so that the supervisory authority can verify compliance).

One row per incident, every incident ever recorded (candidates, dismissed and closed ones included), oldest first:
what happened (the Art. 33(3) content and the details authorities' forms ask), every time of the timeline in UTC
with how often it was corrected, the awareness the 72-hour deadline runs from and the deadline (also in the
controller's zone where it is known), the notifications with "in time" or "late" and the reasons for a delay, the
risk assessment and its reasoning, the Art. 34 communication or its exemption, and how the incident ended.

The XLSX adds the history of every time (a correction never replaces an earlier value: each entry with when, by
whom and why it was recorded) and a sheet about the export. Times are ISO 8601 in UTC with ``Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from app.core.wording import counted
from app.exports.register_files import Cell, RegisterWritten, Table, export_register, iso
from app.incidents.clock import zoned_text
from app.incidents.register import EXEMPTIONS, IncidentRegister, IncidentView, state_text
from app.incidents.times import LABELS
from app.store.vault import Vault

KIND = "export.breach_register"
SHEET = "Breach register"
HISTORY_SHEET = "Time history"
ABOUT_SHEET = "About this export"
# The timeline's times as the register keeps them (each with its history), in the order of LABELS.
TIMES = tuple(name for name in LABELS if name != "notified")
RISKS = {"none": "none: unlikely to result in a risk", "risk": "risk: notify the authority (Art. 33)",
         "high_risk": "high risk: also inform the data subjects (Art. 34)"}  # fmt: skip


def _corrections(view: IncidentView, name: str, notification_id: int | None = None) -> int:
    """How many times a recorded value was replaced: every entry after the first."""
    return max(len(view.entries(name, notification_id)) - 1, 0)


def _span(hours: float) -> str:
    whole = int(hours * 60)
    days, rest = divmod(whole, 24 * 60)
    return (f"{days} d " if days else "") + f"{rest // 60} h {rest % 60:02d} min"


def notification_verdict(view: IncidentView, now: datetime) -> str:
    """In time or late (Art. 33(1)), or where the clock stood when the register was exported."""
    if state_text(view) == "dismissed":
        return "no deadline: dismissed as not a personal-data breach"
    status = view.clock(now)
    first = view.first_notified
    if status.state == "notified_in_time":
        return "in time"
    if status.state == "notified_late" and first is not None and status.deadline is not None:
        return f"LATE by {_span((first - status.deadline).total_seconds() / 3600)}"
    if status.state == "closed_unnotified":
        return "not notified: closed with the rationale for not notifying"
    if status.state == "not_started":
        return "not notified: the clock has not started (no awareness recorded)"
    if status.state == "overdue":
        return f"not notified: OVERDUE at export ({status.describe()})"
    return f"not notified yet at export ({status.describe()})"


def _notifications(view: IncidentView) -> str:
    parts = []
    for note in view.notifications:
        summary = f": {note.summary}" if note.summary else ""
        parts.append(f"#{note.number} {note.kind} {iso(note.at)}, reference {note.reference}{summary}")
    return "; ".join(parts)


def _joined(values: list[str]) -> str:
    return ", ".join(values)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


# (header, cell) in the order of the sheet: an incident's own columns, then its times, then the outcome.
Column = tuple[str, Callable[["Row"], Cell]]


class Row:
    """One incident and what its cells need: the origin in words, the controller's zone, the moment of export."""

    def __init__(self, view: IncidentView, origin: str, zone: str | None, now: datetime) -> None:
        self.view, self.f, self.origin, self.zone, self.now = view, view.fields, origin, zone, now

    @property
    def deadline(self) -> datetime | None:
        return None if state_text(self.view) == "dismissed" else self.view.clock(self.now).deadline


HEAD: list[Column] = [
    ("Incident", lambda r: r.view.id),
    ("Title", lambda r: r.f["title"]),
    ("State", lambda r: state_text(r.view)),
    ("Opened", lambda r: r.origin),
    ("Recorded in the register (UTC)", lambda r: iso(r.f["created"])),
    ("Description", lambda r: r.f["description"]),
    ("Nature of the breach (Art. 33(3)(a))", lambda r: r.f["nature"]),
    ("Breach type", lambda r: _joined(r.f["breach_types"])),
    ("Categories of data subjects (Art. 33(3)(a))", lambda r: _joined(r.f["subject_categories"])),
    ("Approximate number of data subjects (Art. 33(3)(a))", lambda r: r.f["approx_subjects"]),
    ("Categories of personal data records (Art. 33(3)(a))", lambda r: _joined(r.f["categories"])),
    ("Approximate number of records (Art. 33(3)(a))", lambda r: r.f["approx_records"]),
    ("Special categories or criminal data (Art. 9, 10)", lambda r: r.f["special_categories"] or ""),
    ("DPO or other contact point (Art. 33(3)(b))", lambda r: r.f["dpo_contact"]),
    ("Likely consequences (Art. 33(3)(c))", lambda r: r.f["consequences"]),
    ("Measures taken or proposed (Art. 33(3)(d))", lambda r: r.f["measures"]),
    ("Cause", lambda r: r.f["cause"]),
    ("How it was discovered", lambda r: r.f["discovery"]),
    ("Processor involved", lambda r: r.f["processor"]),
    ("Cross-border processing (Art. 56)", lambda r: _yes_no(r.f["cross_border"])),
    ("Lead supervisory authority", lambda r: r.f["lead_authority"]),
    ("Other authorities told", lambda r: r.f["other_authorities"]),
]


def _time_columns(name: str) -> list[Column]:
    """A time of the timeline: its value now, and how often the value recorded first was corrected."""
    return [
        (f"{LABELS[name]} (UTC)", lambda r: iso(r.f[name])),
        (f"{LABELS[name]}: corrections", lambda r: _corrections(r.view, name)),
    ]


TAIL: list[Column] = [
    ("Aware: recorded by", lambda r: r.f["aware_by"] or ""),
    ("Aware: reasoning", lambda r: r.f["aware_reason"] or ""),
    ("72-hour clock runs from (earliest awareness recorded, UTC)", lambda r: iso(r.view.aware_anchor)),
    ("72-hour deadline (UTC)", lambda r: iso(r.deadline)),
    ("Controller's time zone", lambda r: r.zone or "none known: UTC only"),
    ("72-hour deadline (controller's time zone)", lambda r: zoned_text(r.deadline, r.zone) if r.deadline and r.zone
     else ""),
    ("Supervisory authority notified", lambda r: r.f["authority"]),
    ("First notified the authority (UTC)", lambda r: iso(r.view.first_notified)),
    ("Notification (Art. 33(1)): in time or late", lambda r: notification_verdict(r.view, r.now)),
    ("Reasons for the delay (Art. 33(1))", lambda r: r.f["delay_reason"] or ""),
    ("Notifications (initial and follow-ups, Art. 33(4))", lambda r: _notifications(r.view)),
    ("Notification times: corrections", lambda r: sum(_corrections(r.view, "notified", n.id)
                                                      for n in r.view.notifications)),
    ("Risk (assessment)", lambda r: RISKS.get(r.f["risk"] or "", "")),
    ("Risk assessed (UTC)", lambda r: iso(r.f["risk_at"])),
    ("Risk: reasoning", lambda r: r.f["risk_reason"] or ""),
    ("Art. 34 exemption", lambda r: EXEMPTIONS.get(r.f["art34_exemption"] or "", "")),
    ("Art. 34 exemption: reasoning", lambda r: r.f["art34_reason"] or ""),
    ("Closed (UTC)", lambda r: iso(r.f["closed_at"])),
    ("Dismissed as not a personal-data breach", lambda r: "yes" if state_text(r.view) == "dismissed" else ""),
    ("Rationale for not notifying (or for dismissing)", lambda r: r.f["not_notified_rationale"] or ""),
    ("Time entries in the history", lambda r: len(r.view.history)),
]  # fmt: skip

COLUMNS: list[Column] = HEAD + [column for name in TIMES for column in _time_columns(name)] + TAIL
HEADERS = [header for header, _cell in COLUMNS]
_WIDE = {"Title": 34, "Description": 50, "Nature of the breach (Art. 33(3)(a))": 40,
         "Likely consequences (Art. 33(3)(c))": 40, "Measures taken or proposed (Art. 33(3)(d))": 40,
         "Notifications (initial and follow-ups, Art. 33(4))": 50, "Risk: reasoning": 40}  # fmt: skip


def incident_row(view: IncidentView, origin: str, zone: str | None, now: datetime) -> list[Cell]:
    row = Row(view, origin, zone, now)
    return [cell(row) for _header, cell in COLUMNS]


HISTORY_HEADERS = ("Incident", "Time", "Notification", "Value (UTC)", "Entry", "Recorded (UTC)", "Recorded by",
                   "Reason")  # fmt: skip


def history_rows(view: IncidentView) -> list[list[Cell]]:
    """Every value each time has held, in the order recorded (the first entry of a time, then its corrections)."""
    numbers = {n.id: n.number for n in view.notifications}
    seen: set[tuple[str, int | None]] = set()
    rows: list[list[Cell]] = []
    for entry in view.history:
        key = (entry.name, entry.notification_id)
        kind = "correction" if key in seen else "first recorded"
        seen.add(key)
        number = numbers.get(entry.notification_id) if entry.notification_id is not None else None
        rows.append([view.id, entry.label, number, iso(entry.at), kind, iso(entry.recorded_at), entry.recorded_by,
                     entry.reason])  # fmt: skip
    return rows


def about_rows(count: int, zone: str | None, now: datetime) -> list[list[Cell]]:
    return [
        ["Register", "Breach register (Art. 33(5) GDPR): every personal data breach recorded, notified or not"],
        ["Exported at (UTC)", iso(now)],
        ["Incidents", counted(count, "incident")],
        ["Controller's time zone", zone or "UTC (no other zone known: custos dsr settings --time-zone)"],
        ["Times", "ISO 8601 in UTC (the Z). The deadline is also given in the controller's time zone where one is "
                  "known. A time is never replaced: a correction is a new entry, and the 72-hour clock runs from "
                  "the earliest awareness ever recorded."],
        ["Corrections", f"Each time's corrections are counted on the '{SHEET}' sheet; the '{HISTORY_SHEET}' sheet "
                        "holds every entry with when, by whom and why it was recorded (custos breach show N too)."],
        ["In time or late", "Art. 33(1): the first notification within 72 hours of awareness; an incident not "
                            "notified says where its clock stood at the time of export."],
        ["Audit trail", f"This export is on Custos' audit trail (kind {KIND}) with its row count and the file's "
                        "SHA-256, never its content."],
    ]  # fmt: skip


def register_tables(vault: Vault, zone: str | None, now: datetime) -> list[Table]:
    """The register's sheets as of ``now``, oldest incident first."""
    incidents = IncidentRegister(vault, lambda: now)
    views = sorted(incidents.list(), key=lambda v: v.id)
    rows = [incident_row(v, incidents.origin(v).describe(), zone, now) for v in views]
    widths = [float(_WIDE.get(header, 22)) for header in HEADERS]
    history = [row for view in views for row in history_rows(view)]
    return [
        Table(SHEET, HEADERS, rows, widths),
        Table(HISTORY_SHEET, HISTORY_HEADERS, history, (9, 30, 12, 24, 14, 24, 20, 50)),
        Table(ABOUT_SHEET, ("Field", "Value"), about_rows(len(rows), zone, now), (24, 110)),
    ]


def export_breach_register(
    vault: Vault, fmt: str, out: Path, operator: str, zone: str | None, now: datetime | None = None
) -> RegisterWritten:
    """The register as ``fmt`` (csv: the incidents sheet alone) at ``out``, on the audit trail."""
    moment = now or datetime.now(UTC)
    return export_register(vault, KIND, fmt, out, operator, lambda: register_tables(vault, zone, moment))
