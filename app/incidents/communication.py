"""The Art. 34 communication to the data subjects, in Markdown and PDF, for the DPO to complete and send.

Art. 34(2) asks for clear and plain language and at least: the nature of the breach, the DPO's name and contact
details, the likely consequences and the measures taken or proposed. Authorities also expect advice on what the
person can do (EDPB 9/2022). Each part comes from the register; a part not recorded says so rather than guessing,
and a note at the top (to remove before sending) tells the DPO whether Art. 34(1) requires the communication.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from app.core.utc import as_utc, utc_text
from app.incidents.clock import zoned_text
from app.incidents.draft import dpo_line
from app.incidents.files import write_markdown_and_pdf
from app.incidents.register import EXEMPTIONS, IncidentView
from app.policy.model import NEEDS_HUMAN, Policy

TITLE = "Information about a personal data breach that concerns you"


def _day(moment: datetime, zone: str | None) -> str:
    """A time as a person reads it: where the controller is, with its zone named, and UTC beside it (the register's
    own time). ``zone`` None: only UTC is known (or the controller is on UTC), said once. Before, the letter gave
    UTC alone ("18:00 UTC"), which a reader in Berlin had to convert to know when it happened."""
    if zone is None:
        return utc_text(moment)
    local = zoned_text(moment, zone)
    same_day = as_utc(moment).date() == moment.astimezone(ZoneInfo(zone)).date()
    utc = f"{as_utc(moment):%H:%M} UTC" if same_day else utc_text(moment)
    return f"{local} time ({utc})"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _or_ask(text: str | None, hint: str = "") -> str:
    if text and text.strip():
        return text.strip()
    return NEEDS_HUMAN + (f" ({hint})" if hint else "")


def note_for_dpo(incident: IncidentView) -> str:
    f = incident.fields
    risk = f["risk"]
    if f["art34_exemption"]:
        duty = f"An exemption is recorded ({EXEMPTIONS[f['art34_exemption']]}): check it still applies before sending."
    elif risk == "high_risk":
        duty = "The risk is assessed as high: Art. 34(1) GDPR requires this communication without undue delay."
    elif risk in ("none", "risk"):
        duty = f"The risk is assessed as '{risk}': Art. 34(1) does not require this communication; it may still help."
    else:
        duty = "The risk is not yet assessed: Art. 34(1) requires this communication if the risk is high."
    return (
        f"Draft for the data protection officer, not for sending as it is. Complete every part marked "
        f"'{NEEDS_HUMAN}', check the wording is plain, then remove this note. {duty}"
    )


def _when(incident: IncidentView, zone: str | None) -> str:
    f = incident.fields
    if f["occurred_from"] and f["occurred_to"]:
        happened = f"It happened between {_day(f['occurred_from'], zone)} and {_day(f['occurred_to'], zone)}."
    elif f["occurred_from"]:
        happened = f"It started on {_day(f['occurred_from'], zone)}."
    else:
        happened = f"When it started: {NEEDS_HUMAN}."
    return f"{happened} We discovered it on {_day(f['detected_at'], zone)}." if f["detected_at"] else happened


def _data(incident: IncidentView) -> str:
    f = incident.fields
    listed = ", ".join(f["categories"])
    text = f"The information involved: {listed}." if listed else f"The information involved: {NEEDS_HUMAN}."
    if f["special_categories"] == "yes":
        text += " This includes sensitive information that the law protects specially (special categories)."
    return text


def sections(incident: IncidentView, policy: Policy, zone: str | None = None) -> list[tuple[str, str]]:
    """(heading, plain-language paragraph) in the order a reader asks: what, about me, so what, what now, who.
    ``zone``: the controller's time zone (app/services/incidents.py controller_zone), None where only UTC is known."""
    f = incident.fields
    summary_hint = f"the notification to the authority says: {f['nature']}" if f["nature"] else ""
    controller = policy.controller.name or NEEDS_HUMAN
    return [
        ("What happened", f"{_sentence(_or_ask(f['subject_summary'], summary_hint))} {_when(incident, zone)}"),
        ("What information about you was involved", _data(incident)),
        ("What this could mean for you", _or_ask(f["consequences"])),
        ("What we have done and what we will do", _or_ask(f["measures"])),
        ("What you can do", _or_ask(f["subject_advice"])),
        (
            "Who to contact",
            f"{controller} is responsible for your data. Our data protection officer answers your questions: "
            f"{dpo_line(incident, policy)}. You also have the right to complain to a data protection supervisory "
            "authority.",
        ),
    ]


def markdown(incident: IncidentView, policy: Policy, now: datetime, stamp: str, zone: str | None = None) -> str:
    lines = [f"# {TITLE}", "", f"> {note_for_dpo(incident)}", ""]
    for heading, text in sections(incident, policy, zone):
        lines += [f"## {heading}", "", text, ""]
    lines += [f"Reference: incident {incident.id}. Drafted {utc_text(now)} under policy {stamp}.", ""]
    return "\n".join(lines)


def write(
    incident: IncidentView, policy: Policy, now: datetime, stamp: str, out_dir: Path, zone: str | None = None
) -> list[Path]:
    def write_pdf(path: Path) -> None:
        from app.documents.pdf import ExportPdf  # fpdf2 costs ~0.3 s to import: only when a PDF is written

        pdf = ExportPdf(TITLE, [f"Incident {incident.id}", f"Drafted {utc_text(now)}, policy {stamp}"],
                        landscape=False)  # fmt: skip
        pdf.heading(TITLE, 1)
        pdf.paragraph(note_for_dpo(incident))
        for heading, text in sections(incident, policy, zone):
            pdf.heading(heading)
            pdf.paragraph(text, size=10)
        pdf.save(path)

    text = markdown(incident, policy, now, stamp, zone)
    return write_markdown_and_pdf(out_dir, f"incident-{incident.id}-communication", text, write_pdf)
