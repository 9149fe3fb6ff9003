"""The first run, as one operation: vault, certificate, endpoint, policy and the first IdP token.

The choices are checked before anything is written (``check``), then ``complete`` writes them in order. If a
step fails or the operator cancels, every file it wrote is removed or put back, so the next attempt starts
from a clean folder instead of a vault with no policy or a certificate nobody chose.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.audit.vault_lifecycle import create_vault
from app.core import paths
from app.core.errors import CustosError, PolicyInvalid, VaultExists
from app.policy.edit import set_contact
from app.policy.in_force import install_default_if_missing
from app.policy.loader import check_policy, errors_of
from app.policy.versions import default_policy_text
from app.setup import endpoint
from app.setup.endpoint import EndpointSettings
from app.setup.tls import (
    CERT_FILENAME,
    KEY_FILENAME,
    CertificateSummary,
    check_operator_certificate,
    generate_self_signed,
    install_operator_certificate,
    summarise,
)
from app.setup.tokens import TokenStore, check_token_name
from app.store.vault import VAULT_FILENAME, Vault, check_new_passphrase
from app.targets.policy_change import apply_text

log = logging.getLogger(__name__)

DEFAULT_TOKEN_NAME = "Identity provider"


class SetupCancelled(CustosError):
    def __init__(self) -> None:
        super().__init__("The set-up was cancelled; nothing was kept.")


@dataclass(frozen=True)
class GeneratedCertificate:
    """A self-signed certificate for these names (loopback is always added)."""

    hostnames: tuple[str, ...] = ("localhost",)


@dataclass(frozen=True)
class OperatorCertificate:
    """The operator's own certificate and unencrypted key, copied into the data folder."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class FirstRunChoices:
    passphrase: str = field(repr=False)
    confirmation: str = field(repr=False)
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    certificate: GeneratedCertificate | OperatorCertificate = field(default_factory=GeneratedCertificate)
    policy_text: str | None = None  # None: the shipped default policy
    token_name: str = DEFAULT_TOKEN_NAME
    token_expires_days: int | None = None
    remember_key: bool = False
    # The controller's and DPO's contact details (name, address, email, telephone), written into the policy.
    # Empty: skipped, and the Art. 30 record says "Requires human completion" until they are filled in.
    contacts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def policy_to_install(choices: FirstRunChoices) -> str | None:
    """The policy text the set-up records: the chosen file (or the shipped default) with the contact details
    given; None: the shipped default as it is (recorded as such, like a server's first start)."""
    given = {role: values for role, values in choices.contacts.items() if any(v.strip() for v in values.values())}
    if not given:
        return choices.policy_text
    text = choices.policy_text if choices.policy_text is not None else default_policy_text()
    for role, values in given.items():
        text = set_contact(text, role, values)
    return text


@dataclass(frozen=True)
class FirstRunResult:
    vault: Vault
    token_name: str
    token_secret: str = field(repr=False)  # shown once, then only its hash exists
    base_url: str
    fingerprint: str
    certificate_names: tuple[str, ...]
    self_signed: bool
    policy_version: int
    key_remembered: bool


def check_policy_text(text: str) -> None:
    _policy, problems = check_policy(text)
    errors = errors_of(problems)
    if errors:
        raise PolicyInvalid([(problem.line, problem.message) for problem in errors])


def check(data_dir: Path, choices: FirstRunChoices) -> CertificateSummary | None:
    """Everything that can be refused before a file is written; the operator certificate's summary if any."""
    if Vault.exists(data_dir):
        raise VaultExists(f"A vault already exists in {data_dir}; unlock it instead.")  # the app's words: see init
    check_new_passphrase(choices.passphrase, choices.confirmation)
    choices.endpoint.reachable()
    text = policy_to_install(choices)
    if text is not None:
        check_policy_text(text)
    check_token_name(choices.token_name)
    if isinstance(choices.certificate, OperatorCertificate):
        return check_operator_certificate(choices.certificate.cert, choices.certificate.key)
    for name in choices.certificate.hostnames:
        endpoint.check_host_name(name)
    return None


class Undo:
    """Remembers each file's content before the set-up touched it, and puts every one back on failure."""

    def __init__(self, data_dir: Path, names: tuple[str, ...]) -> None:
        self._before: dict[Path, tuple[bytes, int] | None] = {}
        for name in names:
            path = data_dir / name
            self._before[path] = (path.read_bytes(), path.stat().st_mode & 0o777) if path.is_file() else None

    def restore(self) -> None:
        for path, before in self._before.items():
            try:
                if before is None:
                    path.unlink(missing_ok=True)
                    continue
                content, mode = before
                # Written afresh at its old mode (a private key stays 0600), then swapped in whole.
                temporary = path.with_name(path.name + ".restore")
                fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                os.replace(temporary, path)
            except OSError as exc:  # keep restoring the rest; say which file needs a hand
                log.error("could not restore %s during set-up rollback: %s", path.name, type(exc).__name__)


_WRITTEN = (
    VAULT_FILENAME,
    f"{VAULT_FILENAME}-wal",
    f"{VAULT_FILENAME}-shm",
    CERT_FILENAME,
    KEY_FILENAME,
    endpoint.ENDPOINT_FILENAME,
)
STEPS = ("certificate", "vault", "policy", "token", "endpoint")


def _first_missing(folder: Path) -> Path | None:
    """The outermost of ``folder`` and its parents that does not exist yet: what making ``folder`` creates."""
    missing = None
    for place in (folder, *folder.parents):
        if place.exists():
            break
        missing = place
    return missing


def complete(
    data_dir: Path,
    choices: FirstRunChoices,
    operator: str,
    progress: Callable[[int, str], None] = lambda _step, _text: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> FirstRunResult:
    """Write the choices; on any failure or cancellation nothing is left behind. The caller owns the vault.

    The folder is made here, not when the app starts: an assistant cancelled before *Set up* leaves no folder, and
    one made here is removed again if the set-up fails or is cancelled."""
    check(data_dir, choices)
    made = _first_missing(data_dir)
    paths.data_dir(data_dir)
    undo = Undo(data_dir, _WRITTEN)
    vault: Vault | None = None

    def step(index: int, text: str) -> None:
        if cancelled():
            raise SetupCancelled()
        progress(index, text)

    try:
        step(0, "Making the TLS certificate…")
        if isinstance(choices.certificate, OperatorCertificate):
            tls = install_operator_certificate(data_dir, choices.certificate.cert, choices.certificate.key)
        else:
            tls = generate_self_signed(data_dir, choices.certificate.hostnames)
        step(1, "Creating the encrypted vault (deriving the key takes a moment)…")
        vault = create_vault(data_dir, choices.passphrase, choices.confirmation)
        step(2, "Recording the policy…")
        text = policy_to_install(choices)
        with vault.write_transaction() as conn:
            if text is None:
                record = install_default_if_missing(conn)
            else:
                record, _impact = apply_text(conn, text, operator)
        step(3, "Creating the first token…")
        info, secret = TokenStore(vault).create(choices.token_name, choices.token_expires_days)
        step(4, "Saving the endpoint address…")
        endpoint.save(data_dir, choices.endpoint)
        summary = summarise(tls.cert_path.read_bytes())
        if cancelled():
            raise SetupCancelled()
    except BaseException:
        if vault is not None:
            vault.close()
        undo.restore()
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)  # only what this set-up wrote was in it
        raise
    remembered = choices.remember_key and vault.remember_in_keyring()
    log.info("first run complete: vault, certificate, policy version %s, one token", record.version)
    return FirstRunResult(
        vault=vault,
        token_name=info.name,
        token_secret=secret,
        base_url=choices.endpoint.checked().base_url(),
        fingerprint=summary.fingerprint,
        certificate_names=summary.names,
        self_signed=summary.self_signed,
        policy_version=record.version,
        key_remembered=remembered,
    )
