"""``[[recipients]]``: who receives what, where it goes (Art. 44-49) and for which purposes."""

from __future__ import annotations

from typing import Any

from app.policy.adequacy import transfer_status
from app.policy.checks.reader import Reader, unique_ids
from app.policy.checks.scope import read_scope
from app.policy.model import (
    RECIPIENT_KINDS,
    AttributeRule,
    Recipient,
)
from app.policy.paths import resolve_path


def read_recipients(
    reader: Reader, document: dict[str, Any], purposes: set[str], rules: tuple[AttributeRule, ...]
) -> tuple[Recipient, ...]:
    tables = reader.tables(document, "recipients")
    unique_ids(reader, "recipients", tables)
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
        transfer_checks(reader, where, raw, country, safeguard)
        contract = reader.text(raw, "contract_link", where)
        if kind == "processor" and not contract:
            reader.problem((*where, "kind"), "a processor needs 'contract_link' (the Art. 28 contract)")
        receives = received(reader, raw, "attributes", "User", rules, where)
        group_receives = received(reader, raw, "group_attributes", "Group", rules, where)
        used_for = reader.texts(raw, "purposes", where)
        for purpose in used_for:
            if purpose not in purposes:
                reader.problem((*where, "purposes"), f"purpose '{purpose}' is not declared in [[purposes]]")
        within_purposes(reader, where, raw, used_for, rules)
        if "attributes" in raw:  # a recipient of Groups alone has no accounts to deactivate
            deactivation_reaches(reader, where, raw, receives, used_for, rules)
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
                scope=read_scope(reader, raw, where),
            )
        )
    return tuple(recipients)


def deactivation_reaches(
    reader: Reader,
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


def transfer_checks(
    reader: Reader, where: tuple[str | int, ...], raw: dict[str, Any], country: str, safeguard: str
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


def within_purposes(
    reader: Reader,
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
                continue  # reported by received
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


def received(
    reader: Reader,
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
