"""The command line as operators' scripts use it: real subprocesses, real vault, real HTTPS."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT_LINE = re.compile(
    r"^SCIM endpoint: (https://127\.0\.0\.1:\d+/scim/v2) \(TLS SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\)$"
)


def run(data_dir: Path, *args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUSTOS_PASSPHRASE": passphrase}
    return subprocess.run(
        [sys.executable, "main.py", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.usefixtures("vault_file")
def test_token_commands(data_dir: Path) -> None:
    created = run(data_dir, "token", "create", "--name", "okta")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[0] == "Token for okta (shown once, store it in the IdP now):"
    assert re.fullmatch(r"cst_[A-Za-z0-9_-]{43}", lines[1])
    assert run(data_dir, "token", "create", "--name", "entra", "--expires-days", "10").returncode == 0
    listed = run(data_dir, "token", "list")
    # The times are UTC and the header says so (a bare time reads as the reader's local one); EXPIRES came last
    # (decision 0057), so the columns before it did not move.
    assert listed.stdout.splitlines()[0].split() == ["NAME", "STATUS", "CREATED", "(UTC)", "LAST", "USED", "(UTC)",
                                                     "HINT", "EXPIRES", "(UTC)"]  # fmt: skip
    assert re.search(r"^okta\s+active\s.*cst_[\w-]{4}…\s+never$", listed.stdout, re.M)
    assert re.search(r"^entra\s+active\s.*\d{2}:\d{2} \(expires in 10 days\)$", listed.stdout, re.M)
    assert lines[1] not in listed.stdout  # the secret is never shown again
    duplicate = run(data_dir, "token", "create", "--name", "okta")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    revoked = run(data_dir, "token", "revoke", "okta")
    assert revoked.stdout.strip() == "Revoked token okta."
    assert re.search(r"^okta\s+revoked\s", run(data_dir, "token", "list").stdout, re.M)


@pytest.mark.usefixtures("vault_file")
def test_token_name_shaped_like_an_email_address_is_a_readable_error(data_dir: Path) -> None:
    """Found from outside (verify-sec): the name goes into the trail (details and the requests' actor), whose
    personal-data guard refused it; the command died with a traceback instead of saying what to do."""
    failed = run(data_dir, "token", "create", "--name", "jane.doe@example.com")
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr and "e-mail address" in failed.stderr
    assert "jane.doe" not in run(data_dir, "token", "list").stdout  # nothing was stored


@pytest.mark.usefixtures("vault_file")
def test_wrong_passphrase_is_a_readable_error(data_dir: Path) -> None:
    assert run(data_dir, "token", "list").returncode == 0
    failed = run(data_dir, "token", "list", passphrase="wrong passphrase")
    assert failed.returncode == 2
    assert failed.stderr.strip().endswith("The passphrase does not unlock this vault. Nothing was changed; try again.")
    assert "Traceback" not in failed.stderr


@pytest.mark.usefixtures("vault_file")
def test_no_passphrase_without_a_terminal(data_dir: Path) -> None:
    failed = run(data_dir, "token", "list", passphrase="")
    assert failed.returncode == 2 and "CUSTOS_PASSPHRASE" in failed.stderr


@contextmanager
def serving(data_dir: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`custos serve ARGS` in a subprocess, killed at the end if the test did not stop it."""
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
    process = subprocess.Popen(
        [sys.executable, "main.py", "serve", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.usefixtures("vault_file")
def test_serve_prints_endpoint_serves_https_and_stops_on_sigterm(data_dir: Path) -> None:
    token = run(data_dir, "token", "create", "--name", "idp").stdout.splitlines()[1]
    with serving(data_dir, "--port", "0") as process:
        assert process.stdout is not None
        line = process.stdout.readline().rstrip("\n")
        match = ENDPOINT_LINE.match(line)
        assert match, line
        base_url = match.group(1)
        verify = ssl.create_default_context(cafile=str(data_dir / "tls-cert.pem"))
        response = httpx.get(
            f"{base_url}/ServiceProviderConfig", headers={"Authorization": f"Bearer {token}"}, verify=verify
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stdout.read().strip() == "Stopped."


def test_plain_http_off_loopback_is_refused(data_dir: Path) -> None:
    failed = run(data_dir, "serve", "--host", "0.0.0.0", "--port", "0", "--no-tls")
    assert failed.returncode == 2
    assert "loopback" in failed.stderr


@pytest.mark.parametrize(
    "args", [["--tls-cert", "/nonexistent.pem"], ["--no-tls", "--tls-cert", "a", "--tls-key", "b"]]
)
def test_bad_tls_options(data_dir: Path, args: list[str]) -> None:
    failed = run(data_dir, "serve", "--port", "0", *args)
    assert failed.returncode == 2 and "custos:" in failed.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["dsr", "restrict", "dsr-1", "--lift", "--informed-by", "pigeon"],
         "custos: dsr restrict: argument --informed-by: invalid choice: 'pigeon' (choose from 'email', 'letter', "
         "'phone', 'in_person', 'form') (see 'custos dsr restrict --help')."),
        (["target", "add"], "custos: target add: the following arguments are required: name, --url, --recipient "
                            "(see 'custos target add --help')."),
        (["breach", "draft", "1", "--out", "d", "--no-such-flag"],
         "custos: unrecognized arguments: --no-such-flag (see 'custos --help')."),
        # argparse named the sub-command by its internal field: "argument dsr_command: invalid choice: …"
        (["dsr", "nosuch"], "custos: dsr: argument command: invalid choice: 'nosuch' (choose from 'open', 'list', "
         "'show', 'verify', 'extend', 'act', 'task', 'refuse', 'none-held', 'answer', 'close', 'match', 'restrict', "
         "'export', 'settings') (see 'custos dsr --help')."),
    ],
)  # fmt: skip
def test_a_usage_error_is_one_line_starting_custos(data_dir: Path, argv: list[str], expected: str) -> None:
    """Before: argparse's usage block, then 'custos dsr restrict: error: …' (the user guide says errors start with
    'custos:'). Nothing is opened or created."""
    result = run(data_dir, *argv)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [expected]
    assert not (data_dir / "custos.vault").exists()


def test_a_missing_sub_command_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse said "the following arguments are required: dsr_command", its internal field name."""
    from app.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["dsr"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "custos: dsr: a command is required (see 'custos dsr --help').\n"


def _refusal(stderr: str) -> str:
    """The command's own line, among the log lines a subprocess prints on stderr."""
    (line,) = [line for line in stderr.splitlines() if line.startswith("custos: ")]
    return line


@pytest.mark.usefixtures("vault_file")
def test_a_taken_token_name_is_refused_with_a_name_that_works(data_dir: Path) -> None:
    """Found rotating a token as the user guide says: `token create --name okta` after `token revoke okta` answered
    "A token named 'okta' already exists; revoke it or choose another name." Revoking frees no name (a name is never
    used twice): the message now says so, whether the token is revoked, and offers a free name."""
    assert run(data_dir, "token", "create", "--name", "okta").returncode == 0
    active = run(data_dir, "token", "create", "--name", "okta")
    assert active.returncode == 2 and "revoke it" not in active.stderr
    assert _refusal(active.stderr) == (
        "custos: A token named 'okta' already exists, and a name is never used twice (the audit trail names each "
        "token's requests by it): choose another, such as 'okta-2'."
    )
    assert run(data_dir, "token", "create", "--name", "okta-2").returncode == 0
    assert run(data_dir, "token", "revoke", "okta").returncode == 0
    revoked = run(data_dir, "token", "create", "--name", "okta")
    assert revoked.returncode == 2
    assert re.fullmatch(
        r"custos: A token named 'okta' already exists \(revoked \d{4}-\d\d-\d\d \d\d:\d\d UTC\), and a name is never "
        r"used twice \(the audit trail names each token's requests by it\): choose another, such as 'okta-3'\.",
        _refusal(revoked.stderr),
    )
    assert run(data_dir, "token", "create", "--name", "okta-3").returncode == 0  # the name offered works
