"""Shared fixtures: real SQLCipher vaults in temporary folders, and the real server over HTTPS."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("CUSTOS_DATA_DIR", None)
# The command-line tests run the app in child processes, hundreds of them. Where the environment forbids bytecode
# files (PYTHONDONTWRITEBYTECODE), each child compiled every module of the app it imports again (50 to 80 ms a
# run); the children keep their bytecode in one folder of the temporary directory instead, never beside the sources.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / f"custos-pycache-{os.getuid()}"))

from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.scim.service import ScimService
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store import engine as sqlcipher_engine
from app.store.vault import Vault, vault_path
from tests.policy_support import hold_everything

PASSPHRASE = "test passphrase 1"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@dataclass(frozen=True)
class VaultTemplate:
    """A vault made once per session by ``Vault.create`` (so creation itself stays tested), closed, and copied
    for each test: a copy is the same file a fresh create makes — migrated, its ``vault.created`` entry on the
    trail — without a key derivation and a migration per test. Each copy is its own file in the test's folder,
    opened with the template's derived key (the passphrase still unlocks it: same salt)."""

    path: Path
    key: bytes
    salt: bytes

    def open_copy(self, data_dir: Path) -> Vault:
        copy = vault_path(data_dir)
        shutil.copyfile(self.path, copy)
        os.chmod(copy, 0o600)
        opened = Vault(copy, self.key, self.salt)
        opened.fix_permissions()
        return opened


class VaultTemplates:
    """One template per passphrase (the UI tests use their own), made on first use."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._made: dict[str, VaultTemplate] = {}

    def get(self, passphrase: str = PASSPHRASE) -> VaultTemplate:
        if passphrase not in self._made:
            folder = self._factory.mktemp("vault-template")
            create_vault(folder, passphrase, passphrase).close()  # closing checkpoints: the vault is in one file
            path = vault_path(folder)
            key = Vault.derive_key(folder, passphrase)
            self._made[passphrase] = VaultTemplate(path, key, sqlcipher_engine.read_salt(path))
        return self._made[passphrase]


@pytest.fixture(scope="session")
def vault_templates(tmp_path_factory: pytest.TempPathFactory) -> VaultTemplates:
    return VaultTemplates(tmp_path_factory)


@pytest.fixture(scope="session")
def vault_template(vault_templates: VaultTemplates) -> VaultTemplate:
    return vault_templates.get(PASSPHRASE)


@pytest.fixture
def vault(data_dir: Path, vault_template: VaultTemplate) -> Iterator[Vault]:
    opened = vault_template.open_copy(data_dir)
    yield opened
    if opened.is_open:
        opened.close()


@pytest.fixture(scope="module")
def module_vault(tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate) -> Iterator[Vault]:
    folder = tmp_path_factory.mktemp("vault")
    opened = vault_template.open_copy(folder)
    hold_everything(opened)  # protocol tests use every attribute; minimisation is tested in tests/policy
    yield opened
    opened.close()


@pytest.fixture
def service(module_vault: Vault) -> ScimService:
    return ScimService(module_vault, "https://scim.test/scim/v2", EventBus())


class LiveServer:
    def __init__(self, server: ScimServer, token: str, cert: Path, data_dir: Path) -> None:
        self.server = server
        self.token = token
        self.cert = cert
        self.data_dir = data_dir

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        verify = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=self.server.base_url, verify=verify, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate) -> Iterator[LiveServer]:
    """The real server on loopback over HTTPS, on a real SQLCipher file."""
    folder = tmp_path_factory.mktemp("live")
    opened = vault_template.open_copy(folder)
    hold_everything(opened)
    _, token = TokenStore(opened).create("test-idp")
    tls = ensure_self_signed(folder)
    server = ScimServer(opened, tls=tls, bus=EventBus())
    server.start()
    yield LiveServer(server, token, tls.cert_path, folder)
    server.stop()
    opened.close()


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as http:
        yield http


def new_user(user_name: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"schemas": [USER_SCHEMA], "userName": user_name}
    body.update(extra)
    return body


def patch_body(*operations: dict[str, object]) -> dict[str, object]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}
