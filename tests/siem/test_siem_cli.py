"""``custos siem export|send|status`` as operators' scripts call them (in-process, real vault, real TLS)."""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path

import pytest

from app.audit.trail import of_kind, read
from app.audit.vault_lifecycle import unlock_vault
from app.cli import main
from app.siem import syslog
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.ports import PortReservation
from tests.siem.conftest import Certificate, Listener, add_events


@pytest.fixture
def trail(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vault with 12 requests on its trail, closed: the command opens it as a script would."""
    add_events(vault, 12)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CUSTOS_OPERATOR", "ops")
    return vault.path.parent


def siem(data_dir: Path, *args: str) -> int:
    return main(["siem", *args, "--data-dir", str(data_dir)])


def test_export_cef_and_ocsf(trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "trail.cef"
    assert siem(trail, "export", "--format", "cef", "--out", str(out)) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    printed = capsys.readouterr().out.strip()
    assert printed == f"Wrote {len(lines)} events (seq 1–{len(lines)}) to {out} (cef)"
    assert all(line.startswith("CEF:0|Custos|Custos|") for line in lines)
    assert out.stat().st_mode & 0o077 == 0  # owner-only

    jsonl = tmp_path / "trail.jsonl"
    assert siem(trail, "export", "--format", "ocsf", "--from", "3", "--to", "7", "--out", str(jsonl)) == 0
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["metadata"]["uid"] for r in records] == ["3", "4", "5", "6", "7"]
    assert "Wrote 5 events (seq 3–7)" in capsys.readouterr().out

    vault = unlock_vault(trail, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            exports = of_kind(conn, "export.siem")
            newest = max(event.seq for event in read(conn))
    finally:
        vault.close()
    assert [e.details["format"] for e in exports] == ["ocsf", "cef"] and exports[0].actor == "operator:ops"
    assert exports[0].details["events"] == 5 and newest > exports[0].seq  # the export is on the record

    assert siem(trail, "export", "--format", "cef", "--out", str(tmp_path / "missing" / "x.cef")) == 2
    assert "Cannot write" in capsys.readouterr().err


def test_send_once_and_status(trail: Path, listener: Listener, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("send", "--host", "127.0.0.1", "--port", str(listener.port), "--once")
    assert siem(trail, *args, "--fingerprint", listener.certificate.fingerprint.upper()) == 0
    match = re.fullmatch(rf"Forwarded (\d+) events \(seq 1–(\d+)\) to 127\.0\.0\.1:{listener.port}",
                         capsys.readouterr().out.strip())  # fmt: skip
    assert match is not None and match.group(1) == match.group(2)
    sent = int(match.group(1))
    assert listener.wait_for(sent) == list(range(1, sent + 1))

    assert siem(trail, "status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["DESTINATION", "DELIVERED-UP-TO", "PENDING"]
    # pending: the signing key announced as send signed the trail at its end (its first checkpoint), and the status
    # command's own unlock
    assert lines[1].split() == [f"127.0.0.1:{listener.port}", str(sent), "2"]
    assert lines[2].startswith(f"Trail: {sent + 2} entries; anomaly rules at seq")
    # what the rules' seq means, said (it told an operator nothing): the rest is checked where the rules run
    assert lines[2].endswith("(the alert rules have checked the entries up to it; serve or the app checks the rest)")


def test_send_failures_lose_nothing(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = PortReservation()  # held, never listening: nobody listens there while the test runs
    port = closed.port
    assert siem(trail, "send", "--host", "127.0.0.1", "--port", str(port), "--fingerprint", "ab" * 32, "--once") == 2
    closed.close()
    assert "nothing was lost, the entries stay pending" in capsys.readouterr().err
    assert siem(trail, "send", "--host", "127.0.0.1", "--fingerprint", "not-hex", "--once") == 2
    assert "SHA-256" in capsys.readouterr().err


def test_a_collector_refused_says_why_and_gets_nothing(
    trail: Path, listener: Listener, certificates: tuple[Certificate, Certificate], capsys: pytest.CaptureFixture[str]
) -> None:
    """A certificate that is not the pinned one, one no CA given vouches for, a collector that does not speak TLS:
    each is named (the error's type alone, "SSLCertVerificationError", was all an operator got), nothing reaches
    the collector in plain text, and the entries stay pending."""
    impostor = certificates[1]
    send = ("send", "--host", "127.0.0.1", "--port", str(listener.port), "--once")
    assert siem(trail, *send, "--fingerprint", impostor.fingerprint) == 2
    assert "PinMismatch (the collector's certificate is not the one pinned" in capsys.readouterr().err
    assert siem(trail, *send, "--ca", str(impostor.cert_path)) == 2
    err = capsys.readouterr().err
    assert "SSLCertVerificationError (the collector's certificate was refused: " in err and "nothing was lost" in err
    with socket.create_server(("127.0.0.1", 0)) as plain:  # answers a TLS hello in plain text, as a UDP-era relay
        answer = threading.Thread(target=lambda: _answer_plain(plain), daemon=True)
        answer.start()
        assert siem(trail, "send", "--host", "127.0.0.1", "--port", str(plain.getsockname()[1]), "--once",
                    "--fingerprint", listener.certificate.fingerprint) == 2  # fmt: skip
        answer.join(5)
    assert "(the TLS handshake failed: " in capsys.readouterr().err
    assert listener.messages == []
    assert siem(trail, "status") == 0
    assert "(no collector has received the trail yet)" in capsys.readouterr().out


def _answer_plain(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        connection.recv(4096)
        connection.sendall(b"220 syslog relay ready\r\n")


def test_a_data_subject_request_is_not_labelled_an_erasure_request(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`siem export --format cef` labelled every ``request`` id ``erasureRequestId``: the opening of an access
    request (dsr-…) went to the SIEM as if it were an erasure. Its id now has its own label; erasures keep theirs."""
    from app.erasure.requests import request_erasure
    from tests.dsr.dsr_support import register_at, with_person
    from tests.siem.test_cef import split_cef

    subject = with_person(vault)
    register, _clock = register_at(vault)
    dsr_id = register.open(["access"], "email", "dpo", subject_id=subject)
    erasure_id = request_erasure(vault, [subject], "art17-1a", "dpo")
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "trail.cef"
    assert siem(vault.path.parent, "export", "--format", "cef", "--out", str(out), "--operator", "ops") == 0
    labelled: dict[str, set[str]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        _header, ext = split_cef(line)
        if "cs1" in ext:
            labelled.setdefault(ext["cs1"], set()).add(ext["cs1Label"])
    assert labelled[dsr_id] == {"dsrRequestId"}
    assert labelled[erasure_id] == {"erasureRequestId"}


def test_where_acknowledgements_cannot_be_seen_the_entries_are_said_sent_not_delivered(
    trail: Path, listener: Listener, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS and Windows have no SIOCOUTQ/TCP_INFO: only the platform check is replaced, the rest runs for real."""
    monkeypatch.setattr(syslog, "can_confirm_delivery", lambda: False)
    args = ("send", "--host", "127.0.0.1", "--port", str(listener.port), "--once")
    assert siem(trail, *args, "--fingerprint", listener.certificate.fingerprint) == 0
    printed = capsys.readouterr().out.strip()
    match = re.match(rf"Forwarded (\d+) events \(seq 1–\d+\) to 127\.0\.0\.1:{listener.port}; sent, not confirmed:",
                     printed)  # fmt: skip
    assert match is not None, printed  # before: "Forwarded N events …" and nothing more, as if delivered
    assert listener.wait_for(int(match.group(1)))  # it was sent; only its receipt is unknown

    assert siem(trail, "status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("Note: this system cannot see a collector's TCP acknowledgements: DELIVERED-UP-TO")
    assert "not confirmed received" in lines[-1]


def test_a_collector_no_longer_used_is_forgotten_on_the_record(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cursor holds every entry after it against the trail's retention period (decision 0055): a collector taken
    out of service held them for ever, and nothing but SQL removed it."""
    from app.siem import spool
    from app.trail_retention import holds

    vault = unlock_vault(trail, PASSPHRASE)
    try:
        with vault.write_transaction() as conn:
            spool.advance(conn, "old-siem.example.org:6514", 5)
        with vault.read_connection() as conn:
            assert any("old-siem.example.org:6514" in hold.why for hold in holds(conn))
    finally:
        vault.close()
    assert siem(trail, "forget", "nowhere.example.org:6514", "--yes") == 2
    assert "No collector 'nowhere.example.org:6514' has a cursor" in capsys.readouterr().err
    assert siem(trail, "forget", "old-siem.example.org:6514", "--yes") == 0
    assert (
        capsys.readouterr().out.strip() == "Forgot old-siem.example.org:6514 (it had received the trail up to seq 5)."
    )
    vault = unlock_vault(trail, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            assert spool.cursors(conn) == [] and not any("old-siem" in hold.why for hold in holds(conn))
            recorded = of_kind(conn, "siem.destination_forgotten")[0]
        assert recorded.actor == "operator:ops" and recorded.details["received_up_to"] == 5
    finally:
        vault.close()
