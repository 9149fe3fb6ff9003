"""userName uniqueness by Unicode comparison key (PRECIS, RFC 8264/8266) instead of ``lower()``.

``scim_resources.user_name_ci`` held ``userName.lower()``; it now holds the key of the PRECIS Nickname profile
with case folding (see app/directory/identity_strings.py and decision 0015), so "josé"/"jose\u0301" and "ab"/"ａｂ" are
one name. Every stored User gets its new key here.

Two stored Users whose names now share a key were both accepted before: neither is merged, renamed or
deleted. The older one (by creation, then id) keeps the plain key; each younger one gets the key followed by NUL
and its own id, which no valid name can produce, so the unique index holds and both stay readable, filterable
with ``sw`` and writable (a write that keeps the name keeps the key). Their ids are kept in ``vault_info`` under
``username_key_collisions`` for the operator, and a rename by the IdP settles each case.

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import json
import logging
import unicodedata

import sqlalchemy as sa
from alembic import op
from precis_i18n import get_profile

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

COLLISIONS_KEY = "username_key_collisions"
_PROFILE = get_profile("NicknameCaseMapped:CaseFold")


def _key(name: str) -> str:
    """Frozen copy of identity_strings.lookup_key as of this revision (a migration must not change later)."""
    try:
        return str(_PROFILE.enforce(name))
    except (UnicodeEncodeError, ValueError):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
        return " ".join(folded.split())


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, user_name, user_name_ci FROM scim_resources "
            "WHERE resource_type = 'User' AND user_name IS NOT NULL ORDER BY created, id"
        )
    ).all()
    owner: dict[str, str] = {}
    collisions: list[str] = []
    changes: dict[str, str] = {}
    for resource_id, user_name, current in rows:
        key = _key(user_name)
        if key in owner:
            key = f"{key}\x00{resource_id}"
            collisions.append(resource_id)
        owner[key] = resource_id
        if key != current:
            changes[resource_id] = key
    # Two passes, so that no row takes a key another row still holds until its own turn comes.
    for resource_id in changes:
        conn.execute(
            sa.text("UPDATE scim_resources SET user_name_ci = :tmp WHERE id = :id"),
            {"tmp": f"\x01{resource_id}", "id": resource_id},
        )
    for resource_id, key in changes.items():
        conn.execute(
            sa.text("UPDATE scim_resources SET user_name_ci = :key WHERE id = :id"), {"key": key, "id": resource_id}
        )
    if collisions:
        conn.execute(
            sa.text("INSERT OR REPLACE INTO vault_info (key, value) VALUES (:key, :value)"),
            {"key": COLLISIONS_KEY, "value": json.dumps(collisions)},
        )
        logging.getLogger(__name__).warning(
            "%d stored userNames share a Unicode comparison key with an older one; kept apart (vault_info %s)",
            len(collisions),
            COLLISIONS_KEY,
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, user_name FROM scim_resources WHERE resource_type = 'User' AND user_name IS NOT NULL")
    ).all()
    for resource_id, user_name in rows:  # Python's lower(), as the code before this revision computed it
        conn.execute(
            sa.text("UPDATE scim_resources SET user_name_ci = :key WHERE id = :id"),
            {"key": user_name.lower(), "id": resource_id},
        )
    conn.execute(sa.text("DELETE FROM vault_info WHERE key = :key"), {"key": COLLISIONS_KEY})
