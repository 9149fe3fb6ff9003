"""Getting the vault passphrase without a GUI: the CUSTOS_PASSPHRASE variable or a TTY prompt."""

from __future__ import annotations

import getpass
import os
import sys

from app.core.errors import ConfigError

PASSPHRASE_ENV = "CUSTOS_PASSPHRASE"
NEW_PASSPHRASE_ENV = "CUSTOS_NEW_PASSPHRASE"  # `vault passphrase` in scripts: the one to change to


def read_passphrase(confirm: bool = False) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise ConfigError(f"No passphrase: set {PASSPHRASE_ENV} or run from a terminal.")
    first = getpass.getpass("Vault passphrase: ")
    if confirm:
        second = getpass.getpass("Repeat the passphrase: ")
        if first != second:
            raise ConfigError("The two passphrases differ.")
    return first


def read_new_passphrase() -> tuple[str, str]:
    """The passphrase to change to and its repetition (the vault's rules judge both: too short, or not the same).
    From CUSTOS_NEW_PASSPHRASE (given once, so repeated as is) or asked twice on the terminal."""
    from_env = os.environ.get(NEW_PASSPHRASE_ENV)
    if from_env:
        return from_env, from_env
    if not sys.stdin.isatty():
        raise ConfigError(f"No new passphrase: set {NEW_PASSPHRASE_ENV} or run from a terminal.")
    return getpass.getpass("New passphrase: "), getpass.getpass("Repeat the new passphrase: ")
