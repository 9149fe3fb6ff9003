"""A command that writes to the trail signs a checkpoint when it ends (app/services/vault.py, where every command
opens the vault), as ``serve`` does when it stops.

Only ``serve`` and the app signed one at their end: ``custos token create`` (or an erasure, a policy apply, a
breach record) left its entries, and the opening it records, after the last checkpoint until the next ``serve``:
cut off the end, they left no trace, and ``audit verify`` said so in its ``Covered:`` line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.audit.test_verify_tampered_file import tamper
from tests.cli.inprocess import run


@pytest.fixture
def folder(vault_file: Path) -> Path:
    """A vault with the default policy in force: a ``--read-only`` review of it then adds nothing to its copy."""
    assert run(vault_file.parent, "policy", "history").returncode == 0
    return vault_file.parent


def _verified(folder: Path) -> tuple[int, str]:
    """(entries, what ``audit verify`` printed) on a private copy: its own opening is not recorded."""
    done = run(folder, "--read-only", "audit", "verify")
    assert done.returncode == 0, done.stdout
    match = re.match(r"Audit trail intact: (\d+) entries", done.stdout)
    assert match is not None, done.stdout
    return int(match.group(1)), done.stdout


@pytest.mark.parametrize(
    "command",
    [("token", "create", "--name", "idp"), ("breach", "list"), ("audit", "tail", "-n", "1")],
)
def test_the_trail_is_signed_to_its_end_when_a_command_ends(folder: Path, command: tuple[str, ...]) -> None:
    assert run(folder, *command).returncode == 0
    size, verified = _verified(folder)
    assert f"Last checkpoint: tree size {size}," in verified  # before: the command's entries were not signed
    assert f"entries 1–{size} (" in verified and "every one under checkpoint" in verified
    assert "not signed yet" not in verified


def test_entries_a_command_wrote_cut_off_afterwards_are_reported(folder: Path) -> None:
    run(folder, "token", "create", "--name", "idp")
    size, _ = _verified(folder)
    tamper(folder, f"DELETE FROM audit_events WHERE seq = {size}")
    done = run(folder, "--read-only", "audit", "verify")
    assert done.returncode == 1, done.stdout  # before: "intact", the cut entry under no checkpoint
    assert "BROKEN" in done.stdout and f"{size}" in done.stdout
