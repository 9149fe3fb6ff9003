"""Reading a policy file: TOML text in, a checked ``Policy`` out, or every problem with its line.

The checks are those an auditor would make by hand: every attribute is a real SCIM attribute with a data
category and at least one purpose; every purpose has an Art. 6 basis (and its legitimate interest when it is
Art. 6(1)(f)); special-category data names its Art. 9 condition; retention periods parse; references between
sections resolve. Problems are collected, not raised one at a time, so an operator fixes them in one pass.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import PolicyInvalid
from app.policy.adequacy import transfer_status
from app.policy.durations import Period
from app.policy.keys import unknown_keys
from app.policy.locate import LineLocator
from app.policy.model import (
    ART9_CONDITIONS,
    LAWFUL_BASES,
    NATIONAL_LAW_CONDITIONS,
    OUTSIDE_SCHEMA_MODES,
    OWN_PROCESSING,
    RECIPIENT_KINDS,
    AttributeRule,
    ClientController,
    Contact,
    DataCategory,
    Dpia,
    Policy,
    ProcessorRecipient,
    Purpose,
    Recipient,
    Retention,
    Scope,
)
from app.policy.paths import NOT_HOLDABLE, resolve_path, split_path
from app.policy.type_filter import canonical_types, filterable_attributes

SUPPORTED_FORMAT = 1
RESOURCE_TYPES = ("User", "Group")


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str
    warning: bool = False  # warnings do not stop a policy from being applied
    # A check added after policies were already applied: it refuses a new version, but a version already in a
    # vault (applied under the older rules) still loads, so an upgrade never stops a running Custos.
    tightened: bool = field(default=False, compare=False)

    def render(self, source: str) -> str:
        return f"{source}:{self.line}: {'warning' if self.warning else 'error'}: {self.message}"


@dataclass
class _Reader:
    locator: LineLocator
    problems: list[Problem] = field(default_factory=list)

    def problem(
        self, where: tuple[str | int, ...], message: str, warning: bool = False, tightened: bool = False
    ) -> None:
        self.problems.append(Problem(self.locator.line(*where), message, warning, tightened))

    def text(
        self,
        table: dict[str, Any],
        key: str,
        where: tuple[str | int, ...],
        required: bool = False,
        wanted: bool = False,
    ) -> str:
        """``required``: an error when empty; ``wanted``: a warning (the Art. 30 record will ask a human)."""
        value = table.get(key, "")
        if not isinstance(value, str):
            self.problem((*where, key), f"'{key}' must be text")
            return ""
        self._no_controls(value, key, where)
        if (required or wanted) and not value.strip():
            label = ".".join(str(part) for part in where if isinstance(part, str))
            message = f"'{key}' is required" if required else f"'{label}.{key}' is empty: the records will ask for it"
            self.problem((*where, key) if key in table else where, message, warning=not required)
        return value.strip()

    def flag(self, table: dict[str, Any], key: str, where: tuple[str | int, ...]) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.problem((*where, key), f"'{key}' must be true or false")
            return False
        return value

    def texts(self, table: dict[str, Any], key: str, where: tuple[str | int, ...]) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem((*where, key), f"'{key}' must be a list of text")
            return ()
        for item in value:
            self._no_controls(item, key, where)
        return tuple(item.strip() for item in value)

    def _no_controls(self, value: str, key: str, where: tuple[str | int, ...]) -> None:
        """Policy text goes into the Art. 30 record (XLSX, ODS, PDF), the subject export and the trail: a control
        character written as an escape (``"\\u001b"``) made the XLSX record end in a traceback and reached
        terminals as a live ESC sequence. Line breaks and tabs are text; the others are a mistake to say."""
        found = next((ch for ch in value if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc"), None)
        if found is not None:
            message = f"'{key}' holds the control character U+{ord(found):04X}; remove it"
            self.problem((*where, key), message, tightened=True)  # a version stored before still loads and exports

    def tables(self, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem((key,), f"'{key}' must be written as [[{key}]] tables")
            return []
        return value

    def retention(
        self,
        raw: Any,
        where: tuple[str | int, ...],
        key: str = "retention",
        *,
        required: str = "",
        account_allowed: bool = True,
    ) -> Retention | None:
        """``retention = "P30D"`` or ``{ period = "P30D", justification = "…" }``.

        ``"account"``: while the account exists (where ``account_allowed``); ``"indefinite"``: no time limit, which
        must say why. ``required`` names what is kept, for the error when the key is missing: a missing period
        used to mean "kept for ever" with no warning (Art. 5(1)(e)).
        """
        if raw is None:
            if required:
                choices = '"P30D"' + (', "account"' if account_allowed else "")
                self.problem(
                    where,
                    f"'{key}' is required: how long {required} is kept ({choices}, or \"indefinite\" "
                    "with a justification)",
                    tightened=True,
                )
            return None
        if isinstance(raw, str):
            raw = {"period": raw}
        if not isinstance(raw, dict):
            self.problem((*where, key), f"'{key}' must be a period or a table with 'period' and 'justification'")
            return None
        period_text = raw.get("period", "account" if account_allowed else "")
        justification = raw.get("justification", "")
        if not isinstance(justification, str):
            self.problem((*where, key), f"'{key}.justification' must be text")
            justification = ""
        justification = justification.strip()
        if not isinstance(period_text, str):
            self.problem((*where, key), f'\'{key}.period\' must be text such as "P30D" or "indefinite"')
            return None
        word = period_text.strip().lower()
        if word == "indefinite":
            if not justification:
                self.problem(
                    (*where, key), f"'{key}' is \"indefinite\": it needs a 'justification' (why no limit can be set)",
                    tightened=True,
                )
            return Retention(None, justification, indefinite=True)
        if word == "account" and account_allowed:
            return Retention(None, justification)
        if word in ("account", ""):
            self.problem(
                (*where, key),
                f"'{key}' needs a period such as \"P30D\" (or \"indefinite\" with a justification): "
                "a deactivated account cannot be kept 'while the account exists'",
                tightened=True,
            )
            return None
        try:
            period = Period.parse(period_text)
        except ValueError as exc:
            self.problem((*where, key), f"'{key}.period': {exc}")
            return None
        if not justification:
            self.problem((*where, key), f"'{key}' needs a 'justification' (the legal or business reason)")
        return Retention(period, justification)


def _contact(reader: _Reader, document: dict[str, Any], key: str, wanted: bool = False) -> Contact:
    raw = document.get(key)
    if raw is None:
        if wanted:
            reader.problem((key,), f"[{key}] is missing: the Art. 30 record needs name, address and email")
        return Contact()
    if not isinstance(raw, dict):
        reader.problem((key,), f"[{key}] must be a table")
        return Contact()
    where = (key,)
    return Contact(
        name=reader.text(raw, "name", where, wanted=wanted),
        address=reader.text(raw, "address", where, wanted=wanted),
        email=reader.text(raw, "email", where, wanted=wanted),
        telephone=reader.text(raw, "telephone", where),
    )


def _unique_ids(reader: _Reader, section: str, tables: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for index, table in enumerate(tables):
        identifier = table.get("id")
        if not isinstance(identifier, str) or not identifier.strip():
            reader.problem((section, index), f"each [[{section}]] needs an 'id'")
        elif identifier in seen:
            reader.problem((section, index, "id"), f"duplicate {section} id '{identifier}'")
        else:
            seen.add(identifier)


def _purposes(reader: _Reader, document: dict[str, Any]) -> tuple[Purpose, ...]:
    tables = reader.tables(document, "purposes")
    if not tables:
        reader.problem(("purposes",), "at least one [[purposes]] is required")
    _unique_ids(reader, "purposes", tables)
    purposes = []
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("purposes", index)
        basis = reader.text(raw, "lawful_basis", where, required=True)
        if basis and basis not in LAWFUL_BASES:
            reader.problem((*where, "lawful_basis"), f"lawful_basis must be one of {', '.join(LAWFUL_BASES)}")
        interest = reader.text(raw, "legitimate_interest", where)
        if basis == "legitimate_interests" and not interest:
            reader.problem((*where, "lawful_basis"), "Art. 6(1)(f) needs 'legitimate_interest' describing it")
        subjects = reader.texts(raw, "data_subjects", where)
        if not subjects:
            reader.problem(
                (*where, "data_subjects") if "data_subjects" in raw else where, "'data_subjects' is required"
            )
        dpia_raw = raw.get("dpia", {})
        if not isinstance(dpia_raw, dict):
            reader.problem((*where, "dpia"), "'dpia' must be a table: { required = …, progress = …, link = … }")
            dpia_raw = {}
        required = dpia_raw.get("required")
        if required is not None and not isinstance(required, bool):
            reader.problem((*where, "dpia"), "'dpia.required' must be true or false")
            required = None
        _basis_warnings(reader, where, basis, subjects)
        account = reader.retention(
            raw.get("deactivated_account_retention"),
            where,
            "deactivated_account_retention",
            required="a deactivated account",
            account_allowed=False,
        )
        purposes.append(
            Purpose(
                id=str(raw.get("id", "")),
                name=reader.text(raw, "name", where, required=True),
                description=reader.text(raw, "description", where),
                business_function=reader.text(raw, "business_function", where),
                lawful_basis=basis,
                legitimate_interest=interest,
                lia_link=reader.text(raw, "lia_link", where),
                data_subjects=subjects,
                dpia=Dpia(required, str(dpia_raw.get("progress", "")), str(dpia_raw.get("link", ""))),
                national_law_basis=reader.text(raw, "national_law_basis", where),
                automated_decision_making=reader.flag(raw, "automated_decision_making", where),
                automated_decision_details=reader.text(raw, "automated_decision_details", where),
                source=reader.text(raw, "source", where),
                consent_record_link=reader.text(raw, "consent_record_link", where),
                deactivated_account_retention=account or Retention(None),
                retention_policy_link=reader.text(raw, "retention_policy_link", where),
                scope=_scope(reader, raw, where),
            )
        )
    return tuple(purposes)


def _categories(reader: _Reader, document: dict[str, Any]) -> tuple[DataCategory, ...]:
    tables = reader.tables(document, "categories")
    _unique_ids(reader, "categories", tables)
    categories = []
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("categories", index)
        categories.append(
            DataCategory(
                id=str(raw.get("id", "")),
                name=reader.text(raw, "name", where, required=True),
                description=reader.text(raw, "description", where),
                retention=reader.retention(raw.get("retention"), where, required="this category")
                or Retention(None),
            )
        )
    return tuple(categories)


_EMPLOYEES = ("employee", "staff", "worker", "personnel", "beschäftigte", "mitarbeiter", "salarié")
_CONTRACTORS = ("contractor", "freelance", "consultant", "self-employed")


def _basis_warnings(reader: _Reader, where: tuple[str | int, ...], basis: str, subjects: tuple[str, ...]) -> None:
    """Bases the EDPB warns about for these data subjects: warnings, since a lawyer may have reasons."""
    lowered = [subject.lower() for subject in subjects]
    if basis == "consent" and any(word in s for s in lowered for word in _EMPLOYEES):
        reader.problem(
            (*where, "lawful_basis"),
            "consent is rarely freely given by employees, given the imbalance of power (EDPB Guidelines 05/2020 "
            "on consent, §21-22): prefer contract, legal obligation or legitimate interests",
            warning=True,
        )
    if basis == "contract" and any(word in s for s in lowered for word in _CONTRACTORS):
        reader.problem(
            (*where, "lawful_basis"),
            "Art. 6(1)(b) covers only what is objectively necessary to perform a contract with the data subject "
            "(EDPB Guidelines 2/2019): a contractor engaged through their company is not party to that contract; "
            "check the basis for them",
            warning=True,
        )


def _attributes(
    reader: _Reader, document: dict[str, Any], purposes: set[str], categories: set[str]
) -> tuple[AttributeRule, ...]:
    tables = reader.tables(document, "attributes")
    rules: list[AttributeRule] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("attributes", index)
        path = reader.text(raw, "path", where, required=True)
        resource_type = reader.text(raw, "resource", where) or "User"
        if resource_type not in RESOURCE_TYPES:
            reader.problem((*where, "resource"), f"'resource' must be User or Group, not '{resource_type}'")
            continue
        if not path:
            continue
        _, attr, _ = split_path(path)
        if attr.lower() in NOT_HOLDABLE:
            reader.problem((*where, "path"), f"'{path}' cannot be in the catalogue: {NOT_HOLDABLE[attr.lower()]}")
            continue
        resolved = resolve_path(resource_type, path)
        if resolved is None:
            reader.problem((*where, "path"), f"'{path}' is not an attribute of the SCIM {resource_type} schema")
            continue
        key = resolved.index_path
        if (resource_type, key) in seen:
            kinds = canonical_types(resource_type, resolved.top.name)
            example = ", ".join(f'"{kind}"' for kind in kinds[:2])
            hint = f" (to hold several types, name them in one entry: types = [{example}])" if (
                "types" in raw and len(kinds) > 1
            ) else ""
            reader.problem(
                (*where, "path"), f"'{path}' is listed twice (first at entry {seen[(resource_type, key)] + 1}){hint}"
            )
            continue
        seen[(resource_type, key)] = index
        category = reader.text(raw, "category", where, required=True)
        if category and category not in categories:
            reader.problem((*where, "category"), f"category '{category}' is not declared in [[categories]]")
        used_for = reader.texts(raw, "purposes", where)
        if not used_for:
            reader.problem((*where, "purposes") if "purposes" in raw else where, f"'{path}' names no purpose")
        for purpose in used_for:
            if purpose not in purposes:
                reader.problem((*where, "purposes"), f"purpose '{purpose}' is not declared in [[purposes]]")
        special = reader.flag(raw, "special_category", where)
        condition = reader.text(raw, "art9_condition", where)
        if special and condition not in ART9_CONDITIONS:
            reader.problem(
                (*where, "art9_condition") if "art9_condition" in raw else (*where, "special_category"),
                f"special-category data needs an art9_condition: one of {', '.join(ART9_CONDITIONS)}",
            )
        if condition and not special:
            reader.problem((*where, "art9_condition"), "art9_condition is set but special_category is not true")
        rules.append(
            AttributeRule(
                path=path,
                key=key,
                resource_type=resource_type,
                category=category,
                purposes=used_for,
                special=special,
                art9_condition=condition,
                retention=reader.retention(raw.get("retention"), where),
                top=resolved.prefix + resolved.top.name.lower(),
                sub=resolved.sub_name,
                types=_types(reader, raw, where, resource_type, resolved.top.name) if "types" in raw else (),
            )
        )
    _overlaps(reader, rules, seen)
    if not any(r.resource_type == "User" and r.key == "username" for r in rules):
        reader.problem(("attributes",), "'userName' must be in the catalogue: SCIM requires it for every User")
    if any(r.resource_type == "Group" for r in rules) and not any(
        r.resource_type == "Group" and r.key == "displayname" for r in rules
    ):
        reader.problem(("attributes",), "Group attributes are listed but not 'displayName', which SCIM requires")
    return tuple(rules)


def _types(
    reader: _Reader, raw: dict[str, Any], where: tuple[str | int, ...], resource_type: str, attribute: str
) -> tuple[str, ...]:
    """``types = ["work"]``: only elements of these canonical types are held (app/policy/type_filter.py)."""
    at = (*where, "types")
    canonical = canonical_types(resource_type, attribute)
    if not canonical:
        reader.problem(
            at,
            f"'{attribute}' has no types to filter by: 'types' applies to "
            f"{', '.join(filterable_attributes(resource_type)) or 'no attribute'} of a {resource_type}",
        )
        return ()
    value = raw["types"]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.problem(at, f"'types' must be a list of text, such as [\"{canonical[0]}\"]")
        return ()
    if not value:
        reader.problem(at, "'types' is empty: name at least one type, or leave 'types' out to hold every type")
        return ()
    by_lower = {kind.lower(): kind for kind in canonical}
    kept: list[str] = []
    for item in value:
        kind = by_lower.get(item.strip().lower())
        if kind is None:
            reader.problem(at, f"'{item.strip()}' is not a type of {attribute}: one of {', '.join(canonical)}")
        elif kind not in kept:
            kept.append(kind)
    return tuple(kept)


def _overlaps(reader: _Reader, rules: list[AttributeRule], seen: dict[tuple[str, str], int]) -> None:
    """A whole complex attribute and one of its sub-attributes both listed would hide which rule applies."""
    keys = {(r.resource_type, r.key) for r in rules}
    for rule in rules:
        if rule.sub is not None and (rule.resource_type, rule.top) in keys:
            reader.problem(
                ("attributes", seen[(rule.resource_type, rule.key)], "path"),
                f"'{rule.path}' is already covered by the whole attribute listed in another entry",
            )


def _recipients(
    reader: _Reader, document: dict[str, Any], purposes: set[str], rules: tuple[AttributeRule, ...]
) -> tuple[Recipient, ...]:
    tables = reader.tables(document, "recipients")
    _unique_ids(reader, "recipients", tables)
    recipients = []
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("recipients", index)
        kind = reader.text(raw, "kind", where, required=True)
        if kind and kind not in RECIPIENT_KINDS:
            reader.problem((*where, "kind"), f"kind must be one of {', '.join(RECIPIENT_KINDS)}")
        country = reader.text(raw, "country", where)
        if not country:
            reader.problem(
                (*where, "country") if "country" in raw else where,
                "'country' is required (ISO 3166 code, e.g. \"DE\"): the Art. 30 record must say where data goes",
                tightened=True,
            )
        safeguard = reader.text(raw, "transfer_safeguard", where)
        _transfer_checks(reader, where, raw, country, safeguard)
        contract = reader.text(raw, "contract_link", where)
        if kind == "processor" and not contract:
            reader.problem((*where, "kind"), "a processor needs 'contract_link' (the Art. 28 contract)")
        receives = _received(reader, raw, "attributes", "User", rules, where)
        group_receives = _received(reader, raw, "group_attributes", "Group", rules, where)
        used_for = reader.texts(raw, "purposes", where)
        for purpose in used_for:
            if purpose not in purposes:
                reader.problem((*where, "purposes"), f"purpose '{purpose}' is not declared in [[purposes]]")
        _within_purposes(reader, where, raw, used_for, rules)
        if "attributes" in raw:  # a recipient of Groups alone has no accounts to deactivate
            _deactivation_reaches(reader, where, raw, receives, used_for, rules)
        recipients.append(
            Recipient(
                id=str(raw.get("id", "")),
                name=reader.text(raw, "name", where, required=True),
                kind=kind,
                country=country.upper(),
                transfer_safeguard=safeguard,
                contract_link=contract,
                purposes=used_for,
                attributes=receives,
                group_attributes=group_receives,
                scope=_scope(reader, raw, where),
            )
        )
    return tuple(recipients)


def _deactivation_reaches(
    reader: _Reader,
    where: tuple[str | int, ...],
    raw: dict[str, Any],
    receives: tuple[str, ...],
    used_for: tuple[str, ...],
    rules: tuple[AttributeRule, ...],
) -> None:
    """A warning for a recipient of Users that does not receive ``active``: a leaver the IdP deactivates stays an
    active account there until the mirror deletes it (the deactivated-account retention, 30 days in the default).

    Found following the README on a fresh machine: the shipped example recipient listed no ``active``, `policy
    validate` said nothing, and `target list` then said ``in-sync`` for a target still holding a deactivated person
    as active. A warning, not an error: an application whose accounts are no sign-in (a phone book) may not need it.
    """
    if "active" in receives:
        return
    held = [rule for rule in rules if rule.resource_type == "User" and rule.key == "active"]
    if not held:
        return  # the mirror itself holds no account state: there is nothing it could pass on
    hint = 'add "active" to its attributes'
    if used_for and not any(set(rule.purposes) & set(used_for) for rule in held):
        hint += f" and catalogue 'active' for one of its purposes ({', '.join(used_for)})"
    reader.problem(
        (*where, "attributes"),
        f"recipient '{raw.get('id', '')}' does not receive 'active': its application is never told that the identity "
        f"provider deactivated someone, and keeps the account as it was until it is deleted here (the "
        f"deactivated-account retention); {hint}",
        warning=True,
    )


def _transfer_checks(
    reader: _Reader, where: tuple[str | int, ...], raw: dict[str, Any], country: str, safeguard: str
) -> None:
    status = transfer_status(country, safeguard)
    at = (*where, "transfer_safeguard") if "transfer_safeguard" in raw else (*where, "country")
    if status.kind == "missing":
        certified = " (or the EU-US Data Privacy Framework, if the recipient is certified)"
        hint = certified if country.upper() == "US" else ""
        reader.problem(
            at, f"a transfer to '{country}' (outside the EEA, no adequacy decision) needs a 'transfer_safeguard'{hint}"
        )
    elif status.kind == "partial":
        reader.problem(at, f"'{country}' has a partial adequacy decision: {status.check}", warning=True)


def _within_purposes(
    reader: _Reader,
    where: tuple[str | int, ...],
    raw: dict[str, Any],
    used_for: tuple[str, ...],
    rules: tuple[AttributeRule, ...],
) -> None:
    """A recipient receives only attributes catalogued for one of its purposes (Art. 5(1)(b) and (c)).

    A recipient naming no purpose would receive for every purpose: the check then has nothing to hold it to.
    """
    if not used_for:
        return
    for key, resource_type in (("attributes", "User"), ("group_attributes", "Group")):
        for path in reader.texts(raw, key, where):
            resolved = resolve_path(resource_type, path)
            if resolved is None:
                continue  # reported by _received
            probe = resolved.prefix + resolved.top.name.lower()
            covering = [
                rule
                for rule in rules
                if rule.resource_type == resource_type
                and (rule.key == resolved.index_path or rule.key == probe or rule.top == resolved.index_path
                     or (resolved.sub_name is None and rule.top == probe))
            ]  # fmt: skip
            outside = [rule for rule in covering if not set(rule.purposes) & set(used_for)]
            if outside:  # every part it would receive must serve one of its purposes, not just one part
                allowed = sorted({p for rule in outside for p in rule.purposes})
                parts = "" if outside == covering else f" (its part {', '.join(r.path for r in outside)})"
                hint = (
                    " (SCIM requires userName on every User: catalogue it for every purpose with a recipient)"
                    if resolved.index_path == "username"
                    else ""
                )
                reader.problem(
                    (*where, key),
                    f"'{path}'{parts} is catalogued for {', '.join(allowed)}, not for this recipient's purposes "
                    f"({', '.join(used_for)}): a recipient receives only what its purposes need{hint}",
                    tightened=True,
                )


def _received(
    reader: _Reader,
    raw: dict[str, Any],
    key: str,
    resource_type: str,
    rules: tuple[AttributeRule, ...],
    where: tuple[str | int, ...],
) -> tuple[str, ...]:
    """A recipient's ``attributes`` (of Users) or ``group_attributes``, as catalogue keys."""
    held = {(rule.key, rule.top) for rule in rules if rule.resource_type == resource_type}
    keys, tops = {k for k, _ in held}, {t for _, t in held}
    received: list[str] = []
    for path in reader.texts(raw, key, where):
        resolved = resolve_path(resource_type, path)
        top = resolved.prefix + resolved.top.name.lower() if resolved else ""
        if resolved is None or (
            resolved.index_path not in keys and top not in keys and resolved.index_path not in tops
        ):
            reader.problem((*where, key), f"'{path}' is not a {resource_type} attribute of the catalogue")
        else:
            received.append(resolved.index_path)
    return tuple(received)


# -- scope (whom a recipient or a purpose concerns) ----------------------------------------------------------------
_SCOPE_KEYS = ("groups", "filter")


def _scope(reader: _Reader, raw: dict[str, Any], where: tuple[str | int, ...]) -> Scope:
    """``scope = "all"`` (the default), or ``scope = { groups = ["Payroll"], filter = 'title eq "Engineer"' }``;
    the filter is compiled here by the same code that runs it (app/directory/filter_sql.py), so a filter that
    validates is one that runs."""
    value = raw.get("scope", "all")
    if value == "all":
        return Scope()
    if not isinstance(value, dict):
        reader.problem((*where, "scope"), "'scope' is \"all\" or a table { groups = [...], filter = \"...\" }")
        return Scope()
    # Unknown keys inside the table are reported by the strict key check (app/policy/keys.py), with a suggestion.
    groups = reader.texts(value, "groups", (*where, "scope"))
    expression = reader.text(value, "filter", (*where, "scope"))
    if expression:
        from app.directory.errors import ScimError  # the SCIM package builds on the policy one: imported late
        from app.directory.filter_sql import compile_filter

        try:
            compile_filter("User", expression)
        except ScimError as exc:
            reader.problem((*where, "scope"), f"'scope.filter' is not a usable SCIM filter: {exc.detail}")
            expression = ""
    if not groups and not expression and all(key in _SCOPE_KEYS for key in value):
        reader.problem((*where, "scope"), "'scope' names no group and no filter; write scope = \"all\" instead")
    return Scope(tuple(g for g in groups if g), expression)


def _processor_table(reader: _Reader, document: dict[str, Any]) -> dict[str, Any]:
    processor = document.get("processor", {})
    if not isinstance(processor, dict):
        reader.problem(("processor",), "[processor] must be a table")
        return {}
    return processor


def _processor_recipients(reader: _Reader, document: dict[str, Any]) -> tuple[ProcessorRecipient, ...]:
    """``[[processor.recipients]]``: the processor's own recipients, whose countries are its Art. 30(2)(c)."""
    raw_list = _processor_table(reader, document).get("recipients", [])
    result = []
    for index, raw in enumerate(raw_list if isinstance(raw_list, list) else []):
        where: tuple[str | int, ...] = ("processor", "recipients", index)
        if not isinstance(raw, dict):
            reader.problem(where, "each [[processor.recipients]] must be a table")
            continue
        country = reader.text(raw, "country", where, required=True)
        safeguard = reader.text(raw, "transfer_safeguard", where)
        _transfer_checks(reader, where, raw, country, safeguard)
        result.append(
            ProcessorRecipient(
                id=reader.text(raw, "id", where, required=True),
                name=reader.text(raw, "name", where, required=True),
                country=country.upper(),
                transfer_safeguard=safeguard,
                contract_link=reader.text(raw, "contract_link", where),
            )
        )
    return tuple(result)


def _clients(
    reader: _Reader, document: dict[str, Any], recipients: tuple[ProcessorRecipient, ...]
) -> tuple[ClientController, ...]:
    clients = _processor_table(reader, document).get("controllers", [])
    known = {r.id for r in recipients}
    result = []
    for index, raw in enumerate(clients if isinstance(clients, list) else []):
        where: tuple[str | int, ...] = ("processor", "controllers", index)
        if not isinstance(raw, dict):
            reader.problem(where, "each [[processor.controllers]] must be a table")
            continue
        used = reader.texts(raw, "recipients", where)
        for recipient in used:
            if recipient not in known:
                reader.problem((*where, "recipients"), f"'{recipient}' is not declared in [[processor.recipients]]")
        result.append(
            ClientController(
                contact=Contact(
                    reader.text(raw, "name", where, required=True),
                    reader.text(raw, "address", where),
                    reader.text(raw, "email", where),
                    reader.text(raw, "telephone", where),
                ),
                representative=_nested_contact(reader, raw, "representative", where),
                dpo=_nested_contact(reader, raw, "dpo", where),
                processing=reader.text(raw, "processing", where, required=True),
                transfers=reader.text(raw, "transfers", where),
                transfer_safeguard=reader.text(raw, "transfer_safeguard", where),
                recipients=used,
            )
        )
    return tuple(result)


def _nested_contact(reader: _Reader, raw: dict[str, Any], key: str, where: tuple[str | int, ...]) -> Contact:
    """A contact written inside another table: ``dpo = { name = "…", email = "…" }``."""
    value = raw.get(key)
    if value is None:
        return Contact()
    if not isinstance(value, dict):
        reader.problem((*where, key), f"'{key}' must be a table: {{ name = …, address = …, email = … }}")
        return Contact()
    inner = (*where, key)
    return Contact(*(reader.text(value, part, inner) for part in ("name", "address", "email", "telephone")))


PURGED_BY_PERIOD = ("dsr_register",)  # own records whose code deletes entries by period (app/dsr/retention.py)


def _own_processing(reader: _Reader, document: dict[str, Any]) -> tuple[tuple[str, Retention], ...]:
    """``[own_processing]``: how long Custos' own records (trail, registers, ledger) are kept, and why."""
    raw = document.get("own_processing", {})
    if not isinstance(raw, dict):
        reader.problem(("own_processing",), "[own_processing] must be a table")
        return ()
    found = []
    for key in OWN_PROCESSING:
        if key in raw:
            retention = reader.retention(raw[key], ("own_processing",), key, account_allowed=False)
            if retention is not None and retention.indefinite and key in PURGED_BY_PERIOD:
                reader.problem(
                    ("own_processing", key),
                    f"'{key}' is deleted by period (Art. 5(1)(e)): give a period such as \"P3Y\"",
                )
            elif retention is not None:
                found.append((key, retention))
    return tuple(found)


def _special_category_checks(reader: _Reader, policy: Policy, document: dict[str, Any]) -> None:
    """Art. 9 data: each purpose using it states its DPIA status (Art. 35(3)(b)), and the conditions that rest on
    Union or Member State law name that law (the national-law basis column of the record)."""
    purpose_index = {p.id: i for i, p in enumerate(policy.purposes)}
    for rule in policy.attributes:
        if not rule.special:
            continue
        for purpose_id in rule.purposes:
            purpose = policy.purpose(purpose_id)
            if purpose is None:
                continue
            where: tuple[str | int, ...] = ("purposes", purpose_index[purpose_id])
            if purpose.dpia.required is None:
                reader.problem(
                    (*where, "dpia") if "dpia" in _purpose_table(document, purpose_index[purpose_id]) else where,
                    f"purpose '{purpose_id}' uses special-category data ({rule.path}): state its DPIA status "
                    "(dpia = {{ required = true|false, progress = …, link = … }}; Art. 35(3)(b))",
                    tightened=True,
                )
            if rule.art9_condition in NATIONAL_LAW_CONDITIONS and not purpose.national_law_basis:
                reader.problem(
                    where,
                    f"purpose '{purpose_id}' relies on {ART9_CONDITIONS[rule.art9_condition].split(' ', 2)[1]} for "
                    f"{rule.path}: name the Union or Member State law in 'national_law_basis' (e.g. \"§ 26(3) BDSG\")",
                    tightened=True,
                )


def _scope_filters_held(reader: _Reader, policy: Policy, document: dict[str, Any]) -> None:
    """A scope filter on an attribute, or a type, this policy does not hold could select no one: nothing of it is
    ever stored (the endpoint refuses such a filter for the same reason, decision 0034).

    The filter parser (scim2-models, lark) is imported only for a policy that has a scope filter: reading a policy
    without one must not load it (the read-only commands start in a fraction of the time; tests/cli)."""
    held: Minimiser | None = None
    for section in ("purposes", "recipients"):
        tables = document.get(section, [])
        for index, table in enumerate(tables if isinstance(tables, list) else []):
            scope = table.get("scope") if isinstance(table, dict) else None
            expression = scope.get("filter") if isinstance(scope, dict) else None
            if not isinstance(expression, str) or not expression.strip():
                continue
            from app.directory.errors import ScimError  # the directory builds on the policy: imported late
            from app.directory.filter_sql import parse
            from app.policy.minimise import Minimiser

            try:
                node = parse(expression)
            except ScimError:  # reported by _scope already
                continue
            held = held or Minimiser(policy)
            unheld = held.unheld_in_filter(("User",), node)
            if unheld is not None:
                reader.problem(
                    (section, index, "scope"),
                    f"'scope.filter' names '{unheld}', which this policy does not hold{unheld.because}: it could "
                    "select no one",
                    tightened=True,
                )


def _purpose_table(document: dict[str, Any], index: int) -> dict[str, Any]:
    tables = document.get("purposes", [])
    return tables[index] if isinstance(tables, list) and index < len(tables) and isinstance(tables[index], dict) else {}


def _retention_consistency(reader: _Reader, policy: Policy, document: dict[str, Any]) -> None:
    """userName cannot be purged before the account is: SCIM has no User without one."""
    account = policy.account_retention()
    for rule in policy.attributes:
        if rule.resource_type == "User" and rule.key == "username":
            period = policy.retention_of(rule).period
            if period is not None and (account is None or period.approx_days() < account.approx_days()):
                entries = document.get("attributes", [])
                index = next((i for i, e in enumerate(entries) if str(e.get("path", "")).lower() == "username"), 0)
                reader.problem(
                    ("attributes", index, "category"),
                    "userName's retention is shorter than the deactivated-account retention",
                )


def check_policy(text: str) -> tuple[Policy | None, list[Problem]]:
    """Parse and check; returns the policy (None when it cannot be built) and every problem, by line."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        return None, [Problem(line, f"not valid TOML: {getattr(exc, 'msg', str(exc))}")]
    reader = _Reader(LineLocator(text))
    unknown_keys(document, lambda where, message: reader.problem(where, message, tightened=True))
    version = document.get("format", SUPPORTED_FORMAT)
    if version != SUPPORTED_FORMAT:
        reader.problem(("format",), f"format {version} is not supported (this Custos reads format {SUPPORTED_FORMAT})")
    mode = document.get("outside_schema", "reject")
    if mode not in OUTSIDE_SCHEMA_MODES:
        reader.problem(("outside_schema",), "outside_schema must be 'reject' or 'strip'")
        mode = "reject"
    purposes = _purposes(reader, document)
    categories = _categories(reader, document)
    rules = _attributes(reader, document, {p.id for p in purposes}, {c.id for c in categories})
    recipients = _recipients(reader, document, {p.id for p in purposes}, rules)
    measures = reader.texts(document, "organisational_measures", ())
    retention_job = document.get("retention_job", {})
    policy = Policy(
        title=reader.text(document, "title", ()) or "Custos policy",
        outside_schema=mode,
        controller=_contact(reader, document, "controller", wanted=True),
        joint_controller=_contact(reader, document, "joint_controller"),
        representative=_contact(reader, document, "representative"),
        dpo=_contact(reader, document, "dpo", wanted=True),
        purposes=purposes,
        categories=categories,
        attributes=rules,
        recipients=recipients,
        organisational_measures=measures,
        processor=_contact(reader, document, "processor_contact"),
        processor_dpo=_contact(reader, document, "processor_dpo"),
        processor_representative=_contact(reader, document, "processor_representative"),
        processor_recipients=(processor_recipients := _processor_recipients(reader, document)),
        clients=_clients(reader, document, processor_recipients),
        retention_job_enabled=bool(retention_job.get("enabled", True)) if isinstance(retention_job, dict) else True,
        own_processing=_own_processing(reader, document),
    )
    _retention_consistency(reader, policy, document)
    _special_category_checks(reader, policy, document)
    _scope_filters_held(reader, policy, document)
    reader.problems.sort()
    return policy, reader.problems


def _line_from_message(message: str) -> int:
    marker = "line "
    if marker in message:
        digits = message.split(marker, 1)[1].split(",")[0].split(")")[0]
        if digits.isdigit():
            return int(digits)
    return 1


def errors_of(problems: list[Problem], *, stored: bool = False) -> list[Problem]:
    """The problems that stop a policy; ``stored``: of a version already applied, which the checks added since
    (``tightened``) do not stop: ``policy validate`` still reports them so the operator can fix the file."""
    return [p for p in problems if not p.warning and not (stored and p.tightened)]


def stale_problems(text: str) -> list[Problem]:
    """The errors an already-applied version meets under today's checks (it still loads: see ``errors_of``).

    Shown beside the version in force, so an upgrade that tightened the checks is seen before the next apply."""
    _, problems = check_policy(text)
    return [p for p in problems if p.tightened and not p.warning]


def load_policy(text: str, *, stored: bool = False) -> Policy:
    """The policy, or PolicyInvalid listing its errors (warnings do not stop it; see ``errors_of`` for ``stored``)."""
    policy, problems = check_policy(text)
    errors = errors_of(problems, stored=stored)
    if errors or policy is None:
        raise PolicyInvalid([(p.line, p.message) for p in errors])
    return policy
