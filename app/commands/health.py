"""``custos health``: every state an operator must act on, checked now, for a person or a monitoring system.

Printed format (a contract for scripts):
  one line per check, ``CHECK  STATE  DETAIL`` under that header (STATE ``ok``, ``warn`` or ``fail``), then
  ``Overall: STATE (N to act on now, M soon)``; with ``--json`` a JSON object ``{"overall": …, "checks": [{"check",
  "state", "detail"}]}`` instead.
Exit status: 0 every check ok, 1 something to act on soon (warn), 3 something to act on now (fail); 2, as for
every command, when it could not run (no vault, a wrong passphrase).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.commands.common import open_vault, vault_folder

if TYPE_CHECKING:
    from app.services.health import Check

EXIT = {"ok": 0, "warn": 1, "fail": 3}


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    health = commands.add_parser(
        "health", help="check the trail, the clocks, targets, tokens, certificate, backups and disk (exit 0/1/3)"
    )
    health.add_argument("--json", action="store_true", help="print the checks as one JSON object (for monitoring)")
    add_data_dir(health)


def run(args: argparse.Namespace) -> int:
    from app.core.errors import StorageFull
    from app.services.health import FAIL, Check, check_all, disk

    try:
        vault = open_vault(args)
    except StorageFull as full:  # before: a traceback and exit 1 ("act soon") from the check that watches the disk
        return _report(args, [Check(FAIL, "vault", full.user_message), disk(vault_folder(args))])
    try:
        checks = check_all(vault)
    finally:
        vault.close()
    return _report(args, checks)


def _report(args: argparse.Namespace, checks: list[Check]) -> int:
    from app.services.health import worst

    overall = worst(checks)
    if args.json:
        rows = [{"check": c.name, "state": c.level, "detail": c.text} for c in checks]
        print(json.dumps({"overall": overall, "checks": rows}, ensure_ascii=False))
        return EXIT[overall]
    width = max(len(c.name) for c in checks) + 2
    print(f"{'CHECK':<{width}}{'STATE':<6} DETAIL")
    for check in checks:
        print(f"{check.name:<{width}}{check.level:<6} {check.text}")
    now, soon = (sum(1 for c in checks if c.level == level) for level in ("fail", "warn"))
    print(f"Overall: {overall} ({now} to act on now, {soon} soon)")
    return EXIT[overall]
