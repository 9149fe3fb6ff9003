"""Changing the passphrase re-encrypts the file: refused while another process has the vault open (its connections
would go on with the old key and fail on their next page), and the vault left working as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import VaultInUse
from app.setup.tokens import TokenStore
from app.store.models import ApiToken
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.vault_holder import held_elsewhere, release

NEW = "a brand new passphrase"
def test_a_change_while_another_process_has_the_vault_open_is_refused_and_changes_nothing(
    vault: Vault, data_dir: Path
) -> None:
    TokenStore(vault).create("kept")
    with held_elsewhere(data_dir, PASSPHRASE) as holder:
        with pytest.raises(VaultInUse, match="Another program has the vault open"):
            vault.change_passphrase(PASSPHRASE, NEW, NEW)
        TokenStore(vault).create("after the refusal")  # this process's vault still reads and writes
        assert release(holder) == "2"  # the other process still reads its pages: nothing re-keyed
    vault.change_passphrase(PASSPHRASE, NEW, NEW)  # alone now: the change goes through
    vault.close()
    reopened = Vault.unlock(data_dir, NEW)
    with reopened.read_session() as session:
        assert sorted(session.scalars(select(ApiToken.name))) == ["after the refusal", "kept"]
    reopened.close()
