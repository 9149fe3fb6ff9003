"""What every command needs: the vault, the operator's name, a confirmation prompt.

Light on purpose: every command module imports this at start-up to register its arguments, so the vault
(SQLAlchemy, SQLCipher, Alembic) is imported only when a command opens it (``--help`` stays fast).
"""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.actor import operator_login
from app.core.errors import ConfigError
from app.core.file_suffix import other_suffix_refusal
from app.core.paths import chosen_data_dir
from app.core.surrogates import has_lone_surrogate

if TYPE_CHECKING:
    from app.store.vault import Vault


INTEGER_MAX = 2**63 - 1  # the largest whole number SQLite's INTEGER holds
PORT_MAX = 65535


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def whole_number(text: str) -> int:
    """argparse type for ids, sequence numbers and counts: an int that fits SQLite's INTEGER. A larger one reached
    the store and ended the command in an OverflowError traceback; now argparse refuses it (exit 2, one line)."""
    number = _whole(text)
    if not -INTEGER_MAX - 1 <= number <= INTEGER_MAX:
        raise argparse.ArgumentTypeError(f"{text} is too large a number")
    return number


def port_number(text: str) -> int:
    """argparse type for a TCP port, 0 to 65535 (0: pick a free one where the option says so). Out of range, the
    socket layer raised OverflowError after the vault was opened."""
    number = _whole(text)
    if not 0 <= number <= PORT_MAX:
        raise argparse.ArgumentTypeError(f"a port is 0 to {PORT_MAX}, not {text}")
    return number


def undecodable_option(args: argparse.Namespace) -> str | None:
    """The first option whose text is no Unicode (bytes that are not UTF-8 reach Python as lone surrogates), else
    None. Such text cannot be stored or printed: a title or reason ended in a UnicodeEncodeError traceback deep in
    the store. The option is named, never its value (it may be a person's name)."""
    for name, value in vars(args).items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and has_lone_surrogate(text):
                return name
    return None


def readable_file(name: str) -> Path:
    """The file a command is to check or open, refused as a usage error (exit 2) when it cannot be read at all.

    A verdict is about content: a mistyped path printed 'Evidence bundle BROKEN' or 'INVALID' (exit 1), which an
    incident responder reads as tampering."""
    path = Path(name)
    try:
        # Asked before any open: opening a FIFO waits for a writer forever, and /dev/zero reads without an end.
        mode = path.stat().st_mode
        regular = stat.S_ISREG(mode)
        if regular or stat.S_ISDIR(mode):  # a folder is told as the system words it ("Is a directory")
            with path.open("rb"):
                pass
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or type(exc).__name__}.") from None
    if not regular:
        raise ConfigError(f"Cannot read {path}: not a file.")
    return path


def refuse_other_suffix(out: Path, fmt: str, suffix: str) -> None:
    """--format FMT writes a .SUFFIX file: an --out ending in another document format's suffix is refused before
    the vault is unlocked (app/core/file_suffix.py says why)."""
    refusal = other_suffix_refusal(out, suffix, f"--format {fmt}", "--out")
    if refusal is not None:
        raise ConfigError(refusal)


def read_text_file(name: str) -> str:
    """A UTF-8 text file a command was given (a policy, a credential), refused with what is wrong with it.

    One reader for every such option: `init --policy` read the file itself, called a missing file "cannot be read as
    a UTF-8 text file" and waited forever on a FIFO, where `policy validate` said "No such file or directory"."""
    try:
        return readable_file(str(Path(name).expanduser())).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {name}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8 text.") from exc


def open_vault(args: argparse.Namespace) -> Vault:
    """Unlock the existing vault (CUSTOS_PASSPHRASE or the terminal). A folder without one is refused and left as
    it is (no folder made, no vault created): only ``init``, ``serve`` and the app's first run create a vault.

    A vault always has a policy in force: one that has none yet gets the shipped default, on the record.
    """
    from app.services.vault import open_for_command

    return open_for_command(vault_folder(args))


def vault_folder(args: argparse.Namespace) -> Path:
    """The folder of the vault a command uses, as chosen (--data-dir, $CUSTOS_DATA_DIR, the default), not created."""
    return chosen_data_dir(getattr(args, "data_dir", None))


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
