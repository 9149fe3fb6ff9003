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


def _holds(value: Any) -> bool:
    """Whether a value holds anything: a target that answers ``"nickName": null`` or ``[]`` holds no nick name."""
    return value not in (None, "", [], {})


def differences(wanted: dict[str, Any], actual: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(attributes that differ from what was sent, attributes held beyond the mapping) of one account.

    A complex attribute the recipient receives part of is compared sub-attribute by sub-attribute: a middle name
    held under ``name`` by a recipient of given and family names is data it must not hold (beyond the mapping,
    ``name.middleName``), not a difference in ``name`` that pushing again would seem to settle. Names of the
    beyond kind are SCIM attribute paths (``name.middleName``, ``urn:…:User:employeeNumber``): a PATCH
    ``remove`` takes them as they are."""
    differing: list[str] = []
    beyond = [k for k in actual if k not in IGNORED | ACCOUNT_STATE and k not in wanted and _holds(actual[k])]
    for key, sent in wanted.items():
        if key == "schemas":
            continue
        held = actual.get(key)
        if isinstance(sent, dict) and isinstance(held, dict):
            joint = ":" if key.startswith("urn:") else "."  # an extension's attributes are named urn:…:name
            beyond.extend(f"{key}{joint}{sub}" for sub in held if sub not in sent and _holds(held[sub]))
            held = {sub: held.get(sub) for sub in sent}
        if _normalise(sent) != _normalise(held):
            differing.append(key)
    return sorted(differing), sorted(beyond)


def beyond(wanted: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The attributes of ``actual`` held beyond ``wanted`` (paths, sorted)."""
    return differences(wanted, actual)[1]
