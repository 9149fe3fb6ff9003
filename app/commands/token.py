"""``custos token create|list|revoke``: the bearer tokens identity providers authenticate with.

Printed formats (a contract for scripts):
  create: ``Token for NAME (shown once, store it in the IdP now):`` then the secret alone on the next line.
  list:   ``NAME  STATUS  CREATED (UTC)  LAST USED (UTC)  HINT  EXPIRES (UTC)`` table; EXPIRES (added last, so the
          columns before it are unchanged) is the moment or ``never``, with ``(expires in 5 days)`` or
          ``(expired)`` for a live token within 14 days of it (decision 0057).
  revoke: ``Revoked token NAME.``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.commands.common import vault_folder, whole_number

_STAMP = "%Y-%m-%d %H:%M"


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    token = commands.add_parser("token", help="manage SCIM client tokens")
    sub = token.add_subparsers(dest="token_command", required=True)
    create = sub.add_parser("create", help="create a token and print it once")
    create.add_argument("--name", required=True, help="a unique name for the client, e.g. its IdP (shown in the trail)")
    create.add_argument("--expires-days", type=whole_number, default=None,
                        help="days until it stops working (default: no expiry)")  # fmt: skip
    add_data_dir(create)
    listing = sub.add_parser("list", help="list tokens (never their secrets), with when each expires")
    add_data_dir(listing)
    revoke = sub.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name", help="the token's name, as `token list` shows it")
    add_data_dir(revoke)


def run(args: argparse.Namespace) -> int:
    from app.services import tokens
    from app.services.vault import open_existing

    # The existing vault only: a folder without one is refused (only init and serve create one).
    vault = open_existing(vault_folder(args))
    try:
        store = tokens.store(vault)
        if args.token_command == "create":
            info, secret = store.create(args.name, args.expires_days)
            print(f"Token for {info.name} (shown once, store it in the IdP now):")
            print(secret)
        elif args.token_command == "list":
            _list(store.list(), tokens.expiry_note, datetime.now(UTC))
        else:
            info = store.revoke(args.name)
            print(f"Revoked token {info.name}.")
    finally:
        vault.close()
    return 0


def _list(items: list[Any], note_of: Callable[[Any, datetime], str], now: datetime) -> None:
    """Times in UTC (the stored zone), said in the header as `audit tail` and `breach list` say it."""
    print(f"{'NAME':<24} {'STATUS':<8} {'CREATED (UTC)':<20} {'LAST USED (UTC)':<20} {'HINT':<9} EXPIRES (UTC)")
    for item in items:
        last = item.last_used.astimezone(UTC).strftime(_STAMP) if item.last_used else "never"
        created = item.created.astimezone(UTC).strftime(_STAMP)
        expires = item.expires.astimezone(UTC).strftime(_STAMP) if item.expires else "never"
        note = note_of(item, now)
        hint = f"{item.hint}…"
        print(f"{item.name:<24} {item.status:<8} {created:<20} {last:<20} {hint:<9} {expires}"
              + (f" ({note})" if note else ""))  # fmt: skip
