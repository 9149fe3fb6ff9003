"""Migration 0010: stored userNames get the Unicode comparison key; names that now collide are kept apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.core.events import EventBus
from app.directory.errors import ScimError
from app.directory.query import QueryParams, search
from app.scim.service import ScimService
from app.store import migrate
from app.store.vault import Vault
from tests.conftest import PASSPHRASE, USER_SCHEMA, new_user, patch_body
from tests.policy_support import hold_everything
from tests.store.old_vaults import engine_at

# (id, userName) in creation order; the older of each look-alike pair was accepted first.
STORED = [
    ("u1-nfc", "José@example.com"),
    ("u2-nfd", "jose\u0301@EXAMPLE.com"),
    ("u3-full", "ＡＢ"),
    ("u4-ascii", "ab"),
    ("u5-sigma", "ΣΑΣ"),
    ("u6-final", "σασ"),  # "ΣΑΣ".lower() is "σας": only case folding makes these one name
    ("u7-plain", "Plain@Example.com"),
]


def _vault_at_0008(data_dir: Path) -> None:
    """A vault as revision 0008 left it: keys computed with ``str.lower()``."""
    engine = engine_at(data_dir, "0008")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for number, (resource_id, user_name) in enumerate(STORED):
            moment = start + timedelta(minutes=number)
            conn.execute(
                text(
                    "INSERT INTO scim_resources (id, resource_type, user_name, user_name_ci, document, version, "
                    "created, modified) VALUES (:id, 'User', :name, :ci, :doc, 1, :at, :at)"
                ),
                {
                    "id": resource_id,
                    "name": user_name,
                    "ci": user_name.lower(),
                    "doc": json.dumps({"schemas": [USER_SCHEMA], "userName": user_name}),
                    "at": moment,
                },
            )
    engine.dispose()


@pytest.fixture
def migrated(data_dir: Path) -> Iterator[Vault]:
    _vault_at_0008(data_dir)
    vault = Vault.unlock(data_dir, PASSPHRASE)  # upgrades to head
    hold_everything(vault)
    yield vault
    vault.close()


def _keys(vault: Vault) -> dict[str, str]:
    with vault.engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, user_name_ci FROM scim_resources")).all())


def test_stored_names_get_the_comparison_key(migrated: Vault) -> None:
    keys = _keys(migrated)
    assert keys["u1-nfc"] == "josé@example.com"
    assert keys["u3-full"] == "ab"
    assert keys["u5-sigma"] == "σασ"
    assert keys["u7-plain"] == "plain@example.com"
    # The younger of each pair is kept apart, not merged, renamed or deleted.
    assert keys["u2-nfd"] == "josé@example.com\x00u2-nfd"
    assert keys["u4-ascii"] == "ab\x00u4-ascii"
    assert keys["u6-final"] == "σασ\x00u6-final"
    with migrated.engine.connect() as conn:
        noted = conn.execute(text("SELECT value FROM vault_info WHERE key = 'username_key_collisions'")).scalar()
    assert json.loads(noted) == ["u2-nfd", "u4-ascii", "u6-final"]


def test_after_the_migration_look_alikes_clash_and_kept_names_stay_writable(migrated: Vault) -> None:
    service = ScimService(migrated, "https://scim.test/scim/v2", EventBus())
    try:
        with pytest.raises(ScimError) as clash:
            service.create("User", new_user("JOSÉ@example.com"))
        assert clash.value.status == 409 and clash.value.scim_type == "uniqueness"
        # A write that keeps a colliding name keeps its key (IdPs can still deactivate the account) …
        patched = service.patch("User", "u2-nfd", patch_body({"op": "replace", "path": "active", "value": False}))
        assert patched.status == 200
        # … and renaming it to a free name settles the case.
        renamed = service.patch("User", "u4-ascii", patch_body({"op": "replace", "path": "userName", "value": "a.b"}))
        assert renamed.status == 200
        assert _keys(migrated)["u4-ascii"] == "a.b"
        found = search(migrated, None, "", ("User",), QueryParams(filter='userName eq "JOSE\u0301@example.com"'))
        assert [resource["id"] for resource in found["Resources"]] == ["u1-nfc"]
    finally:
        service.close()


def test_downgrade_restores_lower_case_keys(migrated: Vault) -> None:
    config = migrate._config()
    below = ScriptDirectory.from_config(config).get_revision("0010").down_revision  # wherever the chain puts it
    with migrated.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, str(below))
    keys = _keys(migrated)
    assert keys["u1-nfc"] == "josé@example.com" and keys["u2-nfd"] == "jose\u0301@example.com"
