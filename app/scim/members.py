"""A Group PATCH that only adds or removes members by id, read as an edit of the membership table.

IdPs keep group membership current with one PATCH per change: Entra ID adds with ``{"op":"add","path":"members",
"value":[{"value":id}]}`` and removes with the same shape and ``"op":"remove"``; Okta and OneLogin remove with
``members[value eq "id"]``. The general path (app/directory/validation.py) reads the group with every member,
validates it as a model, applies the operations and writes the membership back: on a group of 10,000 members that
held the single writer for longer than a thousand user creates take (benchmarks/bench_group_patch.py).

Such an operation list names the ids it adds and removes; the outcome is a set of inserts and deletes of those
rows, whatever else the group holds, so it is applied as that. Anything else — another attribute in the same
request, another filter, a member object carrying more than ``value`` and ``display``, a body the general path
would refuse — returns ``None`` and takes the general path, which stays the one definition of PATCH.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.scim.tolerance import canonical_member

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
# ``members[value eq "id"]`` with the id quoted and free of escapes (anything fancier goes the general way).
_VALUE_EQ = re.compile(r'^members\[\s*value\s+eq\s+"([^"\\]+)"\s*\]$', re.IGNORECASE)
_MEMBERS_NAMES = frozenset({"members", f"{_GROUP_SCHEMA.lower()}:members"})  # a path-less value's key
_MEMBER_KEYS = frozenset({"value", "display"})  # what a member object may carry here (display is not stored)


@dataclass(frozen=True)
class MembershipEdit:
    """The net effect of the operations, in order: first ``clear`` (drop every member), then ``remove``, ``add``."""

    clear: bool
    add: tuple[str, ...]
    remove: frozenset[str]


def membership_edit(body: Any) -> MembershipEdit | None:
    """The edit when every operation adds, removes or replaces members by id; ``None`` for anything else."""
    if not isinstance(body, dict) or set(body) != {"schemas", "Operations"} or body["schemas"] != [PATCH_SCHEMA]:
        return None
    operations = body["Operations"]
    if not isinstance(operations, list) or not operations:
        return None
    edit = _Edit()
    for operation in operations:
        if not edit.apply(operation):
            return None
    return MembershipEdit(edit.clear, tuple(edit.added), frozenset(edit.removed))


def split_membership(body: Any) -> tuple[dict[str, Any], MembershipEdit] | None:
    """A PATCH mixing membership operations by id with operations on other attributes (remove 500 members and
    rename the group): (the body without the membership operations, their edit). Applied apart, the membership
    part goes by id; through the model, scim2-models compares each removed value against every member, with deep
    copies (11.7 s for 500 of 1,000 members). ``None`` unless both parts are there and the others never touch
    ``members`` (they touch other attributes, so the order between the two parts cannot matter)."""
    if not isinstance(body, dict) or set(body) != {"schemas", "Operations"} or body["schemas"] != [PATCH_SCHEMA]:
        return None
    operations = body["Operations"]
    if not isinstance(operations, list):
        return None
    mine: list[Any] = []
    others: list[Any] = []
    for operation in operations:  # one pass (the request may hold up to MAX_PATCH_OPERATIONS)
        (mine if _Edit().apply(operation) else others).append(operation)
    if not mine or not others:
        return None
    rest = {"schemas": [PATCH_SCHEMA], "Operations": others}
    edit = membership_edit({"schemas": [PATCH_SCHEMA], "Operations": mine})
    if edit is None or touches_members(rest):
        return None
    return rest, edit


class _Edit:
    """Operations folded into one edit: a later operation on an id overrides an earlier one, as applying them in
    turn would."""

    def __init__(self) -> None:
        self.clear = False
        self.added: dict[str, None] = {}  # insertion-ordered set: members are reported in the order sent
        self.removed: set[str] = set()

    def apply(self, operation: Any) -> bool:
        if not isinstance(operation, dict) or not operation.keys() <= {"op", "path", "value"}:
            return False
        op, path, value = operation.get("op"), operation.get("path"), operation.get("value")
        if isinstance(op, str) and path is None and op.lower() in ("add", "replace"):
            return self._path_less(op.lower(), value)
        if not isinstance(op, str) or not isinstance(path, str):
            return False
        op, path = op.lower(), path.strip()
        if path.lower() == "members":
            return self._whole_list(op, value, "value" in operation)
        match = _VALUE_EQ.match(path)
        if match is None or op != "remove" or "value" in operation:
            return False
        self._drop([match.group(1)])
        return True

    def _path_less(self, op: str, value: Any) -> bool:
        """``{"op":"add"|"replace","value":{"members":[…]}}`` (Okta's whole-list push, row 25 of
        docs/idp-tolerances.md), by the short or the full name: the same as the pathed form. Through the model,
        replacing 10,000 members validated and compared all of them (seconds, holding the writer)."""
        if not isinstance(value, dict) or len(value) != 1:
            return False
        ((name, members),) = value.items()
        if not isinstance(name, str) or name.strip().lower() not in _MEMBERS_NAMES:
            return False
        return self._whole_list(op, members, True)

    def _whole_list(self, op: str, value: Any, has_value: bool) -> bool:
        ids = _member_ids(value) if has_value else None
        if op == "add" and ids:
            self._take(ids)
        elif op == "remove" and not has_value:
            self._clear()
        elif op == "remove" and ids:
            self._drop(ids)
        elif op == "replace" and ids is not None:
            self._clear()
            self._take(ids)
        else:
            return False
        return True

    def _take(self, ids: list[str]) -> None:
        for member in ids:
            self.removed.discard(member)
            self.added[member] = None

    def _drop(self, ids: list[str]) -> None:
        for member in ids:
            self.added.pop(member, None)
            self.removed.add(member)

    def _clear(self) -> None:
        self.clear = True
        self.added.clear()
        self.removed.clear()


def _member_ids(value: Any) -> list[str] | None:
    """The ids of a list of member objects, or ``None`` when it is not such a list."""
    if not isinstance(value, list):
        return None
    ids: list[str] = []
    for member in map(canonical_member, value):  # {"Value": id}: names are case-insensitive (RFC 7643 §2.1)
        if not isinstance(member, dict) or not member.keys() <= _MEMBER_KEYS:
            return None
        member_id, display = member.get("value"), member.get("display")
        if not isinstance(member_id, str) or not member_id or (display is not None and not isinstance(display, str)):
            return None
        ids.append(member_id)
    return ids


def touches_members(body: Any) -> bool:
    """Whether a Group PATCH may change ``members``: an operation on them, or one this cannot read (the general
    path then sees the whole group, as it must to judge it). A rename does not: it need not read 10,000 members."""
    operations = body.get("Operations", body.get("operations")) if isinstance(body, dict) else None
    if not isinstance(operations, list):
        return True
    return any(_may_touch_members(operation) for operation in operations)


def _may_touch_members(operation: Any) -> bool:
    if not isinstance(operation, dict):
        return True
    fields = {str(key).lower(): value for key, value in operation.items()}
    path = fields.get("path")
    if isinstance(path, str):
        return _names_members(path)
    value = fields.get("value")
    # A path-less value names attributes by their short or full name ("urn:…:Group:members"), or holds the schema.
    return not isinstance(value, dict) or any(_names_members(str(key)) or str(key).lower() == _GROUP_SCHEMA.lower()
                                              for key in value)  # fmt: skip


def _names_members(attribute: str) -> bool:
    """Whether a path or a value's key is ``members`` or within it, by its short or full name."""
    name = attribute.strip().lower().removeprefix(f"{_GROUP_SCHEMA.lower()}:")
    return re.split(r"[\[.]", name, maxsplit=1)[0] == "members"
