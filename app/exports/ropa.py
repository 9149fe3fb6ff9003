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
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from app.audit.trail import canonical, iso_utc
from app.core.wording import counted
from app.exports.facts import RETENTION_GRACE, LiveFacts
from app.exports.own_processing import own_rows
from app.policy.adequacy import transfer_status
from app.policy.model import (
    ART9_CONDITIONS,
    LAWFUL_BASES,
    NATIONAL_LAW_CONDITIONS,
    NEEDS_HUMAN,
    RECIPIENT_KINDS,
    RIGHTS_BY_BASIS,
    AttributeRule,
    ClientController,
    Contact,
    DataCategory,
    Policy,
    ProcessorRecipient,
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


# The ICO controller template's columns A–AD, one per ICO column and in the ICO's order, so that the rows paste
# into row 10 of the ICO sheet unchanged (requirements §2.2). Custos' own columns follow, from AE on.
ICO_COLUMNS: tuple[Column, ...] = (
    Column("business_function", "Business function", "", "1"),
    Column("purpose", "Purpose of processing", "30(1)(b)", "2"),
    Column("joint_controller", "Name and contact details of joint controller (if applicable)", "30(1)(a)", "3"),
    Column("individuals", "Categories of individuals", "30(1)(c)", "4"),
    Column("personal_data", "Categories of personal data", "30(1)(c)", "5"),
    Column("recipients", "Categories of recipients", "30(1)(d)", "6"),
    Column("processor_contract", "Link to contract with processor", "28(3)", "7"),
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
    Column("lawful_basis", "Article 6 lawful basis for processing personal data", "6(1)", "12"),
    Column("art9", "Article 9 condition for processing special category data", "9(2)", "13"),
    Column("legitimate_interests", "Legitimate interests for the processing (if applicable)", "6(1)(f)", "14"),
    Column("lia", "Link to record of legitimate interests assessment (if applicable)", "", "15"),
    Column("rights", "Rights available to individuals", "", "16"),
    Column("automated", "Existence of automated decision-making, including profiling (if applicable)", "22", "17"),
    Column("source", "The source of the personal data (if applicable)", "", "18"),
    Column("consent", "Link to record of consent", "7(1)", "19"),
    Column("location", "Location of personal data", "", "20"),
    Column("dpia_required", "Data Protection Impact Assessment required?", "35", "21"),
    Column("dpia_progress", "Data Protection Impact Assessment progress", "", "22"),
    Column("dpia_link", "Link to Data Protection Impact Assessment", "", "23"),
    Column("breach", "Has a personal data breach occurred?", "33(5)", "24"),
    Column("breach_record", "Link to record of personal data breach", "", "25"),
    # Art. 9(2)(b), (g), (i), (j) apply only as Union or Member State law provides: this is where that law is named
    # (the UK's DPA 2018 Schedule 1 in the ICO's wording; e.g. § 26(3) BDSG in Germany).
    Column(
        "national_law",
        "Data Protection Act 2018 Schedule 1 Condition for processing / national-law basis (Art. 9(2)(b), (g)–(j))",
        "9(2)",
        "26",
    ),
    Column("national_law_art6", "GDPR Article 6 lawful basis for processing", "6(1)", "27"),
    Column("retention_policy", "Link to retention and erasure policy document", "", "28"),
    Column("adherence", "Is personal data retained and erased in accordance with the policy document?", "", "29"),
    Column("adherence_reasons", "Reasons for not adhering to policy document (if applicable)", "", "30"),
)

CONTROLLER_COLUMNS: tuple[Column, ...] = (
    *ICO_COLUMNS,
    Column("activity", "Processing activity ID / name"),
    Column("software", "Software / application (SCIM target system)"),
    Column("record", "Record created / last updated / version hash"),
)

PROCESSOR_COLUMNS: tuple[Column, ...] = (
    Column("activity", "Processing activity ID / name"),
    Column("controller", "Name and contact details of each controller on whose behalf the processor acts", "30(2)(a)"),
    Column("controller_representative", "Controller's representative (if applicable)", "30(2)(a)"),
    Column("controller_dpo", "Controller's data protection officer (if applicable)", "30(2)(a)"),
    Column("processing", "Categories of processing carried out on behalf of the controller", "30(2)(b)"),
    # The ICO publishes no processor template; these reuse its controller wording for the same content.
    Column("third_countries", ICO_COLUMNS[7].header, "30(2)(c)"),
    Column("transfer_safeguards", ICO_COLUMNS[8].header, "30(2)(c)"),
    Column("security", ICO_COLUMNS[10].header, "30(2)(d)"),
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
    # Finer cuts of some cells for layouts that ask for them (the CNIL form: recipients three ways, security
    # measures by kind). Derived from the same data as the cells; not part of the JSON record or its hash.
    facets: dict[str, str] = field(default_factory=dict, compare=False)


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
    return contact.record_line()


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
    users = [rule.label for rule in rules if rule.resource_type == "User"]
    groups = [rule.label for rule in rules if rule.resource_type == "Group"]
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
    scoped = facts.subjects_per_scoped_activity.get((purpose.id, category.id))
    if scoped is not None:  # a scoped purpose concerns only the Users its scope selects
        return (f"{subjects} (SCIM Users in this purpose's scope, {purpose.scope.describe()}; {_holding(scoped)} "
                "data of this category)")  # fmt: skip
    held = facts.subjects_per_category.get(category.id, 0)
    return f"{subjects} (SCIM Users; {_holding(held)} data of this category)"


def _holding(count: int) -> str:
    """The verb agrees with the count: "1 currently hold" was the ROPA's wording on the day one person held it."""
    return f"{count} currently {'holds' if count == 1 else 'hold'}"


def _art9(policy: Policy, rules: list[AttributeRule]) -> str:
    special = [rule for rule in rules if rule.special]
    if not special:
        return "Not applicable (no special category data)"
    return "; ".join(f"{rule.label}: {ART9_CONDITIONS.get(rule.art9_condition, '') or NEEDS_HUMAN}" for rule in special)


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


def _recipient_kinds(recipients: list[Recipient], facts: LiveFacts | None = None) -> str:
    if not recipients:
        return "None: the data is held only in Custos and not disclosed to any recipient"
    return "; ".join(f"{r.name}: {RECIPIENT_KINDS.get(r.kind, r.kind)}{_whom(r, facts)}" for r in recipients)


def _whom(recipient: Recipient, facts: LiveFacts | None) -> str:
    """Whom a scoped recipient receives data about, and how many people that is now (counts follow the scope)."""
    if facts is None or recipient.id not in facts.recipient_subjects:
        return ""
    count = facts.recipient_subjects[recipient.id]
    whom = "within its purposes' scope" if recipient.scope.everyone else recipient.scope.describe()
    return f" ({whom}: {counted(count, 'data subject')})"


def _processor_contracts(recipients: list[Recipient]) -> str:
    processors = [r for r in recipients if r.kind == "processor"]
    if not processors:
        return "Not applicable (no processor receives this data)"
    return "; ".join(f"{r.name}: {_human(r.contract_link)}" for r in processors)


def _third_country(recipient: Recipient) -> bool:
    return transfer_status(recipient.country, recipient.transfer_safeguard).third_country


def _third_countries(recipients: list[Recipient]) -> str:
    unknown = [r for r in recipients if not r.country]
    outside = [r for r in recipients if _third_country(r)]
    parts = [f"{r.country.upper()} ({r.name})" for r in outside]
    parts += [f"{r.name}: country {NEEDS_HUMAN}" for r in unknown]
    return "; ".join(parts) if parts else "None (no recipient outside the EEA)"


def safeguard_text(name: str, country: str, safeguard: str) -> str:
    """One recipient's Chapter V ground, as the record states it: named, adequate, or adequate-if-checked."""
    status = transfer_status(country, safeguard)
    if status.kind == "adequate":
        return f"{name}: {safeguard or 'Adequacy decision (Art. 45)'}"
    if status.kind == "partial":
        relied = safeguard or "Adequacy decision (Art. 45), partial"
        return f"{name}: {relied}; check needed: {status.check}"
    return f"{name}: {safeguard or NEEDS_HUMAN}"


def _safeguards(recipients: list[Recipient]) -> str:
    outside = [r for r in recipients if _third_country(r)]
    if not outside:
        return "Not applicable (no transfer outside the EEA)"
    return "; ".join(safeguard_text(r.name, r.country, r.transfer_safeguard) for r in outside)


def _retention(policy: Policy, purpose: Purpose, category: DataCategory, rules: list[AttributeRule]) -> str:
    """Art. 30(1)(f) for this purpose and category: the category's period per attribute, and this purpose's
    period for deactivated accounts (each subject is kept for the longest period of the purposes concerning it)."""
    by_text: dict[str, list[str]] = {}
    for rule in rules:
        retention = policy.retention_of(rule)
        text = retention.describe()
        if not retention.justification:
            text += f"; justification: {NEEDS_HUMAN}"
        by_text.setdefault(text, []).append(rule.label)
    if len(by_text) == 1:
        parts = [f"{category.name}: {next(iter(by_text))}"]
    else:
        parts = [f"{', '.join(paths)}: {text}" for text, paths in by_text.items()]
    parts.append(_account_retention(policy, purpose))
    if not policy.retention_job_enabled:  # the periods are the policy's; nothing applies them
        parts.append("The retention job is disabled in the policy: these periods are not applied automatically")
    parts.append("A DELETE from the identity provider erases the account at once")
    return ". ".join(parts)


def _account_retention(policy: Policy, purpose: Purpose) -> str:
    own = purpose.deactivated_account_retention
    others = len(policy.purposes) > 1
    shared = " (a subject concerned by several purposes is kept for the longest of their periods)" if others else ""
    if own.indefinite:
        return f"Deactivated accounts: kept without a time limit for this purpose (declared indefinite: " \
               f"{own.justification or NEEDS_HUMAN}){shared}"  # fmt: skip
    if own.period is None:
        return f"Deactivated accounts: no period set for this purpose in the policy ({NEEDS_HUMAN}): kept until " \
               "the identity provider deletes them"  # fmt: skip
    justification = f" ({own.justification})" if own.justification else ""
    return f"Deactivated accounts deleted from the mirror {own.period.describe()} after deactivation for this " \
           f"purpose{justification}{shared}"  # fmt: skip


def _security(policy: Policy, facts: LiveFacts) -> str:
    handling = "refused" if policy.outside_schema == "reject" else "stripped before storage"
    lines = [f"Technical: {measure}" for measure in facts.technical_measures()]
    lines.append(f"Technical: data minimisation at the SCIM endpoint: attributes outside the policy are {handling}")
    if policy.organisational_measures:
        lines += [f"Organisational: {measure}" for measure in policy.organisational_measures]
    else:
        lines.append(f"Organisational: {NEEDS_HUMAN}")
    return "\n".join(lines)


def _legitimate_interests(purpose: Purpose) -> tuple[str, str]:
    if purpose.lawful_basis != "legitimate_interests":
        absent = "Not applicable (lawful basis is not legitimate interests)"
        return absent, absent
    return _human(purpose.legitimate_interest), _human(purpose.lia_link)


def _automated(purpose: Purpose) -> str:
    if not purpose.automated_decision_making:
        return "No"
    return f"Yes: {_human(purpose.automated_decision_details)}"


def _source(purpose: Purpose, facts: LiveFacts) -> str:
    if purpose.source:
        return purpose.source
    if facts.token_names:
        # the clients allowed to push, not a claim that each has: one never used is said to be so
        named = ", ".join(f"{n} (never used)" if n in facts.unused_token_names else n for n in facts.token_names)
        return f"Identity provider via SCIM 2.0 push (authorised clients: {named})"
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


def _dpia(purpose: Purpose) -> tuple[str, str, str]:
    required = {True: "Yes", False: "No", None: NEEDS_HUMAN}[purpose.dpia.required]
    link = purpose.dpia.link or (NEEDS_HUMAN if purpose.dpia.required is not False else "None (not required)")
    return required, _human(purpose.dpia.progress), link


def breach_cells(facts: LiveFacts, category_names: set[str] | None = None) -> tuple[str, str]:
    """ICO columns 24 and 25, from the breach register's own records (app/incidents), not from event kinds.

    The column is per processing activity: ``category_names`` (casefolded names and ids of the row's data
    category; an empty set for Custos' own registers, which no policy category names) keeps the breaches whose
    recorded categories include it, or whose categories were not recorded. None: every breach (no row context).
    """
    every = facts.breaches
    if not every:
        dismissed = len(facts.incidents)
        recorded = counted(dismissed, "incident", grouped=False)
        extra = f" ({recorded} recorded and not established as breaches)" if dismissed else ""
        return f"No breach recorded in Custos' breach register{extra}", "Not applicable (no breach recorded)"
    breaches = every if category_names is None else tuple(b for b in every if b.concerns(category_names))
    if not breaches:
        others = "; ".join(f"incident {b.id}: {', '.join(b.categories)}" for b in every)
        return (
            "No breach recorded for this activity's data; Custos' breach register holds "
            f"{counted(len(every), 'breach', 'breaches', grouped=False)} concerning other data ({others})",
            "Not applicable (no breach recorded for this activity's data)",
        )
    notified = [b for b in breaches if b.notified_at]
    answer = (
        f"Yes: {counted(len(breaches), 'personal data breach', 'personal data breaches', grouped=False)} in Custos' "
        "breach register, "
        f"{len(notified)} notified to the supervisory authority"
    )
    unknown = sum(1 for b in breaches if not b.categories)
    if unknown and category_names is not None:  # counted here because nothing rules this activity out, not known
        answer += f" ({unknown} with no data categories recorded: counted as possibly concerning this activity)"
    records = []
    for breach in breaches:
        state = f"notified {breach.notified_at}" if breach.notified_at else "not notified"
        refs = f", reference {', '.join(breach.references)}" if breach.references else ""
        closed = f", closed {breach.closed_at}" if breach.closed_at else ", open"
        concerned = f", data: {', '.join(breach.categories)}" if breach.categories else ", categories not recorded"
        records.append(f"incident {breach.id} (aware {breach.aware_at}, {state}{refs}{closed}{concerned})")
    return answer, "Custos breach register (`custos breach show N`): " + "; ".join(records)


def adherence(facts: LiveFacts, now: datetime, category: str | None = None) -> tuple[str, str]:
    """ICO columns 29 and 30 from evidence: is the retention job on, has it run recently, and does the vault hold
    nothing past its period? ``category`` (the row's category name): data of another category kept too long does
    not make this row's answer No; an account kept past its own period does (it holds every category)."""
    if not facts.retention_job_enabled:
        return "No", (
            "The retention job is disabled in the policy ([retention_job] enabled = false): "
            "expired data is not erased automatically"
        )
    times = [t for t in (facts.retention_runs.latest_at, facts.retention_purges.latest_at) if t]
    if not times:
        return "No", "The retention job has not run on this vault yet: there is no evidence of erasure"
    last = max(times)
    ran = datetime.fromisoformat(last.replace("Z", "+00:00"))
    if now - ran > RETENTION_EVIDENCE_MAX_AGE:
        return "No", f"The retention job last ran at {last}, more than {RETENTION_EVIDENCE_MAX_AGE.days} days ago"
    overdue = facts.overdue
    if overdue and (overdue.accounts or category is None or category in overdue.categories):
        # The runs are evidence the job started; the vault says whether it erased what was due.
        kept = []
        if overdue.accounts:
            accounts = counted(overdue.accounts, "deactivated account", grouped=False)
            kept.append(f"{accounts} past {'its' if overdue.accounts == 1 else 'their'} retention period")
        holders = overdue.holders_of(category)
        if holders:  # a category's row: its own accounts and name, not every overdue category's
            named = category if category is not None else ", ".join(overdue.categories)
            kept.append(f"{counted(holders, 'deactivated account', grouped=False)} still holding data of {named} past "
                        "its retention period")
        return "No", (
            f"The vault still holds {' and '.join(kept)}, more than {counted(RETENTION_GRACE.days, 'day')} after "
            "they were due, "
            f"although the retention job last ran at {last}"
        )
    purges = counted(facts.retention_purges.count, "purge", grouped=False)
    text = f"Yes — retention job enabled; last run {last}; {purges} recorded"
    if facts.retention_purges.latest_at:
        text += f" (last {facts.retention_purges.latest_at})"
    if facts.policy_purges.count:
        text += f"; {counted(facts.policy_purges.count, 'purge', grouped=False)} of attributes dropped from the policy"
    return text, "Not applicable (adhering)"


def _national_law(purpose: Purpose, rules: list[AttributeRule]) -> tuple[str, str]:
    """ICO columns 26 and 27: the national law an Art. 9(2) condition rests on, and the Art. 6 basis with it."""
    special = [rule for rule in rules if rule.special]
    if not special:
        return "Not applicable (no special category data)", "Not applicable (no special category data)"
    needs_law = [rule for rule in special if rule.art9_condition in NATIONAL_LAW_CONDITIONS]
    law = purpose.national_law_basis or (NEEDS_HUMAN if needs_law else "Not applicable (the Art. 9 condition "
                                         "does not rest on national law)")  # fmt: skip
    return law, LAWFUL_BASES.get(purpose.lawful_basis, "") or NEEDS_HUMAN


def _record_cell(record: PolicyRecord, now: datetime) -> str:
    return f"Created {iso_utc(now)}; policy in force since {iso_utc(record.applied_at)} ({record.stamp})"


def _controller_row(
    record: PolicyRecord, facts: LiveFacts, now: datetime, purpose: Purpose, category: DataCategory
) -> Activity:
    policy = record.policy
    rules = _rules(policy, purpose, category)
    recipients = _recipients(policy, purpose, rules)
    interest, lia = _legitimate_interests(purpose)
    dpia_required, dpia_progress, dpia_link = _dpia(purpose)
    breach, breach_record = breach_cells(facts, {category.id.casefold(), category.name.strip().casefold()})
    national_law, national_law_art6 = _national_law(purpose, rules)
    adheres, reasons = adherence(facts, now, category.name)
    cells = {
        "activity": f"{purpose.id}/{category.id}: {purpose.name} — {category.name}",
        "business_function": _human(purpose.business_function),
        "purpose": f"{purpose.name}: {purpose.description}" if purpose.description else purpose.name,
        "joint_controller": _contact_text(policy.joint_controller),
        "software": _software(recipients, facts),
        "individuals": _individuals(purpose, category, facts),
        "personal_data": _personal_data(category, rules),
        "art9": _art9(policy, rules),
        "recipients": _recipient_kinds(recipients, facts),
        "processor_contract": _processor_contracts(recipients),
        "third_countries": _third_countries(recipients),
        "transfer_safeguards": _safeguards(recipients),
        "retention": _retention(policy, purpose, category, rules),
        "security": _security(policy, facts),
        "lawful_basis": LAWFUL_BASES.get(purpose.lawful_basis, "") or NEEDS_HUMAN,
        "legitimate_interests": interest,
        "lia": lia,
        "rights": "; ".join(RIGHTS_BY_BASIS.get(purpose.lawful_basis, ())) or NEEDS_HUMAN,
        "automated": _automated(purpose),
        "source": _source(purpose, facts),
        "consent": _consent(purpose),
        "location": _location(recipients, facts),
        "dpia_required": dpia_required,
        "dpia_progress": dpia_progress,
        "dpia_link": dpia_link,
        "breach": breach,
        "breach_record": breach_record,
        "national_law": national_law,
        "national_law_art6": national_law_art6,
        "retention_policy": _human(purpose.retention_policy_link),
        "adherence": adheres,
        "adherence_reasons": reasons,
        "record": _record_cell(record, now),
    }
    ordered = tuple(cells[column.key] or NEEDS_HUMAN for column in CONTROLLER_COLUMNS)
    facets = {**_recipient_facets(recipients), **_security_facets(policy, facts, recipients)}
    return Activity(f"{purpose.id}/{category.id}", purpose.id, category.id, ordered, facets)


def _recipient_facets(recipients: list[Recipient]) -> dict[str, str]:
    def names(kind: str) -> str:
        return "; ".join(r.name for r in recipients if r.kind == kind) or "None"

    return {
        "recipients_internal": names("internal"),
        "recipients_external": names("external_controller"),
        "recipients_processors": names("processor"),
    }


def _security_facets(policy: Policy, facts: LiveFacts, recipients: list[Recipient]) -> dict[str, str]:
    by_kind = facts.measures_by_kind()
    processors = [r for r in recipients if r.kind == "processor"]
    organisational = list(policy.organisational_measures) or [f"Organisational: {NEEDS_HUMAN}"]
    return {
        "security_access": "; ".join(by_kind.get("access", [])),
        "security_traceability": "; ".join(by_kind.get("traceability", [])),
        "security_software": NEEDS_HUMAN,
        "security_backup": _backup_measure(facts),
        "security_encryption": "; ".join(by_kind.get("encryption", [])),
        "security_processors": _processor_contracts(processors) if processors else "Not applicable (no processor)",
        "security_other": "; ".join(by_kind.get("other", []) + organisational),
    }


def _backup_measure(facts: LiveFacts) -> str:
    """What the trail shows of backups and their keys (decision 0067); their schedule and storage are the
    operator's to state."""
    made = facts.backups
    destroyed = facts.backup_epochs_destroyed
    recorded = (f"{counted(made.count, 'backup', grouped=False)} recorded, the last on {made.latest_at[:10]}"
                if made.count and made.latest_at else "no backup recorded")  # fmt: skip
    shredded = (f"{counted(destroyed.count, 'epoch', grouped=False)} destroyed, the last on "
                f"{destroyed.latest_at[:10]}" if destroyed.count and destroyed.latest_at
                else "no epoch destroyed yet")  # fmt: skip
    return (
        "Encrypted vault backups (`custos vault backup`, the app's Vault menu), each under a backup key epoch (a new "
        "one at least every 30 days) whose key, once destroyed, puts every backup made under it beyond use wherever "
        f"it is kept: {recorded}; {shredded}. Schedule, storage and when epochs are destroyed: {NEEDS_HUMAN}"
    )


def _own_processing_rows(record: PolicyRecord, facts: LiveFacts, now: datetime) -> tuple[Activity, ...]:
    breach, breach_record = breach_cells(facts, set())  # only breaches whose data categories are not recorded
    common = {
        "joint_controller": _contact_text(record.policy.joint_controller),
        "security": _security(record.policy, facts),
        "breach": breach,
        "breach_record": breach_record,
        "record": _record_cell(record, now),
    }
    security = _security_facets(record.policy, facts, [])
    rows = []
    for identifier, cells in own_rows(record.policy, facts, common):
        recipients = {"recipients_internal": "None", "recipients_external": cells["recipients"],
                      "recipients_processors": "None"}  # fmt: skip
        ordered = tuple(cells[column.key] or NEEDS_HUMAN for column in CONTROLLER_COLUMNS)
        rows.append(Activity(identifier, None, None, ordered, {**recipients, **security}))
    return tuple(rows)


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
    rows += _own_processing_rows(record, facts, now)
    notes = (
        f"Generated by Custos from policy {record.stamp} and the running vault.",
        f"'{NEEDS_HUMAN}' marks information the policy does not hold: complete it before relying on the record.",
        "Columns 1–30 follow the ICO controller template (columns A–AD) in its order: rows paste into it unchanged.",
        "The rows 'custos/…' are Custos' own processing: its audit trail, breach register, erasure ledger and data "
        "subject request register.",
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
def _client_recipients(policy: Policy, client: ClientController) -> list[ProcessorRecipient]:
    """The processor's own recipients that handle this client's data (all of them when the client names none)."""
    if not client.recipients:
        return list(policy.processor_recipients)
    return [r for r in policy.processor_recipients if r.id in client.recipients]


def _client_transfers(policy: Policy, client: ClientController) -> tuple[str, str]:
    """Art. 30(2)(c): transfers by the processor on the client's behalf, i.e. to the processor's own recipients
    (its sub-processors), never the controller record's recipients, plus any the client agreement declares."""
    outside = [
        r for r in _client_recipients(policy, client) if transfer_status(r.country, r.transfer_safeguard).third_country
    ]
    parts = [client.transfers] if client.transfers else []
    parts += [f"{r.country} ({r.name})" for r in outside]
    if not parts:
        return "None (no transfer declared and no recipient of the processor outside the EEA)", (
            "Not applicable (no transfers)"
        )
    safeguards = [client.transfer_safeguard] if client.transfer_safeguard else []
    safeguards += [safeguard_text(r.name, r.country, r.transfer_safeguard) for r in outside]
    return "; ".join(parts), "; ".join(safeguards) or NEEDS_HUMAN


def build_processor_record(record: PolicyRecord, facts: LiveFacts, now: datetime) -> Ropa:
    """The processor's record (Art. 30(2)): one row per controller on whose behalf Custos' operator acts."""
    policy = record.policy
    acting = bool(policy.clients)
    absent = NOT_APPLICABLE_NONE if acting else "Not applicable (no processing on behalf of other controllers)"
    contacts = (
        _contact_entry("Processor", policy.processor, required=acting, absent=absent),
        _contact_entry("Processor's Data Protection Officer", policy.processor_dpo, required=acting, absent=absent),
        # Art. 27: only a processor outside the EU needs one; an empty [processor_representative] says "none".
        _contact_entry("Processor's representative", policy.processor_representative, required=False, absent=absent),
    )
    security = _security(policy, facts)
    rows = []
    for index, client in enumerate(policy.clients, start=1):
        transfers, safeguards = _client_transfers(policy, client)
        cells = {
            "activity": f"controller-{index}: {client.contact.name or NEEDS_HUMAN}",
            "controller": _contact_text(client.contact, required=True),
            "controller_representative": _contact_text(client.representative),
            "controller_dpo": _contact_text(client.dpo),
            "processing": _human(client.processing),
            "third_countries": transfers,
            "transfer_safeguards": safeguards,
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
