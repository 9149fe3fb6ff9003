"""An erasure's reason that names the person erased is refused before anything is erased: the reason outlives the
erasure on the request row and in the signed receipt, which names the subject by pseudonym only. Before, only an
e-mail address was refused; 'Ottoline Vexbridge left' stayed in the vault and the receipt after the erasure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.errors import ConfigError
from app.directory import repository as repo
from app.erasure.receipt import export
from app.erasure.requests import request_erasure
from app.store.vault import Vault
from tests.erasure.support import person, service_for

NAMES = ("Ottoline", "Vexbridge")


def _subject(vault: Vault) -> str:
    service = service_for(vault)
    body = {**person("o.vexbridge@example.test", *NAMES), "externalId": "HR-99812"}
    rid = str(service.create("User", body).body["id"])  # type: ignore[index]
    service.close()
    return rid


@pytest.mark.parametrize(
    "reason", ["Ottoline Vexbridge left", "per VEXBRIDGE's letter", "HR-99812 offboarded", "o.vexbridge asked"]
)
def test_a_reason_naming_the_subject_is_refused_and_nothing_is_erased(vault: Vault, reason: str) -> None:
    rid = _subject(vault)
    with pytest.raises(ConfigError, match="names the person being erased") as refused:
        request_erasure(vault, [rid], "art17-1a", "dpo", reason=reason)
    assert not any(name.casefold() in str(refused.value).casefold() for name in (*NAMES, "HR-99812"))
    with vault.read_connection() as conn:
        assert repo.load(conn, "User", rid) is not None
        assert conn.execute(text("SELECT count(*) FROM erasure_requests")).scalar_one() == 0


def test_a_reason_without_the_subject_s_names_is_kept_and_the_receipt_holds_none(vault: Vault, tmp_path: Path) -> None:
    rid = _subject(vault)
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", reason="ticket 4711: left the company")
    receipt = export(vault, request_id, tmp_path).json_path.read_text()
    assert json.loads(receipt)["request"]["reason"] == "ticket 4711: left the company"
    assert not any(value.casefold() in receipt.casefold() for value in (*NAMES, "HR-99812", rid))
