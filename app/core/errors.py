"""Exception tree for the core.

    CustosError                 every error the core raises on purpose; .user_message is safe to show
    ├── VaultError              opening, creating or unlocking the encrypted store
    │   ├── VaultNotFound       no vault at the given place
    │   ├── VaultExists         refusing to overwrite an existing vault
    │   ├── WrongPassphrase     the key does not decrypt the vault
    │   ├── VaultLocked         an operation needs an open vault
    │   └── WeakCipherSettings  SQLCipher reports settings below our floor
    └── ConfigError             bad command-line or configuration input

Messages never carry personal data or secrets: they are shown in the UI, printed by the CLI and logged.
"""

from __future__ import annotations


class CustosError(Exception):
    """Base class; ``user_message`` is plain language fit for a dialog or a terminal."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class VaultError(CustosError):
    pass


class VaultNotFound(VaultError):
    pass


class VaultExists(VaultError):
    pass


class WrongPassphrase(VaultError):
    def __init__(self) -> None:
        super().__init__("The passphrase does not unlock this vault. Nothing was changed; try again.")


class VaultLocked(VaultError):
    def __init__(self) -> None:
        super().__init__("The vault is closed. Unlock it first.")


class WeakCipherSettings(VaultError):
    pass


class ConfigError(CustosError):
    pass
