"""``custos dsr refuse`` words the register's refusal of an Art. 17(3) ground beyond erasure with its option, as it
did (a contract); the register says the right to limit it to in its own terms, and the app names its form's field.
Before, the register said "(--right erasure)" and the Requests page showed that. Real vault; the CLI in process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main
from app.dsr.register import RightToName
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.dsr.dsr_support import register_at, with_person

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def _two_rights(vault: Vault) -> str:
    subject = with_person(vault)
    register, _ = register_at(vault)
    return register.open(["rectification", "erasure"], "email", "dpo", RECEIVED, subject_id=subject)


def test_the_register_names_the_right_in_its_own_terms(vault: Vault) -> None:
    request_id = _two_rights(vault)
    register, _ = register_at(vault)
    with pytest.raises(RightToName) as refused:
        register.refuse(request_id, "art17-3e", "litigation hold", "dpo")
    assert (refused.value.right, refused.value.ground) == ("erasure", "art17-3e")
    assert "--" not in refused.value.user_message


def test_dsr_refuse_keeps_its_words(
    vault: Vault, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = _two_rights(vault)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    code = main(["dsr", "refuse", request_id, "--ground", "art17-3e", "--reason", "litigation hold", "--data-dir",
                 str(data_dir)])  # fmt: skip
    assert code == 2
    said = [line for line in capsys.readouterr().err.splitlines() if " INFO " not in line]
    assert said == [
        "custos: The Art. 17(3) exceptions apply to erasure only: refuse that right alone (--right erasure)."
    ]
