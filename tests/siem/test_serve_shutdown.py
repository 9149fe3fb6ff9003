"""`custos serve --siem` stopped right after an attack: the SIEM has every entry, the alert included.

The failed-authentication tally is written once a minute, or when the server stops; an attacker who tries tokens
and then stops the service must not keep that entry, or the alert it raises, from the SIEM until some later start.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from app.siem import spool
from app.store.vault import Vault
from tests.cli.test_cli import ENDPOINT_LINE, serving
from tests.conftest import PASSPHRASE
from tests.siem.conftest import Listener


@pytest.mark.usefixtures("vault_file")
def test_entries_written_while_serve_stops_reach_the_collector(data_dir: Path, listener: Listener) -> None:
    (data_dir / "siem.toml").write_text("[alerts.auth_failures]\ncount = 5\nminutes = 5\n")
    siem = ("--siem", f"127.0.0.1:{listener.port}", "--siem-fingerprint", listener.certificate.fingerprint)
    with serving(data_dir, "--port", "0", *siem) as process:
        assert process.stdout is not None
        match = ENDPOINT_LINE.match(process.stdout.readline().rstrip("\n"))
        assert match
        for _ in range(8):  # wrong tokens from one source: one tally entry, written when the server stops
            answer = httpx.get(f"{match.group(1)}/Users", headers={"Authorization": "Bearer cst_wrong"}, verify=False)
            assert answer.status_code in (401, 429)
        time.sleep(3)  # the forwarder has sent what there was (interval 2 s)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0

    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            trail = spool.events_after(conn, 0, 10_000)
            cursor = spool.cursor(conn, f"127.0.0.1:{listener.port}")
    finally:
        vault.close()
    kinds = {event.kind: event.seq for event in trail}
    assert "scim.auth.failed" in kinds and "alert.raised" in kinds  # the tally, and the alert judged on it
    received = listener.wait_for(len(trail), timeout=5)
    assert received == [event.seq for event in trail] and cursor == trail[-1].seq


@pytest.mark.usefixtures("vault_file")
@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--siem-fingerprint", "AB:CD:not-a-digest", "the collector fingerprint must be a SHA-256 in hex"),
        ("--siem-ca", "{data}/missing-ca.pem", "the CA file {data}/missing-ca.pem does not exist."),
        ("--siem-ca", "{data}/siem.toml", "the CA file {data}/siem.toml cannot be read as PEM certificates."),
    ],
)
def test_serve_refuses_a_collector_it_could_never_trust(
    data_dir: Path, listener: Listener, option: str, value: str, said: str
) -> None:
    """A typo in the pin or the CA file: serve started, its forwarder retried for ever ("unavailable: ValueError",
    "FileNotFoundError" in its log) and the SOC never got an entry. Now serve says what to correct and does not
    start; nothing reaches the collector."""
    (data_dir / "siem.toml").write_text("[alerts.auth_failures]\ncount = 5\n")  # a file that is not PEM
    siem = ("--siem", f"127.0.0.1:{listener.port}", option, value.format(data=data_dir))
    with serving(data_dir, "--port", "0", *siem) as process:
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and "SCIM endpoint" not in stdout
    assert f"--siem: {said.format(data=data_dir)}" in stderr
    assert listener.messages == []


@pytest.mark.usefixtures("vault_file")
def test_serve_forwards_ocsf_when_asked(data_dir: Path, listener: Listener) -> None:
    """`serve --siem-format ocsf`: each message's MSG is one OCSF record of the entry its structured data names
    (serve sent CEF only, and had no option to say otherwise)."""
    siem = ("--siem", f"127.0.0.1:{listener.port}", "--siem-fingerprint", listener.certificate.fingerprint)
    with serving(data_dir, "--port", "0", *siem, "--siem-format", "ocsf") as process:
        assert process.stdout is not None and ENDPOINT_LINE.match(process.stdout.readline().rstrip("\n"))
        seqs = listener.wait_for(1, timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    assert seqs
    for text in listener.messages:
        sd_seq = int(text.split(' seq="', 1)[1].split('"', 1)[0])
        record = json.loads(text.split("] ", 1)[1].removeprefix("\ufeff"))
        assert record["metadata"]["uid"] == str(sd_seq) and record["type_uid"] // 100 == record["class_uid"]
