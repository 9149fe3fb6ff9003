"""What every command needs: the vault, the operator's name, a confirmation prompt."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.core.errors import ConfigError
from app.core.paths import data_dir
from app.store.vault import Vault


def open_vault(args: argparse.Namespace) -> Vault:
    """Unlock the vault (CUSTOS_PASSPHRASE or the terminal); on first run create it.

    A vault always has a policy in force: one that has none yet gets the shipped default, on the record.
    """
    from app.headless import open_or_create_vault
    from app.policy.in_force import install_default_if_missing

    vault = open_or_create_vault(data_dir(getattr(args, "data_dir", None)))
    try:
        with vault.write_transaction() as conn:
            install_default_if_missing(conn)
    except BaseException:
        vault.close()
        raise
    return vault


def operator_name(args: argparse.Namespace) -> str:
    """Who is acting, for the audit trail: --operator, $CUSTOS_OPERATOR, or the login name."""
    given = getattr(args, "operator", None) or os.environ.get("CUSTOS_OPERATOR")
    if given:
        return str(given)[:120]
    try:
        return getpass.getuser()[:120]
    except (KeyError, OSError):
        return "unknown"


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal; without one, refuse unless --yes was given (scripts must be explicit)."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigError("Confirmation needed and no terminal to ask on: add --yes to apply from a script.")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")
