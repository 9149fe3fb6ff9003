"""``scope``: whom a recipient or a purpose concerns (all users, named groups, a SCIM filter)."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader
from app.policy.model import (
    Scope,
)

# -- scope (whom a recipient or a purpose concerns) ----------------------------------------------------------------
_SCOPE_KEYS = ("groups", "filter")


def read_scope(reader: Reader, raw: dict[str, Any], where: tuple[str | int, ...]) -> Scope:
    """``scope = "all"`` (the default), or ``scope = { groups = ["Payroll"], filter = 'title eq "Engineer"' }``;
    the filter is compiled here by the same code that runs it (app/directory/filter_sql.py), so a filter that
    validates is one that runs."""
    value = raw.get("scope", "all")
    if value == "all":
        return Scope()
    if not isinstance(value, dict):
        reader.problem((*where, "scope"), '\'scope\' is "all" or a table { groups = [...], filter = "..." }')
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
