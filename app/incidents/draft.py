"""One incident as an Art. 33(3) notification draft, in Markdown and PDF, for the DPO to complete and send."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.utc import utc_text
from app.incidents import clock
from app.incidents.clock import zoned_text
from app.incidents.completeness import LATE
from app.incidents.files import write_markdown_and_pdf
from app.incidents.register import EXEMPTIONS, IncidentView
from app.policy.model import NEEDS_HUMAN, Policy

NOT_RECORDED = "not recorded"  # nobody entered it yet: unknown, which "—" did not tell from "does not apply"


def _t(moment: datetime | None, absent: str = NOT_RECORDED) -> str:
    return utc_text(moment) if moment else absent


def _deadline(status: clock.ClockStatus, zone: str | None) -> str:
    """The 72-hour deadline in UTC, then where the controller is when its zone is known (as ``breach aware`` and the
    Incidents page give it): the DPO who sends the notification counts the hours on their own clock."""
    if status.deadline is None:
        return "not started: no awareness recorded"
    return _t(status.deadline) + (f" ({zoned_text(status.deadline, zone)})" if zone else "")


def _or_ask(text: str | None) -> str:
    return text.strip() if text and text.strip() else NEEDS_HUMAN


def dpo_line(incident: IncidentView, policy: Policy) -> str:
    """The DPO's name and details from the policy, and the incident's contact point added, never replacing them."""
    contact = (incident.fields["dpo_contact"] or "").strip()
    parts = [policy.dpo.one_line()] if not policy.dpo.is_empty else []
    if contact and contact not in policy.dpo.one_line():
        parts.append(f"contact for this incident: {contact}")
    return "; ".join(parts) or NEEDS_HUMAN


def _special(incident: IncidentView, policy: Policy) -> str:
    """The operator's answer, with what the policy itself says about the categories recorded (a check, not a guess)."""
    answer = {"yes": "Yes", "no": "No", "unknown": "Not yet known"}.get(incident.fields["special_categories"] or "")
    categories = set(incident.fields["categories"])
    held = [
        f"{rule.label} ({name})"
        for rule in policy.attributes
        if rule.special and (name := _category_name(policy, rule.category)) in categories
    ]
    if held and answer != "Yes":
        note = "the policy marks " + ", ".join(held) + " as special-category data (Art. 9) in the categories recorded"
        return f"{answer or NEEDS_HUMAN} — check: {note}"
    return answer or NEEDS_HUMAN


def _category_name(policy: Policy, category_id: str) -> str:
    category = policy.category(category_id)
    return category.name if category else category_id


def _subject_categories(incident: IncidentView, policy: Policy) -> str:
    recorded = incident.fields["subject_categories"]
    if recorded:
        return ", ".join(recorded)
    named = list(dict.fromkeys(s for p in policy.purposes for s in p.data_subjects))
    return NEEDS_HUMAN + (f" (the policy's purposes name: {', '.join(named)})" if named else "")


def _authority(incident: IncidentView) -> str:
    """Whom and whether: the authority's name is one record, the notification another. A notification recorded
    without the name read "Supervisory authority notified: Requires human completion", as if nobody had been told;
    a name recorded before notifying read as notified. Each part is said as the register holds it."""
    name = (incident.fields["authority"] or "").strip()
    initial = next((n for n in incident.notifications if n.kind == "initial"), None)
    if initial is None:
        state = "Not notified" if incident.fields["closed_at"] else "Not yet notified"
        return f"{state}; the authority to notify: {name or NEEDS_HUMAN}"
    when = f"{_t(initial.at)}, reference {initial.reference}"
    return f"{name} — notified {when}" if name else f"Notified {when}; the authority's name: {NEEDS_HUMAN}"


def _authorities(incident: IncidentView) -> list[tuple[str, str]]:
    f = incident.fields
    cross = f["cross_border"]
    if cross is None:
        lead = NEEDS_HUMAN
    elif cross:
        lead = _or_ask(f["lead_authority"])
    else:
        lead = "Not applicable: the processing is not cross-border"
    return [
        ("Supervisory authority notified", _authority(incident)),
        ("Cross-border processing (Art. 56)", NEEDS_HUMAN if cross is None else ("Yes" if cross else "No")),
        ("Lead supervisory authority (one-stop-shop)", lead),
        ("Other authorities informed", _or_ask(f["other_authorities"])),
        # Why the authority was not told (Art. 33(1), documented under 33(5)). It stood under Art. 34 as "Not
        # notified: rationale — not needed: the authority was notified", beside a high risk whose communication
        # to the people was still to do: a reader took it for the reason they were not told.
        ("Authority not notified: rationale (Art. 33(1))", f["not_notified_rationale"] or (
            "Not applicable: the authority was notified" if incident.first_notified else NOT_RECORDED)),
    ]  # fmt: skip


def _corrections(incident: IncidentView) -> list[tuple[str, str]]:
    """Each corrected time with every value it held: a reader sees what was recorded first."""
    rows = []
    numbers = {n.id: n.number for n in incident.notifications}
    keys = list(dict.fromkeys((e.name, e.notification_id) for e in incident.history))
    for name, note in keys:
        entries = incident.entries(name, note)
        if len(entries) < 2:
            continue
        label = entries[0].label + (f" (notification {numbers.get(note)})" if note else "")
        values = "; then ".join(
            f"{_t(e.at)} (recorded {_t(e.recorded_at)} by {e.recorded_by}{': ' + e.reason if e.reason else ''})"
            for e in entries
        )
        rows.append((f"{label}: corrected", values))
    return rows


def _processor_told(f: dict[str, Any]) -> str:
    if f["processor_notified_at"]:
        return _t(f["processor_notified_at"])
    none = f["processor"].strip().lower() in ("", "none", "no", "n/a", "not applicable")
    return "Not applicable" if none and f["processor"].strip() else NEEDS_HUMAN


def _delay(f: dict[str, Any], status: clock.ClockStatus, zone: str | None) -> str:
    """Art. 33(1): a notification made after 72 hours is accompanied by the reasons for the delay. Past the
    deadline the recorded reasons, or a marked gap for the DPO; before it, why none are needed (yet)."""
    reason = (f["delay_reason"] or "").strip()
    if status.state in LATE:
        missing = (
            f"{NEEDS_HUMAN}: the notification is later than 72 hours after awareness; Art. 33(1) requires the "
            "reasons for the delay (record them: Incidents page, Reasons for delay…, or breach update --delay-reason)"
        )
        return reason or missing
    if status.state == "notified_in_time":
        return "Not needed: notified within 72 hours of awareness"
    if status.state == "running":
        assert status.deadline is not None
        return f"Not needed if notified by {_deadline(status, zone)}; after that, Art. 33(1) requires them"
    if status.state == "closed_unnotified":
        return "Not applicable: closed without notification, with the rationale for not notifying"
    return "Not yet known: no awareness is recorded, so the 72-hour deadline has not started"


def sections(
    incident: IncidentView, policy: Policy, now: datetime, zone: str | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """``zone``: the controller's time zone (None where only UTC is known); the deadline is also given there."""
    f = incident.fields
    status = incident.clock(now)
    risk = {"none": "Unlikely to result in a risk", "risk": "Risk", "high_risk": "High risk"}.get(f["risk"] or "", "")
    art34 = (
        f"Data subjects informed {_t(f['subjects_informed_at'])}"
        if f["subjects_informed_at"]
        else (f"Exempt: {EXEMPTIONS[f['art34_exemption']]} — {f['art34_reason']}" if f["art34_exemption"] else "")
    )
    discovered = f"{_or_ask(f['discovery'])} — detected {_t(f['detected_at'])}"
    return [
        (
            "Controller and DPO (Art. 33(3)(b))",
            [
                ("Controller", _or_ask(policy.controller.one_line())),
                ("Data protection officer", dpo_line(incident, policy)),
            ],
        ),
        ("Authorities", _authorities(incident)),
        (
            "Timeline (UTC)",
            [
                ("Occurred", f"{_t(f['occurred_from'])} – {_t(f['occurred_to'])}"),
                ("Detected", _t(f["detected_at"])),
                ("Investigation started", _t(f["investigation_at"])),
                ("Controller aware", f"{_t(incident.aware_anchor)} — {f['aware_reason'] or NEEDS_HUMAN}"),
                ("Contained", _t(f["contained_at"])),
                ("Deadline (aware + 72 h)", _deadline(status, zone)),
                ("Clock", status.describe()),
                *[(f"Notified ({n.kind})", f"{_t(n.at)} — reference {n.reference}") for n in incident.notifications],
                ("Closed", _t(f["closed_at"], "not closed yet")),
                *_corrections(incident),
            ],
        ),
        ("Reasons for delay (Art. 33(1))", [("", _delay(f, status, zone))]),
        (
            "The breach (Art. 33(3)(a))",
            [
                ("Nature", _or_ask(f["nature"] or f["description"])),
                ("Type of breach", ", ".join(t.capitalize() for t in f["breach_types"]) or NEEDS_HUMAN),
                ("Cause", _or_ask(f["cause"])),
                ("How and when it was discovered", discovered),
                ("Categories of data subjects", _subject_categories(incident, policy)),
                ("Data subjects (approximate)", str(f["approx_subjects"]) if f["approx_subjects"] is not None
                 else NEEDS_HUMAN),
                ("Categories of personal data", ", ".join(f["categories"]) or NEEDS_HUMAN),
                ("Records (approximate)", str(f["approx_records"]) if f["approx_records"] is not None
                 else NEEDS_HUMAN),
                ("Special categories (Art. 9) or criminal data (Art. 10)", _special(incident, policy)),
            ],
        ),
        (
            "Processor involvement (Art. 33(2))",
            [
                ("Processor", _or_ask(f["processor"])),
                ("Processor notified the controller", _processor_told(f)),
            ],
        ),
        ("Likely consequences (Art. 33(3)(c))", [("", _or_ask(f["consequences"]))]),
        ("Measures taken or proposed (Art. 33(3)(d))", [("", _or_ask(f["measures"]))]),
        (
            "Risk and communication to data subjects (Art. 34)",
            [
                ("Risk assessment", f"{risk} — {f['risk_reason']}" if risk else NEEDS_HUMAN),
                ("Art. 34", art34 or ("Not required at this risk level" if f["risk"] in ("none", "risk") else
                                      NEEDS_HUMAN)),
            ],
        ),
    ]  # fmt: skip


def _title(incident: IncidentView) -> str:
    return f"Personal data breach notification draft — incident {incident.id}: {incident.fields['title']}"


def markdown(incident: IncidentView, policy: Policy, now: datetime, stamp: str, zone: str | None = None) -> str:
    lines = [
        f"# {_title(incident)}",
        "",
        f"Drafted {utc_text(now)} under policy {stamp}. Figures marked "
        "approximate are estimates, as Art. 33(3)(a) allows; Art. 33(4) lets information follow in phases.",
        "",
    ]
    for heading, rows in sections(incident, policy, now, zone):
        lines += [f"## {heading}", ""]
        lines += [f"- **{key}:** {value}" if key else value for key, value in rows]
        lines.append("")
    return "\n".join(lines)


def write(
    incident: IncidentView, policy: Policy, now: datetime, stamp: str, out_dir: Path, zone: str | None = None
) -> list[Path]:
    def write_pdf(path: Path) -> None:
        from app.documents.pdf import ExportPdf  # fpdf2 costs ~0.3 s to import: only when a PDF is written

        pdf = ExportPdf(_title(incident), [f"Policy {stamp}", f"Drafted {utc_text(now)}"], landscape=False)
        pdf.heading(_title(incident), 1)
        for heading, rows in sections(incident, policy, now, zone):
            pdf.heading(heading)
            pdf.key_values([(key or " ", value) for key, value in rows])
        pdf.save(path)

    text = markdown(incident, policy, now, stamp, zone)
    return write_markdown_and_pdf(out_dir, f"incident-{incident.id}-notification", text, write_pdf)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
