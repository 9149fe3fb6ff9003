"""Getting the vault passphrase without a GUI: the CUSTOS_PASSPHRASE variable or a TTY prompt."""

from __future__ import annotations

import getpass
import os
import sys

from app.core.errors import ConfigError

PASSPHRASE_ENV = "CUSTOS_PASSPHRASE"


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
