"""`serve` signs a checkpoint when it stops: a short session's trail can no longer lose its end unseen.

Checkpoints were signed every 1,000 entries or 10 minutes of a process's activity; a `serve` session of a few
minutes signed none, and `audit verify` then called a trail intact whose end (or every entry) had been cut off.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.audit.test_verify_tampered_file import tamper
from tests.cli.inprocess import run
from tests.cli.test_cli import ENDPOINT_LINE, serving

USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "checkpoint.probe@example.org"}


@pytest.fixture
def served(vault_file: Path) -> Path:
    """A folder after one short serve session: a user created, wrong tokens tried, stopped with SIGTERM."""
    folder = vault_file.parent
    token = run(folder, "token", "create", "--name", "idp").stdout.splitlines()[1]
    with serving(folder, "--port", "0") as process:
        assert process.stdout is not None
        match = ENDPOINT_LINE.match(process.stdout.readline().rstrip("\n"))
        assert match
        base = match.group(1)
        created = httpx.post(f"{base}/Users", json=USER, headers={"Authorization": f"Bearer {token}"}, verify=False)
        assert created.status_code == 201
        for _ in range(3):  # a tally of failures, written as the server stops
            httpx.get(f"{base}/Users", headers={"Authorization": "Bearer cst_wrong"}, verify=False)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    return folder


def _size(folder: Path) -> int:
    newest = run(folder, "--read-only", "audit", "tail", "-n", "1").stdout.splitlines()[-1]
    return int(newest.split()[0])


def test_a_short_serve_session_ends_signed(served: Path) -> None:
    size = _size(served)
    done = run(served, "--read-only", "audit", "verify")
    assert done.returncode == 0, done.stdout
    assert f"Last checkpoint: tree size {size}," in done.stdout
    assert "not signed" not in done.stdout and "none is under a signed checkpoint" not in done.stdout


@pytest.mark.parametrize("keep", [0, 5])
def test_its_end_cut_off_afterwards_is_reported(served: Path, keep: int) -> None:
    size = _size(served)
    tamper(served, f"DELETE FROM audit_events WHERE seq > {keep}")
    done = run(served, "--read-only", "audit", "verify")
    assert done.returncode == 1
    missing = "every entry is missing (the trail is empty)" if keep == 0 else f"entries {keep + 1}–{size} are missing"
    assert missing in done.stdout
