"""`custos init` then `custos serve` with no flags: the address, certificate and token the first run printed work."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
from pathlib import Path

import httpx

from tests.cli.test_cli import ENDPOINT_LINE, run, serving
from tests.setup.cert_support import write_pair
from tests.ui.ui_support import free_port

INIT_LINES = [
    r"Custos is set up in (?P<dir>.+)\.",
    r"SCIM base URL: (?P<url>https://\S+/scim/v2)",
    r"TLS certificate SHA-256: (?P<fp>(?:[0-9A-F]{2}:){31}[0-9A-F]{2}) \((?P<origin>self-signed|issued by a CA)\)",
    r"Policy in force: version 1 \((?P<policy>.+)\)",
    r"Token (?P<name>.+) \(shown once, store it now\): (?P<token>cst_[A-Za-z0-9_-]{43})",
    r"Next: `custos serve` \(with CUSTOS_PASSPHRASE or a terminal\) listens on (?P<listen>\S+)\.",
]


def parse_init(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    assert len(lines) == len(INIT_LINES), stdout
    found: dict[str, str] = {}
    for pattern, line in zip(INIT_LINES, lines, strict=True):
        match = re.fullmatch(pattern, line)
        assert match, line
        found.update(match.groupdict())
    return found


def test_init_then_serve_uses_what_init_chose(data_dir: Path) -> None:
    port = free_port()
    done = run(data_dir, "init", "--port", str(port), "--token-name", "Entra ID")
    assert done.returncode == 0, done.stderr
    printed = parse_init(done.stdout)
    assert printed["url"] == f"https://127.0.0.1:{port}/scim/v2"
    assert printed["origin"] == "self-signed" and printed["policy"] == "the default policy"
    assert printed["name"] == "Entra ID" and printed["token"] not in done.stderr
    with serving(data_dir) as process:
        assert process.stdout is not None
        line = process.stdout.readline().rstrip("\n")
        match = ENDPOINT_LINE.match(line)
        assert match and match.group(1) == printed["url"] and match.group(2) == printed["fp"], line
        verify = ssl.create_default_context(cafile=str(data_dir / "tls-cert.pem"))
        answer = httpx.get(
            f"{printed['url']}/ServiceProviderConfig",
            headers={"Authorization": f"Bearer {printed['token']}"},
            verify=verify,
        )
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    again = run(data_dir, "init")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_init_with_port_0_saves_and_prints_a_real_port(data_dir: Path) -> None:
    """Port 0 means "pick one": the base URL an IdP is given, and endpoint.toml, must name the port picked."""
    from app.setup import endpoint

    done = run(data_dir, "init", "--port", "0")
    assert done.returncode == 0, done.stderr
    url = parse_init(done.stdout)["url"]
    port = endpoint.load(data_dir).port
    assert port != 0 and url == f"https://127.0.0.1:{port}/scim/v2"


def test_init_with_an_operator_certificate_and_a_broken_policy(data_dir: Path, tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path / "tls", names=("scim.example.org",))
    broken = tmp_path / "policy.toml"
    broken.write_text("format = 1\n[controller\n")
    refused = run(data_dir, "init", "--tls-cert", str(cert), "--tls-key", str(key), "--policy", str(broken))
    assert refused.returncode == 2 and "line 2" in refused.stderr and "Traceback" not in refused.stderr
    assert list(data_dir.iterdir()) == []
    done = run(
        data_dir,
        "init",
        "--host", "0.0.0.0", "--public-host", "scim.example.org", "--port", "9443",
        "--tls-cert", str(cert), "--tls-key", str(key),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = parse_init(done.stdout)
    assert printed["url"] == "https://scim.example.org:9443/scim/v2"
    assert printed["origin"] == "issued by a CA" and printed["listen"] == "0.0.0.0:9443"


def test_a_refused_init_leaves_no_folder(tmp_path: Path) -> None:
    """A refused init (a policy with a problem) made the data folder first and left it empty; the first run makes
    it only when it writes."""
    broken = tmp_path / "policy.toml"
    broken.write_text("format = 1\n[controller\n")
    folder = tmp_path / "Custos"
    refused = run(folder, "init", "--policy", str(broken))
    assert refused.returncode == 2 and "line 2" in refused.stderr
    assert not folder.exists()


def test_init_says_what_is_wrong_with_a_policy_file_it_cannot_read(tmp_path: Path) -> None:
    """Before: a mistyped `--policy` path was "cannot be read as a UTF-8 text file" (read: the file's encoding is
    wrong), and a FIFO was waited on forever. Now `init` says what `policy validate` says, and refuses a FIFO."""
    folder = tmp_path / "Custos"
    missing = run(folder, "init", "--policy", str(tmp_path / "my-polcy.toml"))
    assert missing.returncode == 2, missing.stderr
    assert f"Cannot read {tmp_path / 'my-polcy.toml'}: No such file or directory." in missing.stderr
    assert "UTF-8" not in missing.stderr and "Traceback" not in missing.stderr
    binary = tmp_path / "policy.toml"
    binary.write_bytes(b"\xff\xfe format = 1\n")
    refused = run(folder, "init", "--policy", str(binary))
    assert refused.returncode == 2 and f"{binary} is not UTF-8 text." in refused.stderr
    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)
    waited = run(folder, "init", "--policy", str(fifo))  # run() times out after 120 s: before, it hung here
    assert waited.returncode == 2 and f"Cannot read {fifo}: not a file." in waited.stderr
    assert not folder.exists()


def test_init_on_an_existing_vault_says_what_to_do_on_the_command_line(data_dir: Path) -> None:
    """Before: "A vault already exists in DIR; unlock it instead." — the first-run assistant's words; a command line
    has nothing to unlock. Now it says that nothing changed, and how to use that vault or set up another."""
    first = run(data_dir, "init", "--port", "0")
    assert first.returncode == 0, first.stderr
    vault_before = (data_dir / "custos.vault").read_bytes()
    again = run(data_dir, "init")
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert f"A vault already exists in {data_dir}; init changed nothing there." in again.stderr
    assert "custos serve" in again.stderr and "--data-dir" in again.stderr
    assert "unlock it instead" not in again.stderr
    assert (data_dir / "custos.vault").read_bytes() == vault_before


def test_init_refuses_an_address_serve_could_not_listen_on(data_dir: Path) -> None:
    """Found setting up beside a running Custos: `init --port 8443` said "Custos is set up" and printed the base URL
    for a port another program listened on (and `--host` an address this machine does not have); `serve` then
    failed. The first-run assistant checks the port on its page; `init` now does too, before anything is written."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run(data_dir, "init", "--port", str(port))
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"Port {port} is already in use on 127.0.0.1" in refused.stderr and "Traceback" not in refused.stderr
    absent = run(data_dir, "init", "--host", "192.0.2.1", "--port", "8443")  # TEST-NET-1: never this machine's
    assert absent.returncode == 2 and "Custos cannot listen on 192.0.2.1:8443" in absent.stderr
    assert not data_dir.exists() or list(data_dir.iterdir()) == []
