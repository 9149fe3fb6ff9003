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


def _erased(vault: Vault) -> str:
    """An erasure of a person whose sign-in name is no e-mail address (the e-mail check cannot catch it)."""
    service = service_for(vault)
    body = {**person("o.vexbridge@example.test", *NAMES), "userName": "OVexbridge", "externalId": "HR-99812"}
    rid = str(service.create("User", body).body["id"])  # type: ignore[index]
    service.close()
    return request_erasure(vault, [rid], "art17-1a", "dpo", reason="ticket 4711")


@pytest.mark.parametrize("note", ["removed ovexbridge in Okta", "HR-99812 deprovisioned (ticket 4711)"])
def test_an_attestation_note_holding_an_erased_identifier_is_refused(vault: Vault, note: str) -> None:
    """After the erasure only the identifiers' keyed digests remain: each word of the note is hashed and compared."""
    from app.erasure.requests import attest_source

    request_id = _erased(vault)
    with pytest.raises(ConfigError, match="holds an identifier of the person erased") as refused:
        attest_source(vault, request_id, "dpo", note)
    assert "HR-99812" not in str(refused.value) and "ovexbridge" not in str(refused.value).casefold()
    with vault.read_connection() as conn:
        assert conn.execute(text("SELECT count(*) FROM erasure_sources WHERE how IS NOT NULL")).scalar_one() == 0
    assert attest_source(vault, request_id, "dpo", "deactivated in Okta, ticket 4711") == 1


def test_a_release_reason_naming_the_identifier_released_is_refused(vault: Vault) -> None:
    from app.erasure.requests import release

    _erased(vault)
    with pytest.raises(ConfigError, match="nothing was released"):
        release(vault, None, "HR-99812", "dpo", "rehired: HR-99812 returns")
    with vault.read_connection() as conn:
        released = conn.execute(text("SELECT count(*) FROM erasure_tombstones WHERE released IS NOT NULL"))
        assert released.scalar_one() == 0
    assert release(vault, None, "HR-99812", "dpo", "rehired, contract of 2027-02-01")


@pytest.mark.parametrize(
    "note",
    ["deprovisioned HR-99812.", "removed ovexbridge!", "Is ovexbridge gone? Yes", "Okta user=ovexbridge removed"],
)
def test_an_erased_identifier_at_a_sentence_end_or_after_an_equals_sign_is_refused(vault: Vault, note: str) -> None:
    """A note's words end at sentence punctuation and '=' as well as at spaces: 'HR-99812.' names HR-99812."""
    from app.erasure.requests import attest_source

    request_id = _erased(vault)
    with pytest.raises(ConfigError, match="holds an identifier of the person erased"):
        attest_source(vault, request_id, "dpo", note)


def test_a_note_of_undecodable_bytes_is_refused_with_a_message(vault: Vault) -> None:
    """A terminal's undecodable bytes reach Python as lone surrogates: refused as text, never a traceback."""
    from app.erasure.requests import attest_source

    request_id = _erased(vault)
    with pytest.raises(ConfigError, match="not valid text"):
        attest_source(vault, request_id, "dpo", "deactivated in Okta \udcff")
