"""Arguments that are not UTF-8 (a Latin-1 terminal, a script's stray byte) are refused in one line before anything
is opened or written. Before: a breach title, a request note or an erasure reason ended in a UnicodeEncodeError
traceback from the store."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser
from app.commands.common import undecodable_option
from tests.cli.test_cli import ROOT
from tests.conftest import PASSPHRASE

NOT_UTF8 = os.fsdecode(b"Caf\xe9")  # how Python hands such bytes over: a lone surrogate


def test_the_option_is_named_and_never_its_value() -> None:
    args = build_parser().parse_args(["breach", "open", "--title", NOT_UTF8])
    assert undecodable_option(args) == "title"
    assert undecodable_option(build_parser().parse_args(["breach", "open", "--title", "Café"])) is None


@pytest.mark.parametrize(
    "argv",
    [
        [b"breach", b"open", b"--title", b"Caf\xe9"],
        [b"dsr", b"open", b"--type", b"access", b"--channel", b"email", b"--note", b"Caf\xe9"],
    ],
)
def test_the_command_refuses_it_and_the_vault_is_unchanged(vault_file: Path, argv: list[bytes]) -> None:
    before = hashlib.sha256(vault_file.read_bytes()).hexdigest()
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
    done = subprocess.run(
        [os.fsencode(sys.executable), b"main.py", *argv, b"--data-dir", os.fsencode(vault_file.parent)],
        cwd=ROOT, env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err
    assert "is not valid text" in err and "Caf" not in err
    assert hashlib.sha256(vault_file.read_bytes()).hexdigest() == before
