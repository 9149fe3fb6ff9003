"""What every command needs: the vault, the operator's name, a confirmation prompt.

Light on purpose: every command module imports this at start-up to register its arguments, so the vault
(SQLAlchemy, SQLCipher, Alembic) is imported only when a command opens it (``--help`` stays fast).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.core.actor import operator_login
from app.core.errors import ConfigError
from app.core.paths import data_dir

if TYPE_CHECKING:
    from app.store.vault import Vault


def open_vault(args: argparse.Namespace) -> Vault:
    """Unlock the vault (CUSTOS_PASSPHRASE or the terminal); on first run create it.

    A vault always has a policy in force: one that has none yet gets the shipped default, on the record.
    """
    from app.services.vault import open_for_command

    return open_for_command(data_dir(getattr(args, "data_dir", None)))


def operator_name(args: argparse.Namespace) -> str:
    """Who is acting, for the audit trail: --operator, $CUSTOS_OPERATOR, or the login name."""
    return operator_login(getattr(args, "operator", None))


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal; without one, refuse unless --yes was given (scripts must be explicit)."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigError("Confirmation needed and no terminal to ask on: add --yes to apply from a script.")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")
