"""The command line run in this process: the same ``main`` a script runs, its exit code, what it printed.

A subprocess per command costs an interpreter and every import again (about 0.7 s each on this machine); the tests
that run a command a dozen times to walk a workflow use this instead, and ``tests/cli/test_cli.py`` keeps the
real subprocesses (exit codes, signals, the environment) for the command line as a whole. A time zone set for the
machine (``TZ``) needs a real process: those tests keep ``tests.cli.test_cli.run``.
"""

from __future__ import annotations

import contextvars
import io
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from app.cli import main
from tests.conftest import PASSPHRASE


def run(data_dir: Path, *args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    """``custos ARGS --data-dir DATA_DIR`` with the passphrase in the environment, as ``test_cli.run`` does."""
    argv = [*args, "--data-dir", str(data_dir)]
    out, err = io.StringIO(), io.StringIO()
    before = os.environ.get("CUSTOS_PASSPHRASE")
    os.environ["CUSTOS_PASSPHRASE"] = passphrase
    try:
        with redirect_stdout(out), redirect_stderr(err):
            # its own context: the actor a command sets (current_actor) must not leak into the next test
            code = contextvars.copy_context().run(main, argv)
    except SystemExit as exit_:  # argparse's usage errors end this way
        code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        if before is None:
            os.environ.pop("CUSTOS_PASSPHRASE", None)
        else:
            os.environ["CUSTOS_PASSPHRASE"] = before
    return subprocess.CompletedProcess(["custos", *argv], code, out.getvalue(), err.getvalue())
