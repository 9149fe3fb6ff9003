"""Command line: `serve`, `token`, and the command groups in ``app/commands``; no sub-command opens the app.

The names, flags and printed formats are a contract for operators' scripts: extend, never rename.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

from app import __version__
from app.commands.common import port_number, undecodable_option
from app.core.errors import CustosError
from app.core.paths import chosen_data_dir, data_dir
from app.core.terminal import shown

if TYPE_CHECKING:  # imported when a command opens it, not at start-up
    pass

# Command groups, each a module of app/commands with register() and run(); listed in --help in this order.
COMMAND_MODULES = ("token", "init", "policy", "export", "audit", "breach", "dsr", "siem", "target", "erase", "vault",
                   "health")


def _command_modules() -> dict[str, ModuleType]:
    found = {}
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(f"app.commands.{name}") is not None:
            found[name] = importlib.import_module(f"app.commands.{name}")
    return found


_DATA_DIR_HELP = "folder holding the vault (default: user data folder or $CUSTOS_DATA_DIR)"
_READ_ONLY_HELP = ("work on a private copy of the data folder, removed afterwards: nothing in the folder is changed "
                   "and nothing the command records is kept (an offline review of a copy handed over as evidence; "
                   "not for serve, init, vault restore or vault passphrase)")  # fmt: skip
# What --read-only cannot do: serve and init exist to write the folder, a restore to replace its vault, a passphrase
# change to re-encrypt it (on a copy thrown away afterwards it would change nothing, yet say it had).
_NOT_READ_ONLY = {("serve", None), ("init", None), ("vault", "restore"), ("vault", "passphrase"), (None, None)}


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` (and ``--read-only``) on a sub-command. SUPPRESS: given before the sub-command (``custos
    --data-dir D token list``) it must not be reset to the default by the sub-command's parser, which would open or
    create a vault elsewhere."""
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, help=_DATA_DIR_HELP)
    parser.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS, help=_READ_ONLY_HELP)


_MISSING_COMMAND = re.compile(r"^the following arguments are required: \w+_command$")
_COMMAND_FIELD = re.compile(r"(?<=^argument )\w+_command(?=:)")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors said as every other error of the command line: one line starting ``custos:``,
    exit 2. argparse's own form (the usage block, then ``custos dsr restrict: error: …``) buried the reason under
    the usage; ``--help`` still prints the usage. Sub-parsers take this class from their parent."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("custos").strip()
        where = f"{command}: " if command else ""
        # argparse names a sub-command by its internal field ("required: dsr_command", "argument dsr_command: …")
        message = _COMMAND_FIELD.sub("command", _MISSING_COMMAND.sub("a command is required", message))
        self.exit(2, f"custos: {where}{message} (see '{self.prog} --help').\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="custos", description="GDPR-compliant SCIM provisioning.")
    parser.add_argument("--version", action="version", version=f"Custos {__version__}")
    parser.add_argument("--data-dir", default=None, help=_DATA_DIR_HELP)
    parser.add_argument("--read-only", action="store_true", default=False, help=_READ_ONLY_HELP)
    parser.add_argument(
        "--minimised",
        "--minimized",
        action="store_true",
        help="open the desktop app in the system tray, without its window (start at login)",
    )
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the SCIM server headless")
    serve.add_argument("--host", help="address to listen on (default: endpoint.toml from `init`, else 127.0.0.1)")
    serve.add_argument("--port", type=port_number, help="0 picks a free port (default: endpoint.toml, else 8443)")
    serve.add_argument("--tls-cert", help="PEM certificate (default: a self-signed one in the data folder)")
    serve.add_argument("--tls-key", help="PEM private key matching --tls-cert")
    serve.add_argument("--no-tls", action="store_true", help="plain HTTP; only allowed on a loopback address")
    serve.add_argument("--siem", metavar="HOST:PORT", help="forward the audit trail to this syslog/TLS collector")
    serve.add_argument("--siem-fingerprint", help="SHA-256 of the collector's certificate (pinning)")
    serve.add_argument("--siem-ca", help="CA file to verify the collector with")
    serve.add_argument("--siem-format", choices=("cef", "ocsf"), default="cef",
                       help="the syslog MSG: CEF (default) or OCSF JSON, as `siem send --format`")  # fmt: skip
    _add_data_dir(serve)

    for module in _command_modules().values():
        module.register(commands, _add_data_dir)
    return parser


def _configure_logging() -> None:
    """stderr at INFO, through the redactor: `serve` runs for months with its stderr in a journal or a file, and
    a library's line there (the HTTP client's request URLs, with the SCIM filter that looked a person up at a
    target) or an exception's message reached it as written; the app's log view redacted, stderr did not.
    A no-op where logging is already set up (basicConfig leaves a configured root alone): tests, embedders."""
    from app.core.log_redaction import RedactingFilter

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    undecodable = undecodable_option(args)
    if undecodable is not None:  # before any vault is opened or anything is written
        named = undecodable.replace("_", "-")
        print(f"custos: the {named} given is not valid text (bytes that are not UTF-8); nothing was done.",
              file=sys.stderr)  # fmt: skip
        return 2
    _configure_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # fpdf2's font subsetting logs each PDF's glyphs and tables at INFO: some sixty lines per PDF around 'Wrote …'
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from app.commands.common import operator_name
    from app.core.actor import current_actor

    try:
        current_actor.set(f"operator:{operator_name(args)}")  # the app and the CLI act for the person running them
        if args.read_only:
            return _on_a_copy(args)
        return _dispatch(args)
    except CustosError as error:  # messages name files and folders the operator typed: never obey their controls
        print(f"custos: {shown(error.user_message)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `custos … | head`: the reader left; what the command did is done, the rest unread
        _stdout_to_devnull()
        return 141  # as a shell reports a command ended by SIGPIPE (128 + 13)
    except Exception as error:  # a damaged page met after the vault opened: a message, never a traceback
        from app.store.integrity import is_corruption

        if not is_corruption(error):
            raise
        from app.core.errors import VaultCorrupt
        from app.store.vault import vault_path

        path = vault_path(chosen_data_dir(getattr(args, "data_dir", None)))
        damaged = VaultCorrupt(path, "a page that was read", stopped=True)
        print(f"custos: {damaged.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _stdout_to_devnull() -> None:
    """Python flushes stdout again at exit; to a closed pipe that would print a second error, as a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _on_a_copy(args: argparse.Namespace) -> int:
    """``--read-only``: the command runs on a private copy of the folder (app.services.vault.review_copy)."""
    from app.core.errors import ConfigError
    from app.services.vault import review_copy

    group = getattr(args, f"{args.command}_command", None) if args.command else None
    if (args.command, None) in _NOT_READ_ONLY or (args.command, group) in _NOT_READ_ONLY:
        named = " ".join(part for part in (args.command, group) if part) or "the desktop app"
        raise ConfigError(f"--read-only works on a copy of the data folder; {named} cannot. Nothing was done.")
    folder = chosen_data_dir(args.data_dir)
    with _terminated_as_an_exit(), review_copy(folder) as copy:
        args.data_dir = str(copy)
        code = _dispatch(args)
    print(f"custos: read-only: worked on a private copy of {shown(folder)}, now removed; nothing in the folder was "
          "changed, and nothing this command recorded was kept.", file=sys.stderr)  # fmt: skip
    return code


@contextlib.contextmanager
def _terminated_as_an_exit() -> Iterator[None]:
    """SIGTERM (``kill``, a service manager, a closed terminal session's cleanup) ends the command the way Ctrl-C
    does, through its ``finally`` blocks, exit status 143. Python's default ends the process at once, and a
    ``--read-only`` review left its private copy of the vault in the temporary folder: a copy that an erasure
    made afterwards does not reach. (A SIGKILL still cannot be caught; ``review_copy`` sweeps what one left.)"""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        yield
        return

    def stop(signum: int, _frame: object) -> NoReturn:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command the arguments name (on the folder they name: a private copy under --read-only)."""
    if args.command == "serve":
        from app.headless import serve, siem_collector

        collector = siem_collector(args.siem, args.siem_fingerprint, args.siem_ca, args.siem_format)
        return serve(data_dir(args.data_dir), args.host, args.port, args.tls_cert, args.tls_key, args.no_tls, collector)
    modules = _command_modules()
    if args.command in modules:
        return int(modules[args.command].run(args))
    from app.ui.display_check import display_problem

    problem = display_problem(os.environ)
    if problem is not None:  # said here: Qt would abort the process without a word of what to do
        print(problem, file=sys.stderr)
        return 2
    from app.ui.run import main as run_gui

    # The folder as chosen, not made: with no vault yet the first-run assistant makes it at *Set up*.
    return run_gui(sys.argv[:1], data_dir=chosen_data_dir(args.data_dir), minimised=args.minimised)
