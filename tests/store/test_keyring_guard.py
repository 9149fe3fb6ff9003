"""The vault key is remembered only in a keyring that protects it. Debian and Ubuntu install keyrings.alt beside
keyring; with no Secret Service running (a bare session, a server) keyring picks its plain-file backend, and the
app offered to remember the key and wrote it there: the vault open to anyone who reads the home folder. Now such a
backend (and keyring's chainer over one) is refused: nothing offered, nothing written."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import chainer, fail, null
from keyrings.alt.file import PlaintextKeyring

from app.audit.vault_lifecycle import create_vault
from app.store.vault import KEYRING_SERVICE, key_from_keyring, keyring_available, protects_secrets, vault_path
from tests.conftest import PASSPHRASE
from tests.memory_keyring import MemoryKeyring  # stands for an OS store: none runs here


@pytest.fixture
def plain_file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        yield home
    finally:
        keyring.set_keyring(previous)


def test_the_plain_file_keyring_is_neither_offered_nor_written(plain_file_keyring: Path, data_dir: Path) -> None:
    vault = create_vault(data_dir, PASSPHRASE)
    try:
        assert not keyring_available()
        assert vault.remember_in_keyring() is False
    finally:
        vault.close()
    written = [path for path in plain_file_keyring.rglob("*") if path.is_file()]
    assert written == []  # before: keyring_pass.cfg holding the vault key, base64 in a file of the home folder


def test_a_key_an_earlier_version_left_in_the_plain_file_is_removed_not_used(
    plain_file_keyring: Path, data_dir: Path
) -> None:
    vault = create_vault(data_dir, PASSPHRASE)
    key = bytes(vault._key()).hex()
    vault.close()
    keyring.set_password(KEYRING_SERVICE, str(vault_path(data_dir)), key)  # as the earlier version wrote it
    (stored,) = [path for path in plain_file_keyring.rglob("*") if path.is_file()]
    written = base64.b64encode(key.encode()).decode()  # how the plain file keeps it
    assert written in "".join(stored.read_text(encoding="utf-8").split())  # wrapped over lines there
    assert key_from_keyring(data_dir) is None  # the passphrase is asked instead
    assert keyring.get_password(KEYRING_SERVICE, str(vault_path(data_dir))) is None
    assert written not in "".join(stored.read_text(encoding="utf-8").split())


def test_which_backends_protect_a_secret() -> None:
    assert protects_secrets(MemoryKeyring())
    # keyrings.alt's EncryptedKeyring (the same module) cannot be made here: it needs pycryptodome
    for unprotected in (PlaintextKeyring(), null.Keyring(), fail.Keyring()):
        assert not protects_secrets(unprotected), type(unprotected)


def test_a_chain_protects_only_if_every_backend_in_it_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's chainer writes to the first backend that takes the secret: the plain file when the store fails."""
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring(), PlaintextKeyring()])
    assert not protects_secrets(chainer.ChainerBackend())
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring()])
    assert protects_secrets(chainer.ChainerBackend())
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert not protects_secrets(chainer.ChainerBackend())
