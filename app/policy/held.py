"""Which stored Users hold a catalogue entry: one SQL condition on ``scim_resources``, shared by the Art. 30
counts (app/exports/facts.py) and the breach helper (app/incidents/scope.py), so that both name a category for a
person exactly when the mirror holds some of it about that person."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select

from app.policy.model import AttributeRule
from app.store.models import AttributePath, AttributeValue, GroupMember, ScimResource, path_codes

_R = ScimResource.__table__
_AV = AttributeValue.__table__
_P = AttributePath.__table__
_GM = GroupMember.__table__

# User attributes kept in columns of scim_resources rather than in the attribute index.
COLUMN_KEYS = {"username": _R.c.user_name, "externalid": _R.c.external_id, "displayname": _R.c.display_name}


def held_by_user(rule: AttributeRule) -> ColumnElement[bool]:
    """SQL: this User row holds (some value of) ``rule``'s attribute."""
    if rule.resource_type == "Group":
        # A Group's member list is data about the member; its name and externalId are about the group.
        if rule.key != "members":
            return false()
        return _R.c.id.in_(select(_GM.c.member_id).where(_GM.c.member_type == "User"))
    return held_at(rule.key)


def held_at(key: str) -> ColumnElement[bool]:
    """SQL: this User row holds a value at the canonical path ``key`` or under it (``emails`` for
    ``emails.value``). userName, externalId and displayName live in columns, not in the attribute index."""
    if key in COLUMN_KEYS:
        return COLUMN_KEYS[key].is_not(None)
    if key == "active":
        return _R.c.active.is_not(None)
    paths = or_(_P.c.path == key, _P.c.path.startswith(key + ".", autoescape=True))
    return exists().where(_AV.c.rid == _R.c.rid, _AV.c.code.in_(path_codes(paths)))
