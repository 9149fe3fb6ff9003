"""Opening the vault is on the record, and the store does not know the trail (issue 15 §1)."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from app.audit.tables import AuditEvent
from app.audit.vault_lifecycle import create_vault, reopen_vault, unlock_vault
from app.store.vault import Vault
from tests.conftest import PASSPHRASE

APP = Path(__file__).resolve().parents[2] / "app"
OPENERS = {"create", "unlock", "unlock_with_key", "reopen", "reopen_with_key"}
ALLOWED = {APP / "store" / "vault.py", APP / "audit" / "vault_lifecycle.py"}


def _kinds(vault: Vault) -> list[tuple[str, str]]:
    with vault.engine.connect() as conn:
        return [(row.kind, row.details) for row in conn.execute(select(AuditEvent.kind, AuditEvent.details))]


def test_create_unlock_and_reopen_are_each_one_entry(tmp_path: Path) -> None:
    vault = create_vault(tmp_path, PASSPHRASE, PASSPHRASE)
    vault.close()
    vault = unlock_vault(tmp_path, PASSPHRASE)
    vault.close()
    reopen_vault(vault, PASSPHRASE)
    try:
        kinds = _kinds(vault)
    finally:
        vault.close()
    assert [kind for kind, _ in kinds] == ["vault.created", "vault.unlocked", "vault.unlocked"]
    assert '"reopened":true' in kinds[2][1].replace(" ", "")


def test_the_store_alone_writes_nothing_on_the_trail(tmp_path: Path) -> None:
    """Below the trail, the store only writes what its caller hands it."""
    Vault.create(tmp_path, PASSPHRASE, PASSPHRASE).close()
    vault = Vault.unlock(tmp_path, PASSPHRASE)
    try:
        assert _kinds(vault) == []
    finally:
        vault.close()


def _direct_openings(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in OPENERS:
            target = node.func.value
            on_vault = isinstance(target, ast.Name) and target.id == "Vault"
            on_instance = node.func.attr.startswith("reopen") and "vault" in ast.unparse(target).lower()
            if on_vault or on_instance:
                found.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    return found


def test_the_app_opens_vaults_only_through_the_record() -> None:
    """A new caller of Vault.create/unlock/reopen in app/ would open a vault off the record."""
    found = [hit for path in sorted(APP.rglob("*.py")) if path not in ALLOWED for hit in _direct_openings(path)]
    assert found == []
