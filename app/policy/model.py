"""The policy as plain, immutable data. Parsing and checking live in ``loader``; nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.policy.durations import Period

OUTSIDE_SCHEMA_MODES = ("reject", "strip")

# Article 6(1) lawful bases, keyed by the short names the policy file uses.
LAWFUL_BASES = {
    "consent": "Art. 6(1)(a) consent",
    "contract": "Art. 6(1)(b) performance of a contract",
    "legal_obligation": "Art. 6(1)(c) legal obligation",
    "vital_interests": "Art. 6(1)(d) vital interests",
    "public_task": "Art. 6(1)(e) public task",
    "legitimate_interests": "Art. 6(1)(f) legitimate interests",
}

# Article 9(2) conditions for special-category data.
ART9_CONDITIONS = {
    "explicit_consent": "Art. 9(2)(a) explicit consent",
    "employment": "Art. 9(2)(b) employment, social security and social protection law",
    "vital_interests": "Art. 9(2)(c) vital interests",
    "not_for_profit": "Art. 9(2)(d) not-for-profit body",
    "made_public": "Art. 9(2)(e) made manifestly public by the data subject",
    "legal_claims": "Art. 9(2)(f) legal claims",
    "substantial_public_interest": "Art. 9(2)(g) substantial public interest",
    "health_or_social_care": "Art. 9(2)(h) health or social care",
    "public_health": "Art. 9(2)(i) public health",
    "archiving_research": "Art. 9(2)(j) archiving, research or statistics",
}

# Art. 9(2) conditions that apply only as provided by Union or Member State law: the record names that law.
NATIONAL_LAW_CONDITIONS = frozenset(
    {"employment", "substantial_public_interest", "public_health", "archiving_research"}
)

# Custos' own processing (Art. 5(2), 24): the records it keeps about its own work, each a row of the Art. 30
# record; ``[own_processing]`` in the policy sets how long each is kept.
OWN_PROCESSING = {
    "audit_trail": "Audit trail",
    "breach_register": "Breach register",
    "erasure_ledger": "Erasure ledger",
    "dsr_register": "Data subject request register",
}

RECIPIENT_KINDS = {
    "internal": "Internal recipient",
    "external_controller": "External organisation (controller)",
    "processor": "Processor (Art. 28)",
}

# Rights available to individuals depend on the lawful basis (ICO guidance on individual rights).
_RIGHTS_COMMON = ("access (Art. 15)", "rectification (Art. 16)", "restriction (Art. 18)")
# Art. 20(1)(a): portability only where the processing rests on consent or a contract (the subject export tags
# itself Art. 20 by this same entry, so its tag and its list of rights cannot disagree).
PORTABILITY = "portability (Art. 20)"
RIGHTS_BY_BASIS = {
    "consent": (*_RIGHTS_COMMON, "erasure (Art. 17)", PORTABILITY, "withdraw consent (Art. 7(3))"),
    "contract": (*_RIGHTS_COMMON, "erasure (Art. 17)", PORTABILITY),
    "legal_obligation": _RIGHTS_COMMON,
    "vital_interests": (*_RIGHTS_COMMON, "erasure (Art. 17)"),
    "public_task": (*_RIGHTS_COMMON, "object (Art. 21)"),
    "legitimate_interests": (*_RIGHTS_COMMON, "erasure (Art. 17)", "object (Art. 21)"),
}

NEEDS_HUMAN = "Requires human completion"


@dataclass(frozen=True)
class Contact:
    name: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.address or self.email or self.telephone)

    def one_line(self) -> str:
        return "; ".join(part for part in (self.name, self.address, self.email, self.telephone) if part)

    def record_line(self, required: tuple[str, ...] = ("name", "address", "email")) -> str:
        """One cell of a record: the parts given, then the missing ``required`` ones named once after
        NEEDS_HUMAN ("…; Requires human completion: address, e-mail"). A marker per missing part repeated
        "Requires human completion" up to three times in one cell, and did not say which part was missing."""
        given = [value for value in (self.name, self.address, self.email, self.telephone) if value]
        missing = [CONTACT_PART_LABELS[part] for part in required if not getattr(self, part)]
        if not missing:
            return "; ".join(given)
        if not given:
            return NEEDS_HUMAN
        return "; ".join([*given, f"{NEEDS_HUMAN}: {', '.join(missing)}"])


CONTACT_PART_LABELS = {"name": "name", "address": "address", "email": "e-mail", "telephone": "telephone"}


@dataclass(frozen=True)
class Retention:
    """How long data is kept once its account is deactivated.

    ``period`` None means for as long as the account (a data category), or, with ``indefinite``, no time limit
    at all, which the policy must justify. A policy applied before periods were required may hold neither.
    """

    period: Period | None
    justification: str = ""
    indefinite: bool = False

    @property
    def limited(self) -> bool:
        return self.period is not None

    def describe(self) -> str:
        if self.indefinite:
            held = "Kept without a time limit (declared indefinite)"
        elif self.period is None:
            held = "Held while the account exists"
        else:
            held = f"{self.period.describe()} after deactivation"
        return f"{held}; {self.justification}" if self.justification else held


@dataclass(frozen=True)
class Dpia:
    required: bool | None = None
    progress: str = ""
    link: str = ""


@dataclass(frozen=True)
class Scope:
    """Whom a recipient (or a purpose) concerns: everyone, members of named groups (by displayName, direct
    membership), and/or the Users a SCIM filter selects. Both given: members of a group who match the filter."""

    groups: tuple[str, ...] = ()
    filter: str = ""

    @property
    def everyone(self) -> bool:
        return not self.groups and not self.filter

    def describe(self) -> str:
        if self.everyone:
            return "all users"
        parts = []
        if self.groups:
            parts.append("members of " + ", ".join(f"'{g}'" for g in self.groups))
        if self.filter:
            parts.append(f"users matching {self.filter}")
        return " who are ".join(parts) if len(parts) == 1 else f"{parts[0]} and {parts[1].replace('users ', '')}"


@dataclass(frozen=True)
class Purpose:
    id: str
    name: str
    description: str = ""
    business_function: str = ""
    lawful_basis: str = ""
    legitimate_interest: str = ""
    lia_link: str = ""
    data_subjects: tuple[str, ...] = ()
    dpia: Dpia = field(default_factory=Dpia)
    national_law_basis: str = ""  # the Member State law Art. 9(2)(b), (g), (i), (j) need, e.g. "§ 26(3) BDSG"
    automated_decision_making: bool = False
    automated_decision_details: str = ""
    source: str = ""
    consent_record_link: str = ""
    deactivated_account_retention: Retention = field(default_factory=lambda: Retention(None))
    retention_policy_link: str = ""
    scope: Scope = field(default_factory=Scope)


@dataclass(frozen=True)
class DataCategory:
    id: str
    name: str
    description: str = ""
    retention: Retention = field(default_factory=lambda: Retention(None))


@dataclass(frozen=True)
class AttributeRule:
    """One attribute that may be held. ``key`` is the canonical, lower-cased path the mirror indexes by."""

    path: str  # as written in the file, e.g. "emails.value"
    key: str  # canonical lower-cased, e.g. "emails.value" or "urn:…:enterprise:2.0:user:department"
    resource_type: str
    category: str
    purposes: tuple[str, ...]
    special: bool = False
    art9_condition: str = ""
    retention: Retention | None = None  # overrides the category's
    top: str = ""  # the top-level part of ``key`` (extension URNs contain dots, so never split ``key`` on ".")
    sub: str | None = None  # the lower-cased sub-attribute, when the rule is for one
    # A type filter on a multi-valued attribute (``types = ["work"]``): only elements of these canonical types
    # are held; () holds every type. Written as the schema spells them ("work", "mobile").
    types: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The entry as a SCIM value path, the notation the Outside-the-policy page and the IdPs use:
        ``phoneNumbers[type eq "work"].value``; the plain path when it has no type filter."""
        return typed_label(self.path, self.types)


def typed_label(path: str, types: tuple[str, ...] | list[str]) -> str:
    if not types:
        return path
    head, dot, sub = path.partition(".") if not path.lower().startswith("urn:") else (path, "", "")
    condition = " or ".join(f'type eq "{kind}"' for kind in types)
    return f"{head}[{condition}]{dot}{sub}"


@dataclass(frozen=True)
class Recipient:
    id: str
    name: str
    kind: str
    country: str = ""
    transfer_safeguard: str = ""
    contract_link: str = ""
    purposes: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()  # canonical keys of the User attributes it receives
    group_attributes: tuple[str, ...] = ()  # and of the Group attributes
    scope: Scope = field(default_factory=Scope)  # whom it receives (app/policy/recipient_scope.py evaluates it)

    def receives(self, rule: AttributeRule) -> bool:
        wanted = self.group_attributes if rule.resource_type == "Group" else self.attributes
        return (
            rule.key in wanted
            or rule.top in wanted
            or (rule.sub is None and any(k.startswith(rule.top + ".") for k in wanted))
        )


@dataclass(frozen=True)
class ClientController:
    """A controller on whose behalf Custos' operator acts as processor (Art. 30(2))."""

    contact: Contact
    representative: Contact = field(default_factory=Contact)
    dpo: Contact = field(default_factory=Contact)
    processing: str = ""
    transfers: str = ""
    transfer_safeguard: str = ""
    recipients: tuple[str, ...] = ()  # ids of the processor's own recipients handling this client's data (): all


@dataclass(frozen=True)
class ProcessorRecipient:
    """A recipient of the processor itself (a sub-processor, its hosting): the transfers of Art. 30(2)(c)."""

    id: str
    name: str
    country: str = ""
    transfer_safeguard: str = ""
    contract_link: str = ""


@dataclass(frozen=True)
class Policy:
    title: str
    outside_schema: str
    controller: Contact
    joint_controller: Contact
    representative: Contact
    dpo: Contact
    purposes: tuple[Purpose, ...]
    categories: tuple[DataCategory, ...]
    attributes: tuple[AttributeRule, ...]
    recipients: tuple[Recipient, ...]
    organisational_measures: tuple[str, ...] = ()
    processor: Contact = field(default_factory=Contact)
    processor_dpo: Contact = field(default_factory=Contact)
    processor_representative: Contact = field(default_factory=Contact)
    processor_recipients: tuple[ProcessorRecipient, ...] = ()
    clients: tuple[ClientController, ...] = ()
    retention_job_enabled: bool = True
    own_processing: tuple[tuple[str, Retention], ...] = ()  # OWN_PROCESSING key -> how long it is kept

    def own_retention(self, key: str) -> Retention | None:
        return dict(self.own_processing).get(key)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def category(self, category_id: str) -> DataCategory | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def rules_for(self, resource_type: str) -> tuple[AttributeRule, ...]:
        return tuple(rule for rule in self.attributes if rule.resource_type == resource_type)

    def retention_of(self, rule: AttributeRule) -> Retention:
        if rule.retention is not None:
            return rule.retention
        category = self.category(rule.category)
        return category.retention if category else Retention(None)

    def recipients_of(self, rule: AttributeRule) -> tuple[Recipient, ...]:
        return tuple(r for r in self.recipients if r.receives(rule))

    def account_retention(self, purposes: tuple[Purpose, ...] | None = None) -> Period | None:
        """How long a deactivated account is kept when ``purposes`` (default: all) apply to its subject.

        The longest of those purposes' periods: the account is needed until the last purpose ends. None: no
        limit (a purpose declared "indefinite", or none applies). Per subject, see ``app.policy.scope``.
        """
        periods = [p.deactivated_account_retention.period for p in (self.purposes if purposes is None else purposes)]
        if not periods or any(period is None for period in periods):
            return None
        return max((p for p in periods if p is not None), key=Period.approx_days)
