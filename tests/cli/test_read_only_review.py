"""`custos --read-only …`: an incident responder reviews a copy of a data folder handed over as evidence.

Every command changes the vault it opens (its opening goes on the trail, the planner's statistics, the WAL), so
`audit verify` on the copy changed the copy and counted its own opening in its verdict. With --read-only the command
works on a private copy: every file of the folder keeps its bytes, no file is added, and what is printed is the
folder's trail, not the review's.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.cli.inprocess import run


def _files(folder: Path) -> dict[str, str]:
    return {item.name: hashlib.sha256(item.read_bytes()).hexdigest() for item in sorted(folder.iterdir())}


@pytest.fixture
def evidence(vault_file: Path) -> Path:
    folder = vault_file.parent
    assert run(folder, "token", "create", "--name", "okta-leaked").returncode == 0
    assert run(folder, "token", "revoke", "okta-leaked").returncode == 0
    return folder


REVIEW = [
    ("audit", "verify"),
    ("audit", "tail", "-n", "5"),
    ("breach", "list"),
    ("token", "list"),
    ("siem", "status"),
    ("dsr", "list"),
    ("policy", "history"),
    ("vault", "check"),
]


@pytest.mark.parametrize("command", REVIEW, ids=lambda command: " ".join(command[:2]))
def test_a_review_command_with_read_only_leaves_every_file_as_it_was(evidence: Path, command: tuple[str, ...]) -> None:
    before = _files(evidence)
    done = run(evidence, "--read-only", *command)
    assert done.returncode == 0, done.stderr
    assert _files(evidence) == before  # same names, same bytes: no -wal or -shm left either
    assert "nothing in the folder was changed" in done.stderr


def test_verify_with_read_only_reports_the_trail_as_handed_over(evidence: Path) -> None:
    newest = run(evidence, "audit", "tail", "-n", "1", "--read-only").stdout.splitlines()[-1]
    last_seq = int(newest.split()[0])
    for _ in range(2):  # the same verdict twice: the review adds nothing for the next one to count
        done = run(evidence, "audit", "verify", "--read-only")
        assert done.returncode == 0, done.stdout
        assert f"intact: {last_seq} entries" in done.stdout
    assert re.search(rf"Trail: {last_seq} entries", run(evidence, "--read-only", "siem", "status").stdout)


def test_without_read_only_the_opening_is_still_on_the_record(evidence: Path) -> None:
    """The default stays as decision 0007 has it: an opening of the vault for real use is on the trail."""
    first = run(evidence, "audit", "tail", "-n", "1").stdout.splitlines()[-1]
    second = run(evidence, "audit", "tail", "-n", "1").stdout.splitlines()[-1]
    assert "vault.unlocked" in second and int(second.split()[0]) > int(first.split()[0])


@pytest.mark.parametrize("command", [("serve",), ("vault", "restore", "backup.vault"), ("init",)])
def test_what_exists_to_write_the_folder_is_refused_with_read_only(evidence: Path, command: tuple[str, ...]) -> None:
    before = _files(evidence)
    done = run(evidence, "--read-only", *command)
    assert done.returncode == 2 and "cannot. Nothing was done." in done.stderr
    assert _files(evidence) == before
