"""Checks across sections, made once the policy is built: Art. 9 purposes, scope filters, userName retention."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader
from app.policy.model import (
    ART9_CONDITIONS,
    NATIONAL_LAW_CONDITIONS,
    Policy,
)


def special_category_checks(reader: Reader, policy: Policy, document: dict[str, Any]) -> None:
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


def scope_filters_held(reader: Reader, policy: Policy, document: dict[str, Any]) -> None:
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
            except ScimError:  # reported by read_scope already
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


def retention_consistency(reader: Reader, policy: Policy, document: dict[str, Any]) -> None:
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
