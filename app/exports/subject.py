"""The subject-access export (Art. 15) with its portable copy (Art. 20, where the person has that right): everything

Two files: ``subject-<id>.json`` (structured, machine-readable; resources/schemas/subject-export-v1.schema.json)
and ``subject-<id>.pdf`` (for the person to read). For each attribute held: its data category, the purposes and
their lawful basis, the retention, the recipients that receive it and the source; plus group memberships, the
targets holding a copy and the account's state.

Also: the recipients that receive the person's data (only those whose scope covers them, by display name), the
Art. 15(2) safeguards of each transfer to a third country, an Art. 15(1)(h) statement on automated decisions,
and the audit trail's events about the person (time, type, actor, outcome: log data is personal data too).

Nothing else about anyone else goes in (Art. 15(4)): groups are listed by name and id without their members.
The person's manager is named (the relation is the person's own employment data) where a name is held: the
name stored with the relation, or the manager's display name in the mirror. Both files are written with mode
0600: they hold personal data.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from app.audit.prune import horizon
from app.audit.tables import AuditEvent
from app.audit.trail import iso_utc
from app.core.errors import ConfigError
from app.directory import repository as repo
from app.directory.schema import ENTERPRISE_SCHEMA
from app.dsr import settings as dsr_settings
from app.dsr.about import SEALED_NOTE, requests_about
from app.dsr.deadline import DueDay, long_date, received_day
from app.exports.ropa import content_hash
from app.feed.tables import Target, TargetLink
from app.policy import scope as retention_scope
from app.policy.adequacy import TransferStatus, transfer_status
from app.policy.durations import Period
from app.policy.model import (
    ART9_CONDITIONS,
    LAWFUL_BASES,
    NEEDS_HUMAN,
    PORTABILITY,
    RECIPIENT_KINDS,
    RIGHTS_BY_BASIS,
    AttributeRule,
    Contact,
    Policy,
)
from app.policy.versions import PolicyRecord
from app.store.models import ScimResource
from app.store.vault import Vault

if TYPE_CHECKING:
    from app.documents.pdf import ExportPdf

FORMAT_VERSION = 1
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_R = ScimResource.__table__
_A = AuditEvent.__table__
_TL = TargetLink.__table__
_TG = Target.__table__
RESPONSE_NOTE = (
    "Art. 12(3) GDPR: the controller answers a request of access without undue delay and at the latest within one "
    "month of receiving it; where necessary that period may be extended by two further months, in which case the "
    "person is told within the first month, with the reasons."
)


class SubjectNotFound(ConfigError):
    """No User with that id in the mirror. The message never repeats what was typed (it may be a name or address)."""

    def __init__(self) -> None:
        super().__init__(
            "No user with that id in the mirror. Use the SCIM id Custos assigned (shown in the app and by GET /Users)."
        )


@dataclass(frozen=True)
class SubjectExport:
    document: dict[str, Any]  # the JSON export, content_hash included

    @property
    def content_hash(self) -> str:
        return str(self.document["content_hash"])


# -- reading what is held ------------------------------------------------------------------------------------
def _lowered(document: dict[str, Any]) -> dict[str, Any]:
    """Top-level attributes by their policy key: lower-cased, extension attributes prefixed with the URN."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if key == "schemas":
            continue
        if key.lower().startswith("urn:") and isinstance(value, dict):
            flat.update({f"{key.lower()}:{attr.lower()}": sub for attr, sub in value.items()})
        else:
            flat[key.lower()] = value
    return flat


def _sub_values(value: Any, sub: str) -> Any:
    def pick(item: Any) -> Any:
        if isinstance(item, dict):
            return next((v for k, v in item.items() if k.lower() == sub), None)
        return None

    if isinstance(value, list):
        return [picked for picked in (pick(item) for item in value) if picked is not None] or None
    return pick(value)


def _manager_named(conn: Connection, document: dict[str, Any]) -> dict[str, Any]:
    """The manager relation as the person can read it: the id and a name where one is held (stored with the
    relation, else the manager's display name in the mirror); nothing else about the manager (no $ref)."""
    extension = document.get(ENTERPRISE_SCHEMA)
    manager = extension.get("manager") if isinstance(extension, dict) else None
    if isinstance(extension, dict) and isinstance(manager, dict):
        named = {k: v for k, v in manager.items() if k in ("value", "displayName")}
        if not named.get("displayName") and isinstance(named.get("value"), str):
            name = conn.execute(
                select(_R.c.display_name).where(_R.c.id == named["value"], _R.c.resource_type == "User")
            ).scalar()
            if name:
                named["displayName"] = name
        extension["manager"] = named
    return document


def _contact(contact: Contact) -> dict[str, str]:
    return {
        "name": contact.name or NEEDS_HUMAN,
        "address": contact.address or NEEDS_HUMAN,
        "email": contact.email or NEEDS_HUMAN,
        "telephone": contact.telephone or NEEDS_HUMAN,
    }


CONTACT_LABELS = {"name": "name", "address": "address", "email": "e-mail", "telephone": "telephone"}


def _contact_line(contact: dict[str, str]) -> str:
    """A contact for the PDF's one line: the parts given, then the missing ones named after "Requires human
    completion", said once. Joining the four JSON fields repeated it four times on one line for an empty contact."""
    given = [value for value in contact.values() if value != NEEDS_HUMAN]
    missing = [CONTACT_LABELS.get(key, key) for key, value in contact.items() if value == NEEDS_HUMAN]
    if not missing:
        return "; ".join(given)
    if not given:
        return NEEDS_HUMAN
    return "; ".join(given) + f"; {NEEDS_HUMAN}: {', '.join(missing)}"


def _purposes(policy: Policy, rule: AttributeRule) -> list[dict[str, Any]]:
    result = []
    for purpose_id in rule.purposes:
        purpose = policy.purpose(purpose_id)
        if purpose is None:
            continue
        result.append(
            {
                "id": purpose.id,
                "name": purpose.name,
                "lawful_basis": LAWFUL_BASES.get(purpose.lawful_basis, NEEDS_HUMAN),
                "legitimate_interest": purpose.legitimate_interest or None,
            }
        )
    return result


def _source(policy: Policy, rule: AttributeRule) -> str:
    sources = [p.source for p in (policy.purpose(pid) for pid in rule.purposes) if p is not None and p.source]
    return "; ".join(dict.fromkeys(sources)) or "Identity provider via SCIM 2.0"


def _explained(policy: Policy, rule: AttributeRule, values: Any, concerned: set[str] | None = None) -> dict[str, Any]:
    """``concerned``: the recipients whose scope covers this person (None: every recipient of the rule)."""
    category = policy.category(rule.category)
    return {
        "attribute": rule.label,
        "resource": rule.resource_type,
        "values": values,
        "category": {"id": rule.category, "name": category.name if category else rule.category},
        "special_category": rule.special,
        "art9_condition": ART9_CONDITIONS.get(rule.art9_condition) if rule.special else None,
        "purposes": _purposes(policy, rule),
        "retention": policy.retention_of(rule).describe(),
        "recipients": [
            {
                "id": r.id,
                "name": r.name,
                "kind": RECIPIENT_KINDS.get(r.kind, r.kind),
                "country": r.country.upper() or None,
            }
            for r in policy.recipients_of(rule)
            if concerned is None or r.id in concerned
        ],
        "source": _source(policy, rule),
    }


def _attributes(policy: Policy, document: dict[str, Any], concerned: set[str] | None = None) -> list[dict[str, Any]]:
    flat = _lowered(document)
    covered: set[str] = set()
    entries = []
    for rule in policy.rules_for("User"):
        if rule.top not in flat:
            continue
        values = flat[rule.top] if rule.sub is None else _sub_values(flat[rule.top], rule.sub)
        covered.add(rule.top)
        if values is not None:
            entries.append(_explained(policy, rule, values, concerned))
    for key in sorted(set(flat) - covered):  # held but outside the policy in force: say so rather than hide it
        entries.append(
            {
                "attribute": key,
                "resource": "User",
                "values": flat[key],
                "category": None,
                "special_category": False,
                "art9_condition": None,
                "purposes": [],
                "retention": "Not covered by the policy in force: to be erased or added to the policy",
                "recipients": [],
                "source": "Identity provider via SCIM 2.0",
            }
        )
    return entries


NOT_NEEDED = (
    "Custos keeps no other attribute about you: the policy in force needs no other for its purposes, so any other "
    "data sent about you is not stored (data minimisation, Art. 5(1)(c))."
)


def not_recorded(policy: Policy, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's User attributes this person has no value for: held for a purpose, but no value was ever
    received (unknown, not "none"), each with its category. The subject export and the identity detail say so."""
    flat = _lowered(document)
    missing: dict[str, dict[str, Any]] = {}
    for rule in policy.rules_for("User"):
        present = flat.get(rule.top)
        values = present if rule.sub is None or present is None else _sub_values(present, rule.sub)
        if values in (None, "", []) and rule.path not in missing:
            category = policy.category(rule.category)
            missing[rule.path] = {"attribute": rule.path, "category": category.name if category else None}
    return list(missing.values())


def _absent(policy: Policy, document: dict[str, Any]) -> dict[str, Any]:
    """What is not held, and why: "not recorded" (the policy holds the attribute for a purpose, but no value was
    ever received for this person: unknown, not "none") apart from "not needed" (the policy holds no such data)."""
    return {"not_recorded": not_recorded(policy, document), "not_needed": NOT_NEEDED}


def _membership(policy: Policy) -> dict[str, Any] | None:
    rule = next((r for r in policy.rules_for("Group") if r.key == "members"), None)
    return None if rule is None else _explained(policy, rule, None)


def _targets(conn: Connection, policy: Policy, user_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(_TG.c.name, _TG.c.recipient_id, _TL.c.remote_id, _TL.c.synced_at)
        .join(_TG, _TG.c.id == _TL.c.target_id)
        .where(_TL.c.resource_id == user_id)
        .order_by(_TG.c.name)
    )
    names = {r.id: r.name for r in policy.recipients}
    return [
        {
            "target": name,
            "recipient_id": recipient,
            "recipient": names.get(recipient) or recipient,
            "id_at_target": remote,
            "last_sent": iso_utc(synced),
        }
        for name, recipient, remote, synced in rows
    ]


def _concerned(conn: Connection, policy: Policy, user_id: str) -> set[str]:
    """The recipients whose scope covers this person (app/policy/recipient_scope.py): only they receive their data."""
    from app.policy import recipient_scope as scope

    return {r.id for r in policy.recipients if scope.in_scope(conn, policy, r, user_id)}


def _transfers(policy: Policy, concerned: set[str], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Art. 15(2): each recipient in a third country that receives this person's data, with its safeguard."""
    receiving = {r["id"] for entry in entries for r in entry["recipients"]}
    transfers = []
    for recipient in policy.recipients:
        status = transfer_status(recipient.country, recipient.transfer_safeguard)
        if recipient.id not in concerned or recipient.id not in receiving or not status.third_country:
            continue
        transfers.append(
            {
                "recipient": recipient.name,
                "country": recipient.country.upper(),
                "safeguard": _safeguard(status, recipient.transfer_safeguard),
                "copy_or_reference": recipient.contract_link or None,
            }
        )
    return transfers


def _safeguard(status: TransferStatus, named: str) -> str:
    """The safeguard as the person may rely on it: the one named, an adequacy decision (with the check a partial
    one needs), or that it is missing (the same reading as ``policy validate`` and the Art. 30 record)."""
    if status.kind == "adequate":
        return "Adequacy decision of the European Commission (Art. 45)"
    if status.kind == "partial":
        return f"{named + ': ' if named else ''}partial adequacy decision (Art. 45); {status.check}"
    return named or NEEDS_HUMAN


AUTOMATED_NONE = (
    "No decision based solely on automated processing, including profiling, that produces legal effects "
    "concerning you or similarly significantly affects you (Art. 22(1) and (4)) is made with this data."
)


def _automated(policy: Policy, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Art. 15(1)(h): the existence of automated decision-making, and meaningful information about it."""
    used = {p["id"] for entry in entries for p in entry["purposes"]}
    deciding = [p for p in policy.purposes if p.id in used and p.automated_decision_making]
    if not deciding:
        return {"exists": False, "statement": AUTOMATED_NONE, "purposes": []}
    return {
        "exists": True,
        "statement": "Decisions based solely on automated processing are made for the purposes below (Art. 22).",
        "purposes": [
            {"name": p.name, "logic_and_consequences": p.automated_decision_details or NEEDS_HUMAN} for p in deciding
        ],
    }


GROUP_EVENTS_NOT_LISTED = (
    "Your joining or leaving the groups above is recorded on the audit trail under each group, not under you: "
    "those events are not listed here (ask the controller for them)."
)


def _not_listed(conn: Connection, groups: bool) -> list[str]:
    """What the trail's events about the person leave out: group events (filed under each group), and, after the
    trail's retention period pruned it, everything before its first entry held (said, not implied)."""
    pruned = horizon(conn)
    return ([GROUP_EVENTS_NOT_LISTED] if groups else []) + ([pruned.describe()] if pruned else [])


def _trail(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    """The audit trail's events naming this person (by its keyed pseudonym): when, what, who, with what outcome,
    in time order (a request's entry is written after later changes: decision 0034). Their details stay out: they
    name attributes and other people's actions, not the person's data.

    A list read that returned the person (``read_subjects``, decision 0049) disclosed their record to a client as
    much as a read by id: it is chosen as ``audit timeline --subject`` chooses it, and marked ``in_list_read``.
    Matching only the subject column left those reads out, so the export said less than the trail held."""
    from app.audit.pseudonyms import pseudonym_for
    from app.audit.query import EventFilter

    pseudonym = pseudonym_for(conn, user_id)
    if pseudonym is None:
        return []
    rows = conn.execute(
        select(_A.c.at, _A.c.kind, _A.c.actor, _A.c.outcome, _A.c.subject)
        .where(*EventFilter(subject=pseudonym).conditions())
        .order_by(_A.c.at, _A.c.seq)
    )
    return [_trail_event(row, pseudonym) for row in rows]


def _trail_event(row: Any, pseudonym: str) -> dict[str, Any]:
    at, kind, actor, outcome, subject = row
    event: dict[str, Any] = {"at": at, "type": kind, "actor": actor, "outcome": outcome}
    if subject != pseudonym:
        event["in_list_read"] = True
    return event


LIST_READ_NOTE = " (a list read that returned you)"


def _requests(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    """The person's requests in the request register (app/dsr/about.py): its records are about them too."""
    from app.audit.pseudonyms import pseudonym_for

    pseudonym = pseudonym_for(conn, user_id)
    return [] if pseudonym is None else requests_about(conn, pseudonym)


def _write_requests(pdf: ExportPdf, requests: list[dict[str, Any]]) -> None:
    pdf.heading("Your requests in our request register", 2)
    if not requests:
        pdf.paragraph("No request of yours is recorded in the register.")
        return
    pdf.grid(
        ["Request", "Rights", "Received", "Due", "State"],
        [[r["id"], ", ".join(r["rights"]), r["received_day"], r["due"], r["state"]] for r in requests],
        (1.2, 1.6, 0.8, 0.8, 0.8),
    )
    zone = requests[0]["time_zone"]
    pdf.paragraph(f"Days are counted in {zone}. {SEALED_NOTE}")


def _rights(policy: Policy, entries: list[dict[str, Any]]) -> list[str]:
    purposes = {p["id"] for entry in entries for p in entry["purposes"]}
    rights: dict[str, None] = {}
    for purpose in policy.purposes:
        if purpose.id in purposes:
            rights.update(dict.fromkeys(RIGHTS_BY_BASIS.get(purpose.lawful_basis, ())))
    rights["lodge a complaint with a supervisory authority (Art. 77)"] = None
    return list(rights)


def _articles(rights: list[str]) -> list[str]:
    """What the export answers: Art. 15 always; Art. 20 only where the person has that right (Art. 20(1)(a):
    a purpose of their data rests on consent or a contract). Read from the rights the export lists, so a policy
    resting on legitimate interests alone is not tagged "portability" while its rights leave portability out."""
    return ["15", "20"] if PORTABILITY in rights else ["15"]


def _articles_text(articles: list[str]) -> str:
    return "Art. 15 and 20 GDPR" if "20" in articles else "Art. 15 GDPR"


def _account_retention(
    conn: Connection, policy: Policy, user_id: str, stored: dict[str, Any], period: Period | None
) -> str:
    """How long this person's account is kept once deactivated: the longest period of the purposes concerning
    them (app/policy/scope.py), or why there is no limit."""
    if period is not None:
        return f"Deleted {period.describe()} after deactivation"
    purposes = retention_scope.purposes_in_scope(conn, policy, user_id, stored) or policy.purposes
    indefinite = [p for p in purposes if p.deactivated_account_retention.indefinite]
    if indefinite:
        reasons = "; ".join(f"{p.name}: {p.deactivated_account_retention.justification}" for p in indefinite)
        return f"Kept without a time limit after deactivation (declared indefinite: {reasons})"
    return "Kept until the identity provider deletes the account"


def build_subject_export(
    conn: Connection,
    record: PolicyRecord,
    user_id: str,
    now: datetime,
    received: datetime | None = None,
    answer_by: DueDay | None = None,
) -> SubjectExport:
    """The JSON document for one user, read in the caller's snapshot; SubjectNotFound when there is none.

    ``received`` is when the request arrived (None: not known, and the export says so); ``answer_by`` the due day
    the request register computed (working days, extension); default: the register's rule (Regulation 1182/71,
    working days and the public holidays of the controller's country taken from the policy), never one calendar
    month, which may end on a Sunday.
    """
    if not _SAFE_ID.match(user_id):
        raise SubjectNotFound()
    row = repo.load(conn, "User", user_id)
    if row is None:
        raise SubjectNotFound()
    policy = record.policy
    groups = repo.memberships(conn, "User", [user_id], "").get(user_id, [])
    document = _manager_named(conn, repo.to_scim(row, "", groups or None))
    stored = _manager_named(conn, json.loads(row.document))
    deactivated_at = conn.execute(select(_R.c.deactivated_at).where(_R.c.id == user_id)).scalar()
    account_period = retention_scope.account_period(conn, policy, user_id, stored)  # this person's own purposes
    concerned = _concerned(conn, policy, user_id)
    entries = _attributes(policy, stored, concerned)
    rights = _rights(policy, entries)
    subject = {
        "id": row.id,
        "resource_type": "User",
        "active": row.active,
        "deactivated_at": iso_utc(deactivated_at) if deactivated_at else None,
        "deletion_due": iso_utc(account_period.after(deactivated_at)) if deactivated_at and account_period else None,
        "created": iso_utc(row.created),
        "last_modified": iso_utc(row.modified),
        "account_retention": _account_retention(conn, policy, user_id, stored, account_period),
    }
    content: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "export": "subject-access",
        "articles": _articles(rights),
        "generated_at": iso_utc(now),
        "policy": {
            "version": record.version,
            "sha256": record.sha256,
            "stamp": record.stamp,
            "applied_at": iso_utc(record.applied_at),
        },
        "controller": _contact(policy.controller),
        "dpo": _contact(policy.dpo),
        "subject": subject,
        "data": document,
        "attributes": entries,
        "absent_data": _absent(policy, document),
        "groups": [{"id": g["value"], "display_name": g.get("display") or ""} for g in groups],
        "group_membership": _membership(policy) if groups else None,
        "held_at_targets": _targets(conn, policy, user_id),
        "transfers": _transfers(policy, concerned, entries),
        "automated_decisions": _automated(policy, entries),
        "trail_events": _trail(conn, user_id),
        "requests": _requests(conn, user_id),
        # Membership changes are on the trail under each group's pseudonym, not the member's: said, not implied.
        "trail_not_listed": _not_listed(conn, bool(groups)),
        "rights": rights,
        "response": _response(policy, received, answer_by),
    }
    return SubjectExport({**content, "content_hash": content_hash(content)})


def _response(policy: Policy, received: datetime | None, answer_by: DueDay | None) -> dict[str, Any]:
    """The request's own date (from --received or the DSR register), never the export time: without it the export
    says it is not known rather than state a date that is not true. The due day is the register's (working days,
    extension) when it has one. A person reads days on the controller's calendar with the zone named
    (``received_day``, ``answer_due_day``, ``answer_due``); ``answer_by`` stays the last instant of the due day in
    UTC, for programs (format 1)."""
    if received is None:
        empty = dict.fromkeys(("received", "received_day", "answer_by", "answer_due_day", "answer_due", "time_zone"))
        return {**empty, "note": f"The request date was not given. {RESPONSE_NOTE}"}
    due = answer_by or _deadline(policy, received)
    return {
        "received": iso_utc(received),
        "received_day": received_day(received, due.zone).isoformat(),
        "answer_by": iso_utc(due.last_instant),
        "answer_due_day": due.day.isoformat(),
        "answer_due": due.text(),
        "time_zone": due.zone,
        "note": RESPONSE_NOTE,
    }


def _deadline(policy: Policy, received: datetime) -> DueDay:
    """Without the register's deadline: the register's rule, with the controller's country from the policy."""
    return dsr_settings.from_policy(policy).answer_by(received)


def _received_text(response: dict[str, Any]) -> str:
    """``27 November 2026, Europe/Berlin``: the day the request arrived where the controller is, which the one-month
    period counts from (its UTC instant, 2026-11-26T23:00Z, named the day before)."""
    if not response.get("received_day"):
        return "not given"
    return f"{long_date(date.fromisoformat(response['received_day']))}, {response['time_zone']}"


# -- writing ---------------------------------------------------------------------------------------------------
def _private_write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


def _text(value: Any) -> str:
    if value is None:
        return "Not recorded (sent without a value)"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _short(path: str) -> str:
    """``urn:…:enterprise:2.0:User:department`` reads as ``department (enterprise extension)`` in the PDF."""
    if not path.lower().startswith("urn:"):
        return path
    name = path.rpartition(":")[2]
    return f"{name} ({'enterprise' if ':enterprise:' in path.lower() else 'schema'} extension)"


def _explanation_row(entry: dict[str, Any]) -> list[str]:
    purposes = "; ".join(f"{p['name']} ({p['lawful_basis']})" for p in entry["purposes"]) or "None in the policy"
    recipients = "; ".join(r["name"] + (f" ({r['country']})" if r["country"] else "") for r in entry["recipients"])
    category = entry["category"]["name"] if entry["category"] else "Not in the policy"
    if entry["special_category"]:
        category += f" — special category: {entry['art9_condition'] or NEEDS_HUMAN}"
    attribute = _short(entry["attribute"])
    return [attribute, _text(entry["values"]), category, purposes, entry["retention"], recipients or "None"]


def _write_absent(pdf: ExportPdf, absent: dict[str, Any]) -> None:
    """Not recorded (unknown) and not needed (not held by policy), each said as such."""
    pdf.heading("Data not held about you", 2)
    names = ", ".join(_short(entry["attribute"]) for entry in absent["not_recorded"])
    if names:
        pdf.paragraph(
            f"Not recorded: the policy holds these for a purpose, but no value was received for you: {names}."
        )
    pdf.paragraph(f"Not needed: {absent['not_needed']}")


def _write_sources(pdf: ExportPdf, attributes: list[dict[str, Any]]) -> None:
    """Art. 15(1)(g): the data come from the identity provider, not from the person; the JSON named the source of
    each attribute and the PDF, the copy a person reads, did not say where any of it came from."""
    by_source: dict[str, list[str]] = {}
    for entry in attributes:
        by_source.setdefault(entry["source"], []).append(_short(entry["attribute"]))
    pdf.heading("Where your data come from (Art. 15(1)(g))", 2)
    for source, names in by_source.items():
        pdf.paragraph(f"{source}: {', '.join(names)}.")


def _write_pdf(export: SubjectExport, path: Path) -> None:
    doc = export.document
    subject = doc["subject"]
    footer = [
        f"Subject access export for {subject['id']} · policy {doc['policy']['stamp']}",
        f"Generated {doc['generated_at']} · content SHA-256 {export.content_hash}",
    ]
    title = f"Personal data held about you ({_articles_text(doc['articles'])})"
    from app.documents.pdf import ExportPdf  # fpdf2 costs ~0.3 s to import: only when a PDF is written

    pdf = ExportPdf(title, footer)
    pdf.heading(title, 1)
    controller, dpo = doc["controller"], doc["dpo"]
    state = "active" if subject["active"] is not False else f"deactivated since {subject['deactivated_at']}"
    pdf.key_values(
        [
            ("Your account id in Custos", subject["id"]),
            ("Account state", state + (f"; deletion due {subject['deletion_due']}" if subject["deletion_due"] else "")),
            ("Account retention", subject["account_retention"]),
            ("Controller", _contact_line(controller)),
            ("Data Protection Officer", _contact_line(dpo)),
            ("Request received", _received_text(doc["response"])),
            ("Answer due", doc["response"]["answer_due"] or "within one month after the request was received"),
            ("Policy in force", doc["policy"]["stamp"]),
        ]
    )
    pdf.heading("Your data, why it is held, for how long and who receives it", 2)
    pdf.grid(
        ["Attribute", "Value", "Category", "Purposes (lawful basis)", "Retention", "Recipients"],
        [_explanation_row(entry) for entry in doc["attributes"]],
        (1.1, 1.6, 1.1, 1.7, 1.8, 1.1),
    )
    membership = [{**doc["group_membership"], "attribute": "group memberships"}] if doc["group_membership"] else []
    _write_sources(pdf, doc["attributes"] + membership)
    _write_absent(pdf, doc["absent_data"])
    if doc["groups"]:
        pdf.heading("Your group memberships", 2)
        pdf.grid(["Group", "Group id"], [[g["display_name"] or "—", g["id"]] for g in doc["groups"]], (2, 2))
        if doc["group_membership"]:
            pdf.grid(
                ["Attribute", "Value", "Category", "Purposes (lawful basis)", "Retention", "Recipients"],
                [_explanation_row({**doc["group_membership"], "values": "your membership of the groups above"})],
                (1.1, 1.6, 1.1, 1.7, 1.8, 1.1),
            )
    if doc["held_at_targets"]:
        pdf.heading("Applications Custos has sent your data to", 2)
        pdf.grid(
            ["Recipient", "Application", "Your id there", "Last sent"],
            [[t["recipient"], t["target"], t["id_at_target"], t["last_sent"]] for t in doc["held_at_targets"]],
        )
    pdf.heading("Transfers to countries outside the EEA (Art. 15(2))", 2)
    if doc["transfers"]:
        pdf.grid(
            ["Recipient", "Country", "Safeguard", "Copy or reference"],
            [[t["recipient"], t["country"], t["safeguard"], t["copy_or_reference"] or "—"] for t in doc["transfers"]],
        )
    else:
        pdf.paragraph("None: your data is not transferred outside the EEA.")
    pdf.heading("Automated decisions (Art. 15(1)(h))", 2)
    automated = doc["automated_decisions"]
    pdf.paragraph(
        automated["statement"] + "".join(f" {p['name']}: {p['logic_and_consequences']}." for p in automated["purposes"])
    )
    pdf.heading("Records of processing about you (audit trail)", 2)
    if doc["trail_events"]:
        pdf.grid(
            ["Time (UTC)", "Event", "By", "Outcome"],
            [
                [e["at"], e["type"] + (LIST_READ_NOTE if e.get("in_list_read") else ""), e["actor"], e["outcome"]]
                for e in doc["trail_events"]
            ],
            (1.3, 1.4, 1.3, 0.6),
        )
    else:
        pdf.paragraph("No event on the audit trail names you.")
    for note in doc.get("trail_not_listed", []):
        pdf.paragraph(note)
    _write_requests(pdf, doc.get("requests", []))
    pdf.heading("Your rights", 2)
    pdf.paragraph("; ".join(doc["rights"]) + ". Contact the controller or the Data Protection Officer above.")
    pdf.heading("About this export", 2)
    portable = " (Art. 20)" if "20" in doc["articles"] else ""
    pdf.paragraph(
        f"{RESPONSE_NOTE} A structured, machine-readable copy of the same data is in subject-{subject['id']}.json"
        f"{portable}. Data about other people is not included (Art. 15(4)): groups are listed without their members."
    )
    pdf.save(path)


def export_subject(
    vault: Vault,
    record: PolicyRecord,
    user_id: str,
    out_dir: Path,
    now: datetime,
    *,
    received: datetime | None = None,
    answer_by: DueDay | None = None,
) -> list[Path]:
    """Write ``subject-<id>.json`` and ``subject-<id>.pdf`` into ``out_dir``; returns their paths."""
    with vault.read_session() as session:
        export = build_subject_export(session.connection(), record, user_id, now, received, answer_by)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"subject-{user_id}.json"
    pdf_path = out_dir / f"subject-{user_id}.pdf"
    _private_write(json_path, (json.dumps(export.document, indent=2, ensure_ascii=False) + "\n").encode())
    _private_write(pdf_path, b"")  # created 0600 before any personal data is in it
    _write_pdf(export, pdf_path)
    return [json_path, pdf_path]
