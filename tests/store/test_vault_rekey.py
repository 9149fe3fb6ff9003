"""Changing the passphrase re-encrypts the file: refused while another process has the vault open (its connections
would go on with the old key and fail on their next page), and the vault left working as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import VaultInUse
from app.setup.tokens import TokenStore
from app.store.models import ApiToken
from app.store.vault import Vault
from tests.conftest import PASSPHRASE

NEW = "a brand new passphrase"
ROOT = Path(__file__).resolve().parents[2]
# Another process with the vault open: it reads once, says so, and holds its connections until told to end.
HOLDER = """
import sys
from pathlib import Path
from app.store.vault import Vault
vault = Vault.unlock(Path(sys.argv[1]), sys.argv[2])
with vault.read_connection() as conn:
    conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar()
print("open", flush=True)
sys.stdin.readline()
with vault.read_connection() as conn:
    print(conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar(), flush=True)
vault.close()
"""


def test_a_change_while_another_process_has_the_vault_open_is_refused_and_changes_nothing(
    vault: Vault, data_dir: Path
) -> None:
    TokenStore(vault).create("kept")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir), PASSPHRASE], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(VaultInUse, match="Another program has the vault open"):
            vault.change_passphrase(PASSPHRASE, NEW, NEW)
        TokenStore(vault).create("after the refusal")  # this process's vault still reads and writes
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "2"  # the other process still reads its pages: nothing re-keyed
        assert holder.wait(30) == 0
    finally:
        holder.kill()
    vault.change_passphrase(PASSPHRASE, NEW, NEW)  # alone now: the change goes through
    vault.close()
    reopened = Vault.unlock(data_dir, NEW)
    with reopened.read_session() as session:
        assert sorted(session.scalars(select(ApiToken.name))) == ["after the refusal", "kept"]
    reopened.close()
