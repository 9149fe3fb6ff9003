"""One incident as an Art. 33(3) notification draft, in Markdown and PDF, for the DPO to complete and send."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from app.exports.pdf import ExportPdf
from app.incidents import clock
from app.incidents.register import EXEMPTIONS, IncidentView
from app.policy.model import NEEDS_HUMAN, Policy


def _t(moment: datetime | None) -> str:
    return clock.utc_text(moment) if moment else "—"


def _or_ask(text: str | None) -> str:
    return text.strip() if text and text.strip() else NEEDS_HUMAN


def sections(incident: IncidentView, policy: Policy, now: datetime) -> list[tuple[str, list[tuple[str, str]]]]:
    f = incident.fields
    status = incident.clock(now)
    risk = {"none": "Unlikely to result in a risk", "risk": "Risk", "high_risk": "High risk"}.get(f["risk"] or "", "")
    art34 = (
        f"Data subjects informed {_t(f['subjects_informed_at'])}"
        if f["subjects_informed_at"]
        else (f"Exempt: {EXEMPTIONS[f['art34_exemption']]} — {f['art34_reason']}" if f["art34_exemption"] else "")
    )
    return [
        (
            "Controller and DPO (Art. 33(3)(b))",
            [
                ("Controller", _or_ask(policy.controller.one_line())),
                ("Data protection officer", _or_ask(f["dpo_contact"] or policy.dpo.one_line())),
            ],
        ),
        (
            "Timeline (UTC)",
            [
                ("Occurred", f"{_t(f['occurred_from'])} – {_t(f['occurred_to'])}"),
                ("Detected", _t(f["detected_at"])),
                ("Investigation started", _t(f["investigation_at"])),
                ("Controller aware", f"{_t(f['aware_at'])} — {f['aware_reason'] or NEEDS_HUMAN}"),
                ("Contained", _t(f["contained_at"])),
                ("Deadline (aware + 72 h)", _t(status.deadline)),
                ("Clock", status.describe()),
                *[(f"Notified ({n.kind})", f"{_t(n.at)} — reference {n.reference}") for n in incident.notifications],
                ("Closed", _t(f["closed_at"])),
            ],
        ),
        (
            "The breach (Art. 33(3)(a))",
            [
                ("Nature", _or_ask(f["nature"] or f["description"])),
                ("Categories of personal data", ", ".join(f["categories"]) or NEEDS_HUMAN),
                ("Data subjects (approximate)", str(f["approx_subjects"]) if f["approx_subjects"] is not None
                 else NEEDS_HUMAN),
                ("Records (approximate)", str(f["approx_records"]) if f["approx_records"] is not None
                 else NEEDS_HUMAN),
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
                ("Reasons for delay (Art. 33(1))", f["delay_reason"] or "—"),
                ("Not notified: rationale", f["not_notified_rationale"] or "—"),
            ],
        ),
    ]  # fmt: skip


def _title(incident: IncidentView) -> str:
    return f"Personal data breach notification draft — incident {incident.id}: {incident.fields['title']}"


def markdown(incident: IncidentView, policy: Policy, now: datetime, stamp: str) -> str:
    lines = [
        f"# {_title(incident)}",
        "",
        f"Drafted {clock.utc_text(now)} under policy {stamp}. Figures marked "
        "approximate are estimates, as Art. 33(3)(a) allows; Art. 33(4) lets information follow in phases.",
        "",
    ]
    for heading, rows in sections(incident, policy, now):
        lines += [f"## {heading}", ""]
        lines += [f"- **{key}:** {value}" if key else value for key, value in rows]
        lines.append("")
    return "\n".join(lines)


def write(incident: IncidentView, policy: Policy, now: datetime, stamp: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / f"incident-{incident.id}-notification.md"
    md_path.write_text(markdown(incident, policy, now, stamp), encoding="utf-8")
    pdf = ExportPdf(_title(incident), [f"Policy {stamp}", f"Drafted {clock.utc_text(now)}"], landscape=False)
    pdf.heading(_title(incident), 1)
    for heading, rows in sections(incident, policy, now):
        pdf.heading(heading)
        pdf.key_values([(key or " ", value) for key, value in rows])
    pdf_path = pdf.save(out_dir / f"incident-{incident.id}-notification.pdf")
    return [md_path, pdf_path]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
