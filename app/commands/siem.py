"""``custos siem export|send|status``: the audit trail for a SIEM, as CEF or OCSF JSON, by file or syslog/TLS.

Printed formats (a contract):
  export: ``Wrote N events (seq A–B) to FILE (FORMAT)``
  send:   ``Forwarded N events (seq A–B) to HOST:PORT`` or ``Nothing to forward to HOST:PORT``
  status: ``DESTINATION  DELIVERED-UP-TO  PENDING`` table, then ``Trail: N entries; anomaly rules at seq S``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.commands.common import open_vault, operator_name
from app.core.errors import ConfigError

FORMATS = ("cef", "ocsf")


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    siem = commands.add_parser("siem", help="the audit trail for a SIEM: CEF or OCSF, to a file or over syslog/TLS")
    sub = siem.add_subparsers(dest="siem_command", required=True)
    export = sub.add_parser("export", help="write trail entries as CEF lines or OCSF JSON lines")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--from", dest="start", type=int, default=1, help="first audit seq (default 1)")
    export.add_argument("--to", dest="end", type=int, default=None, help="last audit seq (default: the newest)")
    export.add_argument("--out", required=True)
    export.add_argument("--operator", help="who is exporting, for the audit trail (default: login name)")
    add_data_dir(export)
    send = sub.add_parser("send", help="forward pending entries to a syslog collector (RFC 5424 over TLS, RFC 5425)")
    send.add_argument("--host", required=True)
    send.add_argument("--port", type=int, default=6514)
    trust = send.add_mutually_exclusive_group()
    trust.add_argument("--fingerprint", help="SHA-256 of the collector's certificate (pinning)")
    trust.add_argument("--ca", help="CA file to verify the collector with")
    send.add_argument("--format", choices=FORMATS, default="cef", help="the syslog MSG: CEF (default) or OCSF JSON")
    send.add_argument("--once", action="store_true", help="send what is pending and exit (default: keep forwarding)")
    add_data_dir(send)
    status = sub.add_parser("status", help="how far each collector has received the trail")
    add_data_dir(status)


def _span(count: int, first: int | None, last: int | None) -> str:
    return f"{count} events (seq {first}–{last})" if count else "0 events"


def _export(args: argparse.Namespace, vault: Any) -> None:
    from app.audit.trail import Event, append, read
    from app.siem.cef import to_cef
    from app.siem.ocsf import to_ocsf

    if args.start < 1 or (args.end is not None and args.end < args.start):
        raise ConfigError("--from must be 1 or more, and --to (if given) not before --from.")
    out = Path(args.out)
    count, first, last = 0, None, None
    digest = hashlib.sha256()
    # The trail is pseudonymous, but still only for the people who run the SIEM: owner-only file.
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise ConfigError(f"Cannot write {out}: {exc.strerror or type(exc).__name__}.") from exc
    with vault.read_connection() as conn, open(fd, "w", encoding="utf-8", newline="\n") as file:
        for event in read(conn, args.start):
            if args.end is not None and event.seq > args.end:
                break
            record = to_ocsf(event) if args.format == "ocsf" else None
            line = json.dumps(record, sort_keys=True, ensure_ascii=False) if record is not None else to_cef(event)
            file.write(line + "\n")
            digest.update(line.encode() + b"\n")
            count, first, last = count + 1, first or event.seq, event.seq
    details = {"format": args.format, "events": count, "first_seq": first, "last_seq": last,
               "sha256": digest.hexdigest()}  # fmt: skip
    with vault.write_transaction() as conn:  # an export is an operator action: on the record, never its content
        append(conn, Event("export.siem", f"operator:{operator_name(args)}", details=details))
    print(f"Wrote {_span(count, first, last)} to {out} ({args.format})")


def _send(args: argparse.Namespace, vault: Any) -> None:
    from app.siem.forwarder import SiemForwarder, send_pending
    from app.siem.syslog import Collector

    collector = Collector(args.host, args.port, args.fingerprint, args.ca, args.format)
    try:
        collector.pin()
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if not (args.fingerprint or args.ca):
        print("Note: no --fingerprint or --ca: the collector is verified against the system CAs.")
    if args.once:
        try:
            delivered = send_pending(vault, collector)
        except OSError as exc:
            raise ConfigError(f"Cannot deliver to {collector.name}: {type(exc).__name__}; nothing was lost, "
                              "the entries stay pending.") from exc  # fmt: skip
    else:
        forwarder = SiemForwarder(vault, collector)
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        print(f"Forwarding to {collector.name} until interrupted (Ctrl-C).", flush=True)
        forwarder.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            forwarder.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        delivered = forwarder.delivered
    if delivered.sent:
        print(f"Forwarded {_span(delivered.sent, delivered.first_seq, delivered.last_seq)} to {collector.name}")
    else:
        print(f"Nothing to forward to {collector.name}")


def _status(vault: Any) -> None:
    from app.siem import spool

    with vault.read_connection() as conn:
        rows = [(destination, seq, spool.pending(conn, destination)) for destination, seq in spool.cursors(conn)]
        newest = spool.last_seq(conn)
        rules_at = spool.cursor(conn, spool.ALERTS)
    print(f"{'DESTINATION':<40} {'DELIVERED-UP-TO':>15} {'PENDING':>8}")
    for destination, seq, waiting in rows:
        print(f"{destination:<40} {seq:>15} {waiting:>8}")
    if not rows:
        print("(no collector has received the trail yet)")
    print(f"Trail: {newest} entries; anomaly rules at seq {rules_at}")


def run(args: argparse.Namespace) -> int:
    vault = open_vault(args)
    try:
        if args.siem_command == "export":
            _export(args, vault)
        elif args.siem_command == "send":
            _send(args, vault)
        else:
            _status(vault)
    finally:
        vault.close()
    return 0
