"""Every key a policy file may hold, per table: the loader refuses any other, with its line and the key meant.

An unknown key is never harmless in a policy: ``special_catgory = true`` silently made health data ordinary data,
and a top-level key written after ``[dpo]`` became ``dpo.organisational_measures`` and vanished from the Art. 30
record. So the table below is the whole vocabulary. Adding a key to the format is one line here (plus reading it
in ``loader``); a key read by the loader but forgotten here is refused loudly in every file that uses it (the
shipped default and the realistic test policy use nearly all of them), never silently dropped.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

Where = tuple[str | int, ...]

_CONTACT = frozenset({"name", "address", "email", "telephone"})
_RETENTION = frozenset({"period", "justification"})

# Table name (as the loader walks it) -> the keys it may hold. "*" names an array of tables' items.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "format", "title", "outside_schema", "organisational_measures", "controller", "joint_controller",
            "representative", "dpo", "purposes", "categories", "attributes", "recipients", "processor",
            "processor_contact", "processor_dpo", "processor_representative", "retention_job", "own_processing",
        }
    ),
    "controller": _CONTACT,
    "joint_controller": _CONTACT,
    "representative": _CONTACT,
    "dpo": _CONTACT,
    "processor_contact": _CONTACT,
    "processor_dpo": _CONTACT,
    "processor_representative": _CONTACT,
    "purposes.*": frozenset(
        {
            "id", "name", "description", "business_function", "lawful_basis", "legitimate_interest", "lia_link",
            "data_subjects", "dpia", "automated_decision_making", "automated_decision_details", "source",
            "consent_record_link", "deactivated_account_retention", "retention_policy_link", "national_law_basis",
            "scope",
        }
    ),
    "purposes.*.dpia": frozenset({"required", "progress", "link"}),
    "purposes.*.scope": frozenset({"groups", "filter"}),
    "purposes.*.deactivated_account_retention": _RETENTION,
    "categories.*": frozenset({"id", "name", "description", "retention"}),
    "categories.*.retention": _RETENTION,
    "attributes.*": frozenset(
        {"path", "resource", "types", "category", "purposes", "special_category", "art9_condition", "retention"}
    ),
    "attributes.*.retention": _RETENTION,
    "recipients.*": frozenset(
        {
            "id", "name", "kind", "country", "transfer_safeguard", "contract_link", "purposes", "attributes",
            "group_attributes", "scope",
        }
    ),
    "recipients.*.scope": frozenset({"groups", "filter"}),
    "processor": frozenset({"controllers", "recipients"}),
    "processor.recipients.*": frozenset({"id", "name", "country", "transfer_safeguard", "contract_link"}),
    "processor.controllers.*": frozenset(
        {
            "name", "address", "email", "telephone", "processing", "transfers", "transfer_safeguard",
            "representative", "dpo", "recipients",
        }
    ),
    "processor.controllers.*.representative": _CONTACT,
    "processor.controllers.*.dpo": _CONTACT,
    "retention_job": frozenset({"enabled"}),
    "own_processing": frozenset({"audit_trail", "breach_register", "erasure_ledger", "dsr_register"}),
    "own_processing.audit_trail": _RETENTION,
    "own_processing.breach_register": _RETENTION,
    "own_processing.erasure_ledger": _RETENTION,
    "own_processing.dsr_register": _RETENTION,
}  # fmt: skip


def _pattern(where: Where) -> str:
    return ".".join("*" if isinstance(part, int) else part for part in where)


def unknown_keys(document: dict[str, Any], report: Callable[[Where, str], None]) -> None:
    """Report every key of ``document`` that ``KNOWN_KEYS`` does not list for its table, walking every table."""
    _walk(document, (), report)


def _walk(table: dict[str, Any], where: Where, report: Callable[[Where, str], None]) -> None:
    known = KNOWN_KEYS.get(_pattern(where))
    if known is None:
        return  # a value the loader reads as a whole (and checks) rather than key by key
    for key, value in table.items():
        if key not in known:
            report((*where, key), _message(key, where, known))
            continue
        if isinstance(value, dict):
            _walk(value, (*where, key), report)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    _walk(item, (*where, key, index), report)


def _message(key: str, where: Where, known: frozenset[str]) -> str:
    table = _pattern(where).replace(".*", "") or "the top level"
    text = f"unknown key '{key}' in {'[' + table + ']' if where else table}"
    if where and key in KNOWN_KEYS[""]:
        # TOML puts a key written after a [table] header into that table, however it is indented.
        return f"{text}: '{key}' belongs at the top of the file; move it above the first [table] header"
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
    return f"{text}: did you mean {close[0]}?" if close else f"{text} (known keys: {', '.join(sorted(known))})"
