"""``custos target add|edit|list|test|remove|reconcile``: the downstream applications Custos provisions.

Credentials never appear on the command line (other users can read it): ``--token-env VAR``, ``--token-file
FILE`` or a prompt. Printed formats (a contract):
  list:      ``NAME  STATE  RECIPIENT  HELD  QUEUED  FAILED  URL  IN_SCOPE  SYNC  VERIFIED`` table; SYNC is
             ``in-sync`` (checked against the target since the last push: no difference), ``not-verified`` (nothing
             queued, but not checked since the last push), ``drift:N`` (the last check found N differences),
             ``syncing:HELD/IN_SCOPE``, ``incomplete:HELD/IN_SCOPE`` (nothing queued, some missing), ``failed``;
             VERIFIED is when the last reconcile began, ``YYYY-MM-DDTHH:MMZ``, or ``never``; TIMEOUT (added last)
             is the seconds the target has to answer a request, ``15s`` unless set with ``--timeout``
  edit:      ``Changed target NAME: FIELD, FIELD…`` or ``Nothing changed for NAME.``
  test:      ``Connected to NAME: …`` then one ``  ATTRIBUTE  supported|NOT SUPPORTED`` line per mapped attribute
  reconcile: ``NAME: N accounts checked`` then one line per kind of drift, or ``no drift``
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.commands.common import confirm, open_vault, read_text_file
from app.core.errors import ConfigError

if TYPE_CHECKING:
    from app.services.targets import TargetRow

ERASE_MODE_HELP = (
    "how an erasure reaches it: delete (DELETE, then read back to confirm), deactivate (active=false only: the "
    "erasure is not confirmed), manual (an operator attests it with `erase attest`)"
)
TIMEOUT_HELP = "seconds the target has to answer each request, 1 to 300 (connecting: at most 5 of them)"


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    target = commands.add_parser("target", help="configure the downstream SCIM applications")
    sub = target.add_subparsers(dest="target_command", required=True)
    add = sub.add_parser("add", help="add a target (its credential is read from --token-env, --token-file or a prompt)")
    add.add_argument("name", help="a short name for the target, used by the other target commands")
    add.add_argument("--url", required=True, help="the target's SCIM base URL (https://…/scim/v2)")
    add.add_argument("--recipient", required=True, help="the policy recipient whose attributes it receives")
    add.add_argument("--auth", choices=("bearer", "oauth2", "none"), default="bearer",
                     help="how Custos authenticates to it (default bearer)")  # fmt: skip
    add.add_argument("--token-env", help="environment variable holding the bearer token or client secret")
    add.add_argument("--token-file", help="file holding the bearer token or client secret")
    add.add_argument("--oauth-token-url", help="with --auth oauth2: the token endpoint (client credentials grant)")
    add.add_argument("--client-id", help="with --auth oauth2: the client id (its secret from --token-env/--token-file)")
    add.add_argument("--scope", help="with --auth oauth2: the scope to ask for, if the target needs one")
    add.add_argument("--ca-file", help="CA certificate(s) to verify the target with")
    add.add_argument("--pin", help="SHA-256 fingerprint of the target's certificate (pinning)")
    add.add_argument(
        "--rename", action="append", default=[], metavar="OURS=THEIRS", help="send an attribute under another name"
    )
    add.add_argument("--erase-mode", choices=("delete", "deactivate", "manual"), default="delete", help=ERASE_MODE_HELP)
    add.add_argument("--concurrency", type=int, default=4, help="requests in flight to this target at once")
    add.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS", help=TIMEOUT_HELP + " (default 15)")
    add_data_dir(add)
    edit = sub.add_parser("edit", help="change a target; its credential only with --token-env or --token-file")
    edit.add_argument("name", help="the target's name, as `target list` shows it")
    edit.add_argument("--url", help="a new SCIM base URL")
    edit.add_argument("--recipient", help="another policy recipient whose attributes it receives")
    edit.add_argument("--auth", choices=("bearer", "oauth2", "none"), help="another way to authenticate to it")
    edit.add_argument("--token-env", help="environment variable holding the new bearer token or client secret")
    edit.add_argument("--token-file", help="file holding the new bearer token or client secret")
    edit.add_argument("--oauth-token-url", help="with oauth2: a new token endpoint")
    edit.add_argument("--client-id", help="with oauth2: a new client id")
    edit.add_argument("--scope", help="with oauth2: a new scope")
    edit.add_argument("--ca-file", help="new CA certificate(s) to verify the target with")
    edit.add_argument("--pin", help="a new SHA-256 fingerprint of the target's certificate (pinning)")
    edit.add_argument("--rename", action="append", metavar="OURS=THEIRS", help="replaces every rename when given")
    edit.add_argument("--erase-mode", choices=("delete", "deactivate", "manual"), help=ERASE_MODE_HELP)
    edit.add_argument("--concurrency", type=int, help="requests in flight to this target at once")
    edit.add_argument("--timeout", type=float, metavar="SECONDS", help=TIMEOUT_HELP)
    edit.add_argument("--enabled", choices=("yes", "no"), help="pause (no) or resume (yes) provisioning to it")
    add_data_dir(edit)
    listing = sub.add_parser("list", help="targets with their queue and how many subjects each holds")
    add_data_dir(listing)
    test = sub.add_parser("test", help="connect, run discovery, and check the mapped attributes are supported")
    test.add_argument("name", help="the target's name")
    add_data_dir(test)
    remove = sub.add_parser("remove", help="remove a target (the accounts it holds stay there: erase them first; a "
                            "later erasure of one of them gets a manual step)")
    remove.add_argument("name", help="the target's name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    add_data_dir(remove)
    reconcile = sub.add_parser("reconcile", help="compare the target with the mirror and report drift")
    reconcile.add_argument("name", help="the target's name")
    reconcile.add_argument("--repair", action="store_true", help="queue pushes for missing and differing accounts")
    add_data_dir(reconcile)


def _secret(args: argparse.Namespace) -> str | None:
    if args.auth == "none":
        return None
    if args.token_env:
        value = os.environ.get(args.token_env)
        if not value:
            raise ConfigError(f"The environment variable {args.token_env} is empty or not set.")
        return value.strip()
    if args.token_file:
        value = read_text_file(args.token_file).strip()  # a binary file said as such, not a traceback
        if not value:  # as for the variable: an empty credential would be kept silently by `edit`, said as changed
            raise ConfigError(f"The file {args.token_file} is empty: it holds no credential.")
        return value
    if not sys.stdin.isatty():
        raise ConfigError("Give the credential with --token-env or --token-file (no terminal to ask on).")
    value = getpass.getpass("Credential for this target (not shown): ").strip()
    if not value:
        raise ConfigError("No credential was typed; nothing was changed.")
    return value


def _renames(pairs: list[str]) -> dict[str, str]:
    renames = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ConfigError(f"--rename takes OURS=THEIRS, not {pair!r}.")
        renames[ours.strip()] = theirs.strip()
    return renames


def _add(args: argparse.Namespace) -> int:
    from app.services import targets

    config = targets.TargetConfig(
        id=0,
        name=args.name,
        base_url=args.url,
        recipient_id=args.recipient,
        auth_kind=args.auth,
        secret=_secret(args),
        oauth_token_url=args.oauth_token_url,
        oauth_client_id=args.client_id,
        oauth_scope=args.scope,
        ca_file=args.ca_file,
        pinned_sha256=args.pin,
        renames=_renames(args.rename),
        erase_mode=args.erase_mode,
        max_concurrency=args.concurrency,
        timeout=args.timeout,
    )
    vault = open_vault(args)
    try:
        _added, receives = targets.add(vault, config)
    finally:
        vault.close()
    print(f"Added target {config.name}: receives {', '.join(receives)}")
    return 0


def _edit(args: argparse.Namespace) -> int:
    from app.services import targets

    given = {
        "base_url": args.url, "recipient_id": args.recipient, "auth_kind": args.auth,
        "oauth_token_url": args.oauth_token_url, "oauth_client_id": args.client_id, "oauth_scope": args.scope,
        "ca_file": args.ca_file, "pinned_sha256": args.pin, "erase_mode": args.erase_mode,
        "max_concurrency": args.concurrency, "timeout": args.timeout,
        "renames": _renames(args.rename) if args.rename is not None else None,
        "enabled": None if args.enabled is None else args.enabled == "yes",
        "secret": _secret(args) if (args.token_env or args.token_file) else None,
    }  # fmt: skip
    changes = {k: v for k, v in given.items() if v is not None}
    vault = open_vault(args)
    try:
        before = targets.config(vault, args.name)
        targets.change(vault, args.name, **changes)
    finally:
        vault.close()
    changed = sorted("credential" if k == "secret" else k for k, v in changes.items() if getattr(before, k) != v)
    print(f"Changed target {args.name}: {', '.join(changed)}." if changed else f"Nothing changed for {args.name}.")
    return 0


def _list(args: argparse.Namespace) -> int:
    from app.services.policy import policy_in_force
    from app.services.targets import listing

    vault = open_vault(args)
    try:
        rows = listing(vault, policy_in_force(vault))
    finally:
        vault.close()
    cells = [_cells(row) for row in rows]
    # The columns from URL on are as wide as their longest value, so they line up under their header; a script
    # splits each line on whitespace either way (the format is a contract: only the spacing is new).
    widths = [max([len(name), *(len(tail[i]) for _, tail in cells)]) for i, name in enumerate(_TAIL)]
    head = f"{'NAME':<20} {'STATE':<9} {'RECIPIENT':<20} {'HELD':>6} {'QUEUED':>7} {'FAILED':>7}  "
    print(head + "  ".join(f"{name:<{width}}" for name, width in zip(_TAIL, widths, strict=True)).rstrip())
    for lead, tail in cells:
        print(lead + "  ".join(f"{cell:<{width}}" for cell, width in zip(tail, widths, strict=True)).rstrip())
    return 0


_TAIL = ("URL", "IN_SCOPE", "SYNC", "VERIFIED", "TIMEOUT")


def _cells(row: TargetRow) -> tuple[str, list[str]]:
    """One target's line: the fixed-width columns as one string, then the columns from URL on."""
    config, queue, sync = row.config, row.queue, row.sync
    lead = (f"{config.name:<20} {row.state:<9} {config.recipient_id:<20} {row.held:>6} {queue.pending:>7} "
            f"{queue.failed:>7}  ")  # fmt: skip
    scoped = f"{sync.in_scope}" if sync is not None else "-"
    return lead, [config.base_url, scoped, row.sync_word(), row.verification.verified_at(), f"{config.timeout:g}s"]


def _test(args: argparse.Namespace) -> int:
    from app.services.policy import policy_in_force
    from app.services.targets import check_named

    vault = open_vault(args)
    try:
        found = check_named(vault, policy_in_force(vault), args.name)
    finally:
        vault.close()
    print(found.headline())
    if not found.reached:
        return 1
    for path, ok in (found.support or {}).items():
        print(f"  {path:<60} {'supported' if ok else 'NOT SUPPORTED'}")
    return 0 if found.ok else 1


def _remove(args: argparse.Namespace) -> int:
    from app.services import targets

    vault = open_vault(args)
    try:
        held = targets.held(vault, args.name)
        if held:
            print(f"{args.name} still holds {held} subject(s) provisioned by Custos; removing it stops their updates.")
            print("They stay there: an erasure of one of them will ask you to tell the recipient and attest it.")
        if not confirm(f"Remove target {args.name}?", args.yes):
            print("Not removed.")
            return 1
        targets.remove(vault, args.name)
    finally:
        vault.close()
    print(f"Removed target {args.name}.")
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from app.services.policy import policy_in_force
    from app.services.targets import reconcile

    vault = open_vault(args)
    try:
        drift = reconcile(vault, policy_in_force(vault), args.name, repair=args.repair)
    finally:
        vault.close()
    print(f"{drift.target}: {drift.checked} accounts checked")
    for line in drift.lines(repaired=args.repair):
        print(f"  {line}")
    return 0 if drift.clean else 1


def run(args: argparse.Namespace) -> int:
    handlers = {"add": _add, "edit": _edit, "list": _list, "test": _test, "remove": _remove, "reconcile": _reconcile}
    return handlers[args.target_command](args)
