"""``custos init``: the first run without a screen, for a team that runs ``custos serve`` on a server.

The same operation as the desktop's first-run assistant (app.setup.first_run). Printed format (a contract):
  Custos is set up in DATA_DIR.
  SCIM base URL: URL
  TLS certificate SHA-256: FINGERPRINT (self-signed|issued by a CA)
  Policy in force: version N (the default policy|FILE)
  Token NAME (shown once, store it now): SECRET
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.common import operator_name, port_number, read_text_file, whole_number
from app.core.errors import ConfigError, VaultExists
from app.core.passphrase import PASSPHRASE_ENV, read_passphrase
from app.core.paths import chosen_data_dir
from app.core.terminal import shown
from app.setup.endpoint import DEFAULT_HOST, DEFAULT_PORT, EndpointSettings, pick_free_port

if TYPE_CHECKING:  # the first run (vault, certificates, policy) is imported when `init` runs, not at start-up
    from app.services.setup import GeneratedCertificate, OperatorCertificate


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    init = commands.add_parser(
        "init", help="first run without the app: vault, certificate, endpoint address, policy, first token"
    )
    init.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (0.0.0.0: every interface)")
    init.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    init.add_argument("--public-host", help="the DNS name IdPs use to reach this machine (needed with 0.0.0.0)")
    init.add_argument("--tls-cert", help="your PEM certificate (copied into the data folder)")
    init.add_argument("--tls-key", help="its unencrypted PEM key")
    init.add_argument(
        "--hostname", action="append", default=[], help="a name for the generated certificate (repeatable)"
    )
    init.add_argument("--policy", help="a policy file (TOML) instead of the shipped default")
    init.add_argument("--token-name", help="name the first token after its IdP (default: Identity provider)")
    init.add_argument("--token-expires-days", type=whole_number, default=None,
                      help="days until the first token stops working (default: no expiry)")  # fmt: skip
    init.add_argument("--operator", help="who sets Custos up, for the audit trail (default: login name)")
    add_data_dir(init)


def _certificate(args: argparse.Namespace, settings: EndpointSettings) -> GeneratedCertificate | OperatorCertificate:
    from app.services.setup import GeneratedCertificate, OperatorCertificate

    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("Give both --tls-cert and --tls-key, or neither.")
    if args.tls_cert:
        if args.hostname:
            raise ConfigError("--hostname names a generated certificate; yours already has its names.")
        return OperatorCertificate(Path(args.tls_cert).expanduser(), Path(args.tls_key).expanduser())
    names = ["localhost", *args.hostname]
    if settings.public_host:
        names.append(settings.public_host)
    return GeneratedCertificate(tuple(dict.fromkeys(names)))


def run(args: argparse.Namespace) -> int:
    from app.services.setup import DEFAULT_TOKEN_NAME, FirstRunChoices, check_port_free, complete

    directory = chosen_data_dir(args.data_dir)  # made by the set-up when it writes: a refused init leaves none
    settings = EndpointSettings(args.host, args.port, args.public_host).checked()
    if settings.port == 0:  # saved in endpoint.toml and printed as the IdP's base URL: a real port, chosen now
        settings = replace(settings, port=pick_free_port(settings.host))
    else:  # as the first-run assistant's page does: init printed "set up" for an address serve then could not use
        check_port_free(settings.host, settings.port)
    policy_text = read_text_file(args.policy) if args.policy else None
    passphrase = read_passphrase(confirm=True)
    choices = FirstRunChoices(
        passphrase=passphrase,
        confirmation=passphrase,  # read_passphrase asked twice on a terminal; $CUSTOS_PASSPHRASE is typed once
        endpoint=settings,
        certificate=_certificate(args, settings),
        policy_text=policy_text,
        token_name=DEFAULT_TOKEN_NAME if args.token_name is None else args.token_name,
        token_expires_days=args.token_expires_days,
    )
    try:
        result = complete(directory, choices, operator_name(args))
    except VaultExists as exists:  # the first run's words ("unlock it instead") name the app's unlock page
        raise ConfigError(
            f"A vault already exists in {shown(directory)}; init changed nothing there. Use that vault (`custos "
            "serve`, `custos token create --name NAME`), or give a new folder with --data-dir to set up another."
        ) from exists
    result.vault.close()
    print(f"Custos is set up in {shown(directory)}.")
    print(f"SCIM base URL: {result.base_url}")
    print(
        f"TLS certificate SHA-256: {result.fingerprint} ({'self-signed' if result.self_signed else 'issued by a CA'})"
    )
    named = shown(args.policy) if args.policy else "the default policy"
    print(f"Policy in force: version {result.policy_version} ({named})")
    print(f"Token {result.token_name} (shown once, store it now): {result.token_secret}")
    print(f"Next: `custos serve` (with {PASSPHRASE_ENV} or a terminal) listens on {settings.host}:{settings.port}.")
    return 0
