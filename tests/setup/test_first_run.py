"""The first run as one operation: what it writes, that the endpoint answers with the new token, and that a
cancelled or refused set-up leaves the data folder as it found it."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from app.audit.trail import of_kind
from app.audit.vault_lifecycle import unlock_vault
from app.core.errors import ConfigError, PolicyInvalid, VaultError, VaultExists
from app.core.events import EventBus
from app.policy.versions import default_policy_text, in_force
from app.scim.server import ScimServer
from app.setup import endpoint
from app.setup.first_run import (
    FirstRunChoices,
    GeneratedCertificate,
    OperatorCertificate,
    SetupCancelled,
    check,
    complete,
)
from app.setup.tls import CERT_FILENAME, KEY_FILENAME, TlsMaterial
from app.store.vault import Vault
from tests.setup.cert_support import write_pair

PASSPHRASE = "first run passphrase"


def choices(**overrides: object) -> FirstRunChoices:
    base: dict[str, object] = {
        "passphrase": PASSPHRASE,
        "confirmation": PASSPHRASE,
        "endpoint": endpoint.EndpointSettings("127.0.0.1", 0),
        "token_name": "Entra ID",
    }
    base.update(overrides)
    return FirstRunChoices(**base)  # type: ignore[arg-type]


def test_first_run_serves_the_new_token_over_https(data_dir: Path) -> None:
    result = complete(data_dir, choices(endpoint=endpoint.EndpointSettings("127.0.0.1", 0)), "dpo")
    try:
        assert result.token_secret.startswith("cst_")
        assert result.self_signed and "localhost" in result.certificate_names
        assert result.base_url == "https://127.0.0.1:0/scim/v2"
        assert endpoint.load(data_dir) == endpoint.EndpointSettings("127.0.0.1", 0)
        with result.vault.read_connection() as conn:
            assert in_force(conn).text == default_policy_text()  # type: ignore[union-attr]
            assert [e.details["token"] for e in of_kind(conn, "token.created")] == ["Entra ID"]
        tls = TlsMaterial(data_dir / CERT_FILENAME, data_dir / KEY_FILENAME)
        assert tls.fingerprint == result.fingerprint
        assert (data_dir / KEY_FILENAME).stat().st_mode & 0o077 == 0
        server = ScimServer(result.vault, port=0, tls=tls, bus=EventBus())
        server.start()
        try:
            context = ssl.create_default_context(cafile=str(tls.cert_path))
            headers = {"Authorization": f"Bearer {result.token_secret}"}
            with httpx.Client(verify=context) as client:
                answer = client.get(f"{server.base_url}/ServiceProviderConfig", headers=headers)
                refused = client.get(f"{server.base_url}/Users", headers={"Authorization": "Bearer cst_wrong"})
            assert answer.status_code == 200
            assert answer.json()["authenticationSchemes"]
            assert refused.status_code == 401
        finally:
            server.stop()
    finally:
        result.vault.close()
    assert unlock_vault(data_dir, PASSPHRASE).close() is None


def test_operator_certificate_and_policy_file(data_dir: Path, tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path / "operator", names=("scim.example.org",))
    policy = default_policy_text().replace('title = "', 'title = "Acme: ', 1)
    assert policy != default_policy_text()
    settings = endpoint.EndpointSettings("0.0.0.0", 9443, "scim.example.org")
    result = complete(
        data_dir, choices(endpoint=settings, certificate=OperatorCertificate(cert, key), policy_text=policy), "dpo"
    )
    try:
        assert result.base_url == "https://scim.example.org:9443/scim/v2"
        assert not result.self_signed and result.certificate_names == ("scim.example.org",)
        assert (data_dir / CERT_FILENAME).read_bytes() == cert.read_bytes()
        with result.vault.read_connection() as conn:
            record = in_force(conn)
            assert record is not None and record.text == policy and record.operator == "dpo"
    finally:
        result.vault.close()


@pytest.mark.parametrize("cancel_at", range(6))
def test_cancelling_at_any_step_leaves_nothing(data_dir: Path, cancel_at: int) -> None:
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > cancel_at

    with pytest.raises(SetupCancelled):
        complete(data_dir, choices(), "dpo", cancelled=cancelled)
    assert sorted(p.name for p in data_dir.iterdir()) == []
    assert not Vault.exists(data_dir)


def test_the_set_up_makes_the_folder_and_a_cancelled_one_removes_it(tmp_path: Path) -> None:
    """The app no longer makes the data folder before the assistant (a cancelled first launch left it empty):
    the set-up makes it, and takes away the one it made when it does not complete."""
    folder = tmp_path / "new" / "Custos"
    with pytest.raises(SetupCancelled):
        complete(folder, choices(), "dpo", cancelled=lambda: True)
    assert not folder.parent.exists()  # nor the parent it made
    result = complete(folder, choices(), "dpo")
    result.vault.close()
    assert Vault.exists(folder) and folder.stat().st_mode & 0o777 == 0o700


def test_a_certificate_already_in_the_folder_is_put_back(data_dir: Path) -> None:
    (data_dir / CERT_FILENAME).write_bytes(b"earlier certificate")
    (data_dir / KEY_FILENAME).write_bytes(b"earlier key")
    (data_dir / KEY_FILENAME).chmod(0o600)
    with pytest.raises(SetupCancelled):
        complete(data_dir, choices(), "dpo", cancelled=iter([False, False, True]).__next__)
    assert (data_dir / CERT_FILENAME).read_bytes() == b"earlier certificate"
    assert (data_dir / KEY_FILENAME).read_bytes() == b"earlier key"
    assert (data_dir / KEY_FILENAME).stat().st_mode & 0o777 == 0o600  # a restored key stays private
    assert sorted(p.name for p in data_dir.iterdir()) == [CERT_FILENAME, KEY_FILENAME]


def test_refusals_come_before_any_write(data_dir: Path, tmp_path: Path) -> None:
    cert, _key = write_pair(tmp_path / "a")
    _cert, other_key = write_pair(tmp_path / "b")
    expired_cert, expired_key = write_pair(tmp_path / "c", days=-1)
    cases: list[tuple[FirstRunChoices, type[Exception], str]] = [
        (choices(confirmation="something else"), VaultError, "differ"),
        (choices(certificate=OperatorCertificate(cert, other_key)), ConfigError, "does not match"),
        (choices(certificate=OperatorCertificate(expired_cert, expired_key)), ConfigError, "expired"),
        (choices(certificate=OperatorCertificate(tmp_path / "none.pem", other_key)), ConfigError, "not found"),
        (choices(policy_text="format = 1\n[controller\n"), PolicyInvalid, "line 2"),
        (choices(endpoint=endpoint.EndpointSettings("0.0.0.0", 8443)), ConfigError, "host name"),
        (choices(endpoint=endpoint.EndpointSettings("127.0.0.1", 70000)), ConfigError, "port"),
        (choices(certificate=GeneratedCertificate(("bad name!",))), ConfigError, "not a host name"),
        (choices(token_name="  "), ConfigError, "token"),
    ]
    for given, error, words in cases:
        with pytest.raises(error) as raised:
            complete(data_dir, given, "dpo")
        assert words in raised.value.user_message, raised.value.user_message
    assert list(data_dir.iterdir()) == []


def test_an_existing_vault_is_never_replaced(vault: Vault, data_dir: Path) -> None:
    with pytest.raises(VaultExists, match="already exists"):  # a type, so `init` can word it for the command line
        check(data_dir, choices())
