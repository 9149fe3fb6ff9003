"""One account at a target against what it should hold: the attributes that differ, and those held beyond the
mapping. The reconcile (every account, page by page) and the push (the account it just wrote, read back) decide
with this one function, so a push never calls an account clean that the next reconcile would call drift."""

from __future__ import annotations

import json
from typing import Any

IGNORED = frozenset({"id", "meta", "schemas", "groups"})  # the target's own, or read-only here (memberships)
# Held though not sent, and still not data beyond the mapping: an account's state. RFC 7643 §4.1.1 leaves an absent
# ``active`` to the service provider, and many (Okta's apps among them) answer ``"active": true`` for every account.
# Flagging it made every push PATCH a ``remove`` of it (which a target may read as a deactivation), read back,
# and record the account as holding data beyond the mapping, on every push.
ACCOUNT_STATE = frozenset({"active"})


def _normalise(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


# Sub-attributes that label an element of a multi-valued attribute rather than hold data of their own.
LABELS = frozenset({"primary", "type"})


def _words(value: Any) -> set[str]:
    """Every word of every string in ``value`` (case folded): what the recipient was sent, to tell derived values."""
    if isinstance(value, str):
        return {word.casefold() for word in value.split()}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(_words(item) for item in items)) if items else set()


# Attributes a service provider composes for display from the names it holds (RFC 7643 §4.1.1): django-scim2
# answers a ``name.formatted`` and a ``displayName`` of the given and family names it was sent.
COMPOSED = frozenset({"displayName", "name.formatted"})


def _holds(value: Any) -> bool:
    """Whether a value holds anything. Nothing: ``null``, ``""``, ``[]``, ``{}``, and an element holding only labels
    (django-scim2 answers ``"emails": [{"value": "", "primary": true}]`` for an account with no address)."""
    if value in (None, "", [], {}):
        return False
    if isinstance(value, list):
        return any(_holds(item) for item in value)
    if isinstance(value, dict):
        return any(_holds(item) for key, item in value.items() if key not in LABELS)
    return True


def _beyond(path: str, value: Any, sent: set[str]) -> bool:
    """Whether ``value``, held at ``path`` and not sent, is data beyond the mapping. A display name composed only of
    words that were sent is not: flagged, every push of every account to such a target PATCHed a ``remove`` of it
    (django-scim2 answers 501), recorded ``provision.beyond_mapping`` (a failure, sent to the SIEM), and the
    reconcile called the target "drift" for good."""
    if path in COMPOSED and isinstance(value, str):
        return any(word.casefold() not in sent for word in value.split())
    return _holds(value)


def differences(wanted: dict[str, Any], actual: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(attributes that differ from what was sent, attributes held beyond the mapping) of one account.

    A complex attribute the recipient receives part of is compared sub-attribute by sub-attribute: a middle name
    held under ``name`` by a recipient of given and family names is data it must not hold (beyond the mapping,
    ``name.middleName``), not a difference in ``name`` that pushing again would seem to settle. Names of the
    beyond kind are SCIM attribute paths (``name.middleName``, ``urn:…:User:employeeNumber``): a PATCH
    ``remove`` takes them as they are."""
    differing: list[str] = []
    sent = _words({key: value for key, value in wanted.items() if key != "schemas"})
    beyond = [k for k in actual if k not in IGNORED | ACCOUNT_STATE and k not in wanted and _beyond(k, actual[k], sent)]
    for key, sent_part in wanted.items():
        if key == "schemas":
            continue
        held = actual.get(key)
        if isinstance(sent_part, dict) and isinstance(held, dict):
            joint = ":" if key.startswith("urn:") else "."  # an extension's attributes are named urn:…:name
            beyond.extend(path for part in held if part not in sent_part
                          and _beyond(path := f"{key}{joint}{part}", held[part], sent))  # fmt: skip
            held = {part: held.get(part) for part in sent_part}
        if _normalise(sent_part) != _normalise(held):
            differing.append(key)
    return sorted(differing), sorted(beyond)


def beyond(wanted: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The attributes of ``actual`` held beyond ``wanted`` (paths, sorted)."""
    return differences(wanted, actual)[1]
