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


# What a data folder holds that no review reads: private keys and secrets (the TLS key the endpoint proves itself
# with, the erasure ledger's HMAC key), and whatever else lies there (the vault a restore set aside, a stray file).
SECRETS = ("tls-key.pem", "erasure-ledger.key")
SET_ASIDE = ("custos.vault.pre-restore-20261201T000000Z", "notes.txt")


@pytest.fixture
def handed_over(evidence: Path) -> Path:
    """The evidence folder as a real one holds it after `init`, serving and an erasure: its certificate and key,
    endpoint settings, the erasure ledger and its key, and a vault a restore set aside."""
    from app.erasure.ledger import Ledger
    from app.setup.tls import ensure_self_signed

    ensure_self_signed(evidence)
    ledger = Ledger(evidence)
    ledger.append("request-1", [("pseudonym-1", "scim-id-1")], "2026-12-01T00:00:00Z")
    for name in SET_ASIDE:
        (evidence / name).write_bytes(b"set aside")
    return evidence


def _watch_the_copy(monkeypatch: pytest.MonkeyPatch, failure: BaseException | None = None) -> dict[str, object]:
    """What the command saw: the copy's folder, its files and their modes, while the command ran."""
    import app.cli

    seen: dict[str, object] = {}
    dispatch = app.cli._dispatch

    def watched(args: object) -> int:
        copy = Path(args.data_dir)  # type: ignore[attr-defined]
        seen["copy"] = copy
        seen["files"] = {item.name: item.stat().st_mode & 0o777 for item in copy.iterdir()}
        seen["folders"] = [copy.stat().st_mode & 0o777, copy.parent.stat().st_mode & 0o777]
        if failure is not None:
            raise failure
        return dispatch(args)

    monkeypatch.setattr(app.cli, "_dispatch", watched)
    return seen


def test_the_private_copy_holds_what_a_review_reads_and_no_secret(
    handed_over: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy held every file of the folder, the TLS private key and the ledger key included, in /tmp, at the
    folder's own modes; a review needs neither key. Now: only what the commands read, private to this user."""
    seen = _watch_the_copy(monkeypatch)
    before = _files(handed_over)
    done = run(handed_over, "--read-only", "audit", "verify")
    assert done.returncode == 0, done.stderr
    files = seen["files"]
    assert isinstance(files, dict)
    assert not set(files) & {*SECRETS, *SET_ASIDE}
    assert {"custos.vault", "tls-cert.pem", "erasure-ledger.jsonl"} <= set(files)
    assert set(files.values()) == {0o600} and seen["folders"] == [0o700, 0o700]
    assert not Path(str(seen["copy"])).parent.exists()  # removed
    assert _files(handed_over) == before


@pytest.mark.parametrize("failure", [RuntimeError("a bug"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
def test_the_private_copy_is_removed_when_the_command_fails(
    handed_over: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    seen = _watch_the_copy(monkeypatch, failure)
    if isinstance(failure, KeyboardInterrupt):
        assert run(handed_over, "--read-only", "token", "list").returncode == 130
    else:
        with pytest.raises(RuntimeError):
            run(handed_over, "--read-only", "token", "list")
    assert seen["files"] and not Path(str(seen["copy"])).parent.exists()


def test_the_private_copy_is_removed_when_the_command_is_terminated(
    handed_over: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (kill, a service manager) ended the process at once: the copy of the vault stayed in the temporary
    folder, out of reach of any erasure made afterwards. Now it ends the command as Ctrl-C does, status 143."""
    import os
    import signal
    import time

    import app.cli

    seen: dict[str, Path] = {}

    def terminated(args: object) -> int:
        seen["copy"] = Path(args.data_dir)  # type: ignore[attr-defined]
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends; without one, the test process itself is ended
        return 0

    def guard(_signum: int, _frame: object) -> None:
        """Stands in for the default (which would end the test run) where the command installs no handler."""

    monkeypatch.setattr(app.cli, "_dispatch", terminated)
    previous = signal.signal(signal.SIGTERM, guard)
    try:
        assert run(handed_over, "--read-only", "token", "list").returncode == 143  # before: 0, the guard ran
        assert signal.getsignal(signal.SIGTERM) is guard  # the command put back what it found
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not seen["copy"].parent.exists()


def test_a_copy_left_by_a_killed_review_is_swept_by_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review killed outright (SIGKILL, a power cut) never removes its copy; the next review does, and leaves a
    copy whose process is alive (another review running now) alone."""
    import os
    import subprocess
    import sys
    import tempfile

    from app.services.vault import REVIEW_OWNER, REVIEW_PREFIX, sweep_abandoned_copies

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = tmp_path / f"{REVIEW_PREFIX}dead", tmp_path / f"{REVIEW_PREFIX}alive"
    for folder, pid in ((dead, int(ended.stdout)), (alive, os.getpid())):
        (folder / "evidence").mkdir(parents=True)
        (folder / "evidence" / "custos.vault").write_bytes(b"a copy")
        (folder / REVIEW_OWNER).write_text(str(pid))
    starting = tmp_path / f"{REVIEW_PREFIX}starting"  # no owner file yet: another review making its copy
    starting.mkdir()
    assert sweep_abandoned_copies() == [dead]
    assert not dead.exists() and alive.exists() and starting.exists()
    assert sweep_abandoned_copies(now=starting.stat().st_mtime + 7200) == [starting]  # unowned for two hours
