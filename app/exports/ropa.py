"""The Art. 30 records of processing: the controller record (30(1)) and the processor record (30(2)).

One row per purpose × data category it uses (CNIL asks for retention per category; EDPB CEF 2025 for the
justification with it). Column headers use the ICO template's wording where the ICO has the column
(docs: gdpr-requirements.md §2.2 and §2.6). Cells come from the policy in force and from live facts; a cell that
needs a person and has nothing says "Requires human completion", never blank, so a reviewer sees every gap.

Each record carries the policy version it was built from and a SHA-256 of its own canonical JSON content, so a
copy handed to a supervisory authority can be checked against the audit trail entry of the export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.audit.trail import canonical, iso_utc
from app.exports.facts import LiveFacts
from app.policy.adequacy import ADEQUATE as _ADEQUATE
from app.policy.adequacy import EEA as _EEA
from app.policy.model import (
    ART9_CONDITIONS,
    LAWFUL_BASES,
    NEEDS_HUMAN,
    RECIPIENT_KINDS,
    RIGHTS_BY_BASIS,
    AttributeRule,
    Contact,
    DataCategory,
    Policy,
    Purpose,
    Recipient,
)
from app.policy.versions import PolicyRecord

FORMAT_VERSION = 1
RETENTION_EVIDENCE_MAX_AGE = timedelta(days=7)  # an hourly job silent for a week is not enforcing anything
NOT_APPLICABLE_NONE = "Not applicable (none declared in the policy)"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    gdpr: str = ""  # the Art. 30 point it answers, e.g. "30(1)(b)"
    ico: str = ""  # the ICO template column(s) it carries, e.g. "2" or "24, 25"


# §2.6 of the requirements: 26 columns, ICO wording where one exists (combined ICO columns joined by " / ").
CONTROLLER_COLUMNS: tuple[Column, ...] = (
    Column("activity", "Processing activity ID / name"),
    Column("business_function", "Business function", "", "1"),
    Column("purpose", "Purpose of processing", "30(1)(b)", "2"),
    Column("joint_controller", "Name and contact details of joint controller (if applicable)", "30(1)(a)", "3"),
    Column("software", "Software / application (SCIM target system)"),
    Column("individuals", "Categories of individuals", "30(1)(c)", "4"),
    Column("personal_data", "Categories of personal data", "30(1)(c)", "5"),
    Column("art9", "Article 9 condition for processing special category data", "30(1)(c)", "13"),
    Column("recipients", "Categories of recipients", "30(1)(d)", "6"),
    Column("processor_contract", "Link to contract with processor", "30(1)(d)", "7"),
    Column(
        "third_countries",
        "Names of third countries or international organisations that personal data are transferred to (if applicable)",
        "30(1)(e)",
        "8",
    ),
    Column(
        "transfer_safeguards",
        "Safeguards for exceptional transfers of personal data to third countries or international organisations "
        "(if applicable)",
        "30(1)(e)",
        "9",
    ),
    Column("retention", "Retention schedule (if possible)", "30(1)(f)", "10"),
    Column(
        "security",
        "General description of technical and organisational security measures (if possible)",
        "30(1)(g)",
        "11",
    ),
    Column("lawful_basis", "Article 6 lawful basis for processing personal data", "", "12"),
    Column(
        "legitimate_interests",
        "Legitimate interests for the processing (if applicable) / "
        "Link to record of legitimate interests assessment (if applicable)",
        "",
        "14, 15",
    ),
    Column("rights", "Rights available to individuals", "", "16"),
    Column("automated", "Existence of automated decision-making, including profiling (if applicable)", "", "17"),
    Column("source", "The source of the personal data (if applicable)", "", "18"),
    Column("consent", "Link to record of consent", "", "19"),
    Column("location", "Location of personal data", "", "20"),
    Column(
        "dpia",
        "Data Protection Impact Assessment required? / Data Protection Impact Assessment progress / "
        "Link to Data Protection Impact Assessment",
        "",
        "21, 22, 23",
    ),
    Column("breach", "Has a personal data breach occurred? / Link to record of personal data breach", "", "24, 25"),
    Column("retention_policy", "Link to retention and erasure policy document", "", "28"),
    Column(
        "adherence",
        "Is personal data retained and erased in accordance with the policy document? / "
        "Reasons for not adhering to policy document (if applicable)",
        "",
        "29, 30",
    ),
    Column("record", "Record created / last updated / version hash"),
)

PROCESSOR_COLUMNS: tuple[Column, ...] = (
    Column("activity", "Processing activity ID / name"),
    Column("controller", "Name and contact details of each controller on whose behalf the processor acts", "30(2)(a)"),
    Column("controller_representative", "Controller's representative (if applicable)", "30(2)(a)"),
    Column("controller_dpo", "Controller's data protection officer", "30(2)(a)"),
    Column("processing", "Categories of processing carried out on behalf of the controller", "30(2)(b)"),
    # The ICO publishes no processor template; these reuse its controller wording for the same content.
    Column("third_countries", CONTROLLER_COLUMNS[10].header, "30(2)(c)"),
    Column("transfer_safeguards", CONTROLLER_COLUMNS[11].header, "30(2)(c)"),
    Column("security", CONTROLLER_COLUMNS[13].header, "30(2)(d)"),
    Column("record", "Record created / last updated / version hash"),
)

CONTACT_FIELDS = ("Name", "Address", "Email", "Telephone")


@dataclass(frozen=True)
class ContactEntry:
    role: str
    name: str
    address: str
    email: str
    telephone: str

    def cells(self) -> tuple[str, str, str, str]:
        return self.name, self.address, self.email, self.telephone


@dataclass(frozen=True)
class Activity:
    id: str
    purpose_id: str | None
    category_id: str | None
    cells: tuple[str, ...]  # in the order of the record's columns


@dataclass(frozen=True)
class Ropa:
    record: str  # "controller" (Art. 30(1)) or "processor" (Art. 30(2))
    title: str
    generated_at: datetime
    policy_version: int
    policy_sha256: str
    policy_applied_at: datetime
    audit_head_seq: int | None
    audit_head_hash: str | None
    contacts: tuple[ContactEntry, ...]
    columns: tuple[Column, ...]
    activities: tuple[Activity, ...]
    notes: tuple[str, ...] = ()
    content_hash: str = ""

    @property
    def policy_stamp(self) -> str:
        return f"v{self.policy_version} sha256:{self.policy_sha256}"

    @property
    def article(self) -> str:
        return "30(1)" if self.record == "controller" else "30(2)"

    def cell(self, activity: Activity, key: str) -> str:
        return activity.cells[[c.key for c in self.columns].index(key)]

    def content(self) -> dict[str, Any]:
        """The record as JSON-ready data, without its hash: exactly what the hash covers."""
        return {
            "format_version": FORMAT_VERSION,
            "record": self.record,
            "article": self.article,
            "title": self.title,
            "generated_at": iso_utc(self.generated_at),
            "policy": {
                "version": self.policy_version,
                "sha256": self.policy_sha256,
                "stamp": self.policy_stamp,
                "applied_at": iso_utc(self.policy_applied_at),
            },
            "audit_checkpoint": None
            if self.audit_head_seq is None
            else {"seq": self.audit_head_seq, "chain_hash": self.audit_head_hash},
            "contacts": [
                {"role": c.role, "name": c.name, "address": c.address, "email": c.email, "telephone": c.telephone}
                for c in self.contacts
            ],
            "columns": [{"key": c.key, "header": c.header, "gdpr": c.gdpr, "ico": c.ico} for c in self.columns],
            "activities": [
                {
                    "id": a.id,
                    "purpose_id": a.purpose_id,
                    "category_id": a.category_id,
                    "cells": {column.key: value for column, value in zip(self.columns, a.cells, strict=True)},
                }
                for a in self.activities
            ],
            "notes": list(self.notes),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.content(), "content_hash": self.content_hash}


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of a record's content, ``content_hash`` removed.

    An auditor recomputes it from the JSON export with any JSON library: drop ``content_hash``, serialise, hash.
    """
    body = {key: value for key, value in content.items() if key != "content_hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def _sealed(ropa: Ropa) -> Ropa:
    return replace(ropa, content_hash=content_hash(ropa.content()))


# -- contacts ------------------------------------------------------------------------------------------------
def _contact_entry(role: str, contact: Contact, *, required: bool, absent: str = NOT_APPLICABLE_NONE) -> ContactEntry:
    """A required contact's empty fields ask for a person; an optional one left wholly empty does not apply."""
    if contact.is_empty and not required:
        return ContactEntry(role, absent, absent, absent, absent)
    fields = [value or NEEDS_HUMAN for value in (contact.name, contact.address, contact.email, contact.telephone)]
    return ContactEntry(role, *fields)


def _contact_text(contact: Contact, *, required: bool = False) -> str:
    """One line; name, address and email are what Art. 30(1)(a) "contact details" need, telephone when given."""
    if contact.is_empty and not required:
        return NOT_APPLICABLE_NONE
    parts = [contact.name or NEEDS_HUMAN, contact.address or NEEDS_HUMAN, contact.email or NEEDS_HUMAN]
    return "; ".join([*parts, contact.telephone] if contact.telephone else parts)


# -- cells of the controller record -----------------------------------------------------------------------------
def _human(value: str) -> str:
    return value or NEEDS_HUMAN


def _rules(policy: Policy, purpose: Purpose, category: DataCategory) -> list[AttributeRule]:
    return [rule for rule in policy.attributes if rule.category == category.id and purpose.id in rule.purposes]


def _recipients(policy: Policy, purpose: Purpose, rules: list[AttributeRule]) -> list[Recipient]:
    """Recipients receiving any of ``rules`` for this purpose (a recipient naming no purpose receives for all)."""
    return [
        r
        for r in policy.recipients
        if (not r.purposes or purpose.id in r.purposes) and any(r.receives(rule) for rule in rules)
    ]


def _attribute_list(rules: list[AttributeRule]) -> str:
    users = [rule.path for rule in rules if rule.resource_type == "User"]
    groups = [rule.path for rule in rules if rule.resource_type == "Group"]
    parts = []
    if users:
        parts.append("SCIM User attributes: " + ", ".join(users))
    if groups:
        parts.append("SCIM Group attributes: " + ", ".join(groups))
    return "; ".join(parts)


def _personal_data(category: DataCategory, rules: list[AttributeRule]) -> str:
    described = f"{category.name} ({category.description})" if category.description else category.name
    return f"{described}. {_attribute_list(rules)}"


def _individuals(purpose: Purpose, category: DataCategory, facts: LiveFacts) -> str:
    subjects = "; ".join(purpose.data_subjects) or NEEDS_HUMAN
    held = facts.subjects_per_category.get(category.id, 0)
    return f"{subjects} (SCIM Users; {held} currently hold data of this category)"


def _art9(policy: Policy, rules: list[AttributeRule]) -> str:
    special = [rule for rule in rules if rule.special]
    if not special:
        return "Not applicable (no special category data)"
    return "; ".join(f"{rule.path}: {ART9_CONDITIONS.get(rule.art9_condition, '') or NEEDS_HUMAN}" for rule in special)


def _software(recipients: list[Recipient], facts: LiveFacts) -> str:
    parts = ["Custos (encrypted SCIM mirror)"]
    for recipient in recipients:
        targets = [t for t in facts.targets if t.recipient_id == recipient.id]
        if targets:
            parts.extend(
                f"{t.name} ({recipient.name}{', ' + t.host if t.host else ''}{'' if t.enabled else ', disabled'})"
                for t in targets
            )
        else:
            parts.append(f"{recipient.name} (no SCIM target configured)")
    if not recipients:
        parts.append("no downstream application receives this data")
    return "; ".join(parts)


def _recipient_kinds(recipients: list[Recipient]) -> str:
    if not recipients:
        return "None: the data is held only in Custos and not disclosed to any recipient"
    return "; ".join(f"{r.name}: {RECIPIENT_KINDS.get(r.kind, r.kind)}" for r in recipients)


def _processor_contracts(recipients: list[Recipient]) -> str:
    processors = [r for r in recipients if r.kind == "processor"]
    if not processors:
        return "Not applicable (no processor receives this data)"
    return "; ".join(f"{r.name}: {_human(r.contract_link)}" for r in processors)


def _third_country(recipient: Recipient) -> bool:
    return bool(recipient.country) and recipient.country.upper() not in _EEA


def _third_countries(recipients: list[Recipient]) -> str:
    unknown = [r for r in recipients if not r.country]
    outside = [r for r in recipients if _third_country(r)]
    parts = [f"{r.country.upper()} ({r.name})" for r in outside]
    parts += [f"{r.name}: country {NEEDS_HUMAN}" for r in unknown]
    return "; ".join(parts) if parts else "None (no recipient outside the EEA)"


def _safeguards(recipients: list[Recipient]) -> str:
    outside = [r for r in recipients if _third_country(r)]
    if not outside:
        return "Not applicable (no transfer outside the EEA)"
    parts = []
    for r in outside:
        adequacy = "Adequacy decision (Art. 45)" if r.country.upper() in _ADEQUATE else ""
        parts.append(f"{r.name}: {r.transfer_safeguard or adequacy or NEEDS_HUMAN}")
    return "; ".join(parts)


def _retention(policy: Policy, category: DataCategory, rules: list[AttributeRule]) -> str:
    by_text: dict[str, list[str]] = {}
    for rule in rules:
        retention = policy.retention_of(rule)
        text = retention.describe()
        if not retention.justification:
            text += f"; justification: {NEEDS_HUMAN}"
        by_text.setdefault(text, []).append(rule.path)
    if len(by_text) == 1:
        parts = [f"{category.name}: {next(iter(by_text))}"]
    else:
        parts = [f"{', '.join(paths)}: {text}" for text, paths in by_text.items()]
    account = policy.account_retention()
    if account is None:
        parts.append("Deactivated accounts: kept until the identity provider deletes them (no limit in the policy)")
    else:
        parts.append(f"Deactivated accounts deleted from the mirror {account.describe()} after deactivation")
    parts.append("A DELETE from the identity provider erases the account at once")
    return ". ".join(parts)


def _security(policy: Policy, facts: LiveFacts) -> str:
    handling = "refused" if policy.outside_schema == "reject" else "stripped before storage"
    lines = [f"Technical: {measure}" for measure in facts.technical_measures()]
    lines.append(f"Technical: data minimisation at the SCIM endpoint: attributes outside the policy are {handling}")
    if policy.organisational_measures:
        lines += [f"Organisational: {measure}" for measure in policy.organisational_measures]
    else:
        lines.append(f"Organisational: {NEEDS_HUMAN}")
    return "\n".join(lines)


def _legitimate_interests(purpose: Purpose) -> str:
    if purpose.lawful_basis != "legitimate_interests":
        return "Not applicable (lawful basis is not legitimate interests)"
    return f"{_human(purpose.legitimate_interest)}; LIA: {_human(purpose.lia_link)}"


def _automated(purpose: Purpose) -> str:
    if not purpose.automated_decision_making:
        return "No"
    return f"Yes: {_human(purpose.automated_decision_details)}"


def _source(purpose: Purpose, facts: LiveFacts) -> str:
    if purpose.source:
        return purpose.source
    if facts.token_names:
        return f"Identity provider via SCIM 2.0 push (clients: {', '.join(facts.token_names)})"
    return NEEDS_HUMAN


def _consent(purpose: Purpose) -> str:
    if purpose.lawful_basis != "consent":
        return "Not applicable (lawful basis is not consent)"
    return _human(purpose.consent_record_link)


def _location(recipients: list[Recipient], facts: LiveFacts) -> str:
    mirror = f"Custos encrypted mirror (SQLCipher {facts.cipher.cipher_version}) on {facts.host}"
    if not recipients:
        return f"{mirror}; recipients: none"
    held = ", ".join(f"{r.name} ({r.country.upper() if r.country else 'country ' + NEEDS_HUMAN})" for r in recipients)
    return f"{mirror}; recipients: {held}"


def _dpia(purpose: Purpose) -> str:
    required = {True: "Yes", False: "No", None: NEEDS_HUMAN}[purpose.dpia.required]
    link = purpose.dpia.link or (NEEDS_HUMAN if purpose.dpia.required is not False else "none (not required)")
    return f"Required: {required}; progress: {_human(purpose.dpia.progress)}; link: {link}"


def _breach(facts: LiveFacts) -> str:
    if not facts.breaches.count:
        return "No breach recorded in Custos' register"
    refs = ", ".join(facts.breach_refs) or "see the audit trail"
    return (
        f"Yes: {facts.breaches.count} breach register event(s) in Custos, latest {facts.breaches.latest_at}; "
        f"records: {refs}"
    )


def adherence(facts: LiveFacts, now: datetime) -> str:
    """ICO columns 29/30 from evidence: is the retention job on, and has it run recently?"""
    if not facts.retention_job_enabled:
        return (
            "No — the retention job is disabled in the policy ([retention_job] enabled = false): "
            "expired data is not erased automatically"
        )
    times = [t for t in (facts.retention_runs.latest_at, facts.retention_purges.latest_at) if t]
    if not times:
        return "No — the retention job has not run on this vault yet: there is no evidence of erasure"
    last = max(times)
    ran = datetime.fromisoformat(last.replace("Z", "+00:00"))
    if now - ran > RETENTION_EVIDENCE_MAX_AGE:
        return f"No — the retention job last ran at {last}, more than {RETENTION_EVIDENCE_MAX_AGE.days} days ago"
    text = f"Yes — retention job enabled; last run {last}; {facts.retention_purges.count} purge(s) recorded"
    if facts.retention_purges.latest_at:
        text += f" (last {facts.retention_purges.latest_at})"
    if facts.policy_purges.count:
        text += f"; {facts.policy_purges.count} purge(s) of attributes dropped from the policy"
    return text


def _record_cell(record: PolicyRecord, now: datetime) -> str:
    return f"Created {iso_utc(now)}; policy in force since {iso_utc(record.applied_at)} ({record.stamp})"


def _controller_row(
    record: PolicyRecord, facts: LiveFacts, now: datetime, purpose: Purpose, category: DataCategory
) -> Activity:
    policy = record.policy
    rules = _rules(policy, purpose, category)
    recipients = _recipients(policy, purpose, rules)
    cells = {
        "activity": f"{purpose.id}/{category.id}: {purpose.name} — {category.name}",
        "business_function": _human(purpose.business_function),
        "purpose": f"{purpose.name}: {purpose.description}" if purpose.description else purpose.name,
        "joint_controller": _contact_text(policy.joint_controller),
        "software": _software(recipients, facts),
        "individuals": _individuals(purpose, category, facts),
        "personal_data": _personal_data(category, rules),
        "art9": _art9(policy, rules),
        "recipients": _recipient_kinds(recipients),
        "processor_contract": _processor_contracts(recipients),
        "third_countries": _third_countries(recipients),
        "transfer_safeguards": _safeguards(recipients),
        "retention": _retention(policy, category, rules),
        "security": _security(policy, facts),
        "lawful_basis": LAWFUL_BASES.get(purpose.lawful_basis, "") or NEEDS_HUMAN,
        "legitimate_interests": _legitimate_interests(purpose),
        "rights": "; ".join(RIGHTS_BY_BASIS.get(purpose.lawful_basis, ())) or NEEDS_HUMAN,
        "automated": _automated(purpose),
        "source": _source(purpose, facts),
        "consent": _consent(purpose),
        "location": _location(recipients, facts),
        "dpia": _dpia(purpose),
        "breach": _breach(facts),
        "retention_policy": _human(purpose.retention_policy_link),
        "adherence": adherence(facts, now),
        "record": _record_cell(record, now),
    }
    ordered = tuple(cells[column.key] or NEEDS_HUMAN for column in CONTROLLER_COLUMNS)
    return Activity(f"{purpose.id}/{category.id}", purpose.id, category.id, ordered)


def activities_of(policy: Policy) -> list[tuple[Purpose, DataCategory]]:
    """Purpose × data category pairs the policy actually uses, in the policy's order."""
    return [
        (purpose, category)
        for purpose in policy.purposes
        for category in policy.categories
        if _rules(policy, purpose, category)
    ]


def build_ropa(record: PolicyRecord, facts: LiveFacts, now: datetime) -> Ropa:
    """The controller's record of processing activities (Art. 30(1))."""
    policy = record.policy
    contacts = (
        _contact_entry("Controller", policy.controller, required=True),
        _contact_entry("Data Protection Officer", policy.dpo, required=True),
        _contact_entry("Representative", policy.representative, required=False),
        _contact_entry("Joint controller", policy.joint_controller, required=False),
    )
    rows = tuple(_controller_row(record, facts, now, p, c) for p, c in activities_of(policy))
    notes = (
        f"Generated by Custos from policy {record.stamp} and the running vault.",
        f"'{NEEDS_HUMAN}' marks information the policy does not hold: complete it before relying on the record.",
    )
    return _sealed(
        Ropa(
            record="controller",
            title=f"Record of processing activities (Art. 30(1) GDPR) — {policy.title}",
            generated_at=now,
            policy_version=record.version,
            policy_sha256=record.sha256,
            policy_applied_at=record.applied_at,
            audit_head_seq=facts.audit_head_seq,
            audit_head_hash=facts.audit_head_hash,
            contacts=contacts,
            columns=CONTROLLER_COLUMNS,
            activities=rows,
            notes=notes,
        )
    )


# -- the processor record ----------------------------------------------------------------------------------------
def _client_transfers(policy: Policy, declared: str) -> tuple[str, list[Recipient]]:
    outside = [r for r in policy.recipients if _third_country(r)]
    parts = [declared] if declared else []
    parts += [f"{r.country.upper()} ({r.name})" for r in outside]
    return ("; ".join(parts) if parts else "None (no transfer declared and no recipient outside the EEA)"), outside


def build_processor_record(record: PolicyRecord, facts: LiveFacts, now: datetime) -> Ropa:
    """The processor's record (Art. 30(2)): one row per controller on whose behalf Custos' operator acts."""
    policy = record.policy
    acting = bool(policy.clients)
    absent = NOT_APPLICABLE_NONE if acting else "Not applicable (no processing on behalf of other controllers)"
    contacts = (
        _contact_entry("Processor", policy.processor, required=acting, absent=absent),
        _contact_entry("Processor's Data Protection Officer", policy.processor_dpo, required=acting, absent=absent),
        # The policy has no field for the processor's representative: only a person can say whether one applies.
        _contact_entry("Processor's representative", Contact(), required=acting, absent=absent),
    )
    security = _security(policy, facts)
    rows = []
    for index, client in enumerate(policy.clients, start=1):
        transfers, outside = _client_transfers(policy, client.transfers)
        safeguards = [client.transfer_safeguard] if client.transfer_safeguard else []
        safeguards += [f"{r.name}: {r.transfer_safeguard or NEEDS_HUMAN}" for r in outside]
        has_transfers = bool(client.transfers or outside)
        cells = {
            "activity": f"controller-{index}: {client.contact.name or NEEDS_HUMAN}",
            "controller": _contact_text(client.contact, required=True),
            "controller_representative": _contact_text(client.representative),
            "controller_dpo": _contact_text(client.dpo, required=True),
            "processing": _human(client.processing),
            "third_countries": transfers,
            "transfer_safeguards": ("; ".join(safeguards) or NEEDS_HUMAN)
            if has_transfers
            else "Not applicable (no transfers)",
            "security": security,
            "record": _record_cell(record, now),
        }
        rows.append(Activity(f"controller-{index}", None, None, tuple(cells[c.key] for c in PROCESSOR_COLUMNS)))
    notes = [f"Generated by Custos from policy {record.stamp} and the running vault."]
    if not acting:
        notes.append(
            "The policy declares no controllers on whose behalf Custos' operator acts as processor "
            "([[processor.controllers]]): there is no processing to record under Art. 30(2)."
        )
    return _sealed(
        Ropa(
            record="processor",
            title=f"Record of processing activities (Art. 30(2) GDPR, processor) — {policy.title}",
            generated_at=now,
            policy_version=record.version,
            policy_sha256=record.sha256,
            policy_applied_at=record.applied_at,
            audit_head_seq=facts.audit_head_seq,
            audit_head_hash=facts.audit_head_hash,
            contacts=contacts,
            columns=PROCESSOR_COLUMNS,
            activities=tuple(rows),
            notes=tuple(notes),
        )
    )
