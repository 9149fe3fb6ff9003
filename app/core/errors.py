"""Exception tree for the core.

    CustosError                 every error the core raises on purpose; .user_message is safe to show
    ├── VaultError              opening, creating or unlocking the encrypted store
    │   ├── VaultNotFound       no vault at the given place
    │   ├── VaultNotAFile       a folder (or other non-file) where the vault file belongs
    │   ├── VaultExists         refusing to overwrite an existing vault
    │   ├── WrongPassphrase     the key does not decrypt the vault
    │   ├── VaultCorrupt        the key is right but part of the file does not authenticate (damaged)
    │   ├── VaultLocked         an operation needs an open vault
    │   ├── WeakCipherSettings  SQLCipher reports settings below our floor
    │   ├── StorageFull         the disk holding the vault is full: the write was not kept, retry later
    │   └── VaultGone           the vault file was moved, replaced or deleted while open: nothing more is written
    ├── ConfigError             bad command-line or configuration input
    │   └── PolicyInvalid       a policy file with problems (each with its line)

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
    """No vault file in the folder. Said with the folder and the way out, so that a mistyped ``--data-dir`` is seen
    for what it is rather than answered as an empty vault (a command that only uses a vault never creates one)."""

    def __init__(self, folder: object) -> None:
        super().__init__(
            f"No vault in {folder}; nothing was read or created. Give the folder of your vault (--data-dir or "
            "CUSTOS_DATA_DIR), or set up a new vault there with 'custos init'."
        )
        self.folder = folder


class VaultNotAFile(VaultError):
    """Something other than a file where the vault file belongs (a folder in its place): said as such. "A vault
    already exists; unlock it instead" sent the operator to unlock what cannot be opened."""

    def __init__(self, path: object, is_folder: bool) -> None:
        kind = "a folder" if is_folder else "not a regular file"
        super().__init__(
            f"{path} is {kind}, not a vault file: Custos can neither open it nor create a vault in its place, and "
            "nothing was changed. Move it aside, then restore your latest backup with 'custos vault restore BACKUP'."
        )
        self.path = path


class VaultExists(VaultError):
    pass


class WrongPassphrase(VaultError):
    def __init__(self) -> None:
        super().__init__("The passphrase does not unlock this vault. Nothing was changed; try again.")


class WrongBackupPassphrase(WrongPassphrase):
    """A backup keeps the passphrase in force when it was made: after a change, the old one opens it, not the new."""

    def __init__(self) -> None:
        VaultError.__init__(self, "The passphrase does not unlock this backup. A backup opens with the passphrase "
                                  "that was in force when it was made (after a passphrase change, the old one). "
                                  "Nothing was changed; try again.")  # fmt: skip


class VaultCorrupt(VaultError):
    """The passphrase is right but pages of the file fail SQLCipher's authentication, or SQLite finds the file
    malformed: a damaged file (disk, copy, tampering), never to be mistaken for a wrong passphrase."""

    def __init__(self, path: object, detail: str = "", stopped: bool = False, key_checked: bool = True) -> None:
        what = f" ({detail})" if detail else ""
        # ``stopped``: met while a command worked on the open vault; its unfinished transaction was rolled back.
        then = "the command stopped there" if stopped else "nothing was changed"
        # ``key_checked``: False when too little of the file is left to try the passphrase on (no whole page).
        key = "The passphrase is right" if key_checked else "The passphrase could not be tried on it"
        super().__init__(
            f"The vault {path} is damaged{what}. {key}; {then}. "
            "See what is damaged with 'custos vault check', then restore your latest backup with "
            "'custos vault restore BACKUP' (erasures made since are replayed from the erasure ledger)."
        )
        self.path = path
        self.detail = detail


class VaultInUse(VaultError):
    """Another program has the vault file open (the app, ``serve`` or a command), so it cannot be re-encrypted or
    replaced: its connections would go on with the old key, or the replaced file, and fail on the next page they
    read. ``then``: what to do once it is closed."""

    def __init__(self, then: str = "change the passphrase") -> None:
        super().__init__("Another program has the vault open (the Custos app, 'custos serve' or a command): close it, "
                         f"then {then}. Nothing was changed.")  # fmt: skip


class VaultLocked(VaultError):
    def __init__(self) -> None:
        super().__init__("The vault is closed. Unlock it first.")


class WeakCipherSettings(VaultError):
    pass


class StorageFull(VaultError):
    def __init__(
        self,
        user_message: str = "The disk holding the vault is full; the change was not saved. Free some space and retry.",
    ) -> None:
        super().__init__(user_message)


class VaultGone(VaultError):
    """Writes through connections opened before would go on into a file no longer at the vault's path: an unlinked
    one (lost when the process ends, while clients were told their changes were stored) or one moved elsewhere."""

    def __init__(self, path: object) -> None:
        super().__init__(
            f"The vault file {path} was moved, replaced or deleted while in use: nothing more is written to it. "
            "Stop Custos, put the vault file back where it was (or restore a backup), then start again."
        )


class ConfigError(CustosError):
    pass


class PolicyInvalid(ConfigError):
    """A policy file that cannot be applied; ``problems`` are (line, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        first = f"line {problems[0][0]}: {problems[0][1]}" if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"The policy has problems: {first}{more}.")
        self.problems = problems
