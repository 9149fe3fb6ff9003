"""``custos siem export|send|status``: the audit trail for a SIEM, as CEF or OCSF JSON, by file or syslog/TLS.

Printed formats (a contract):
  export: ``Wrote N events (seq A–B) to FILE (FORMAT)``
  send:   ``Forwarded N events (seq A–B) to HOST:PORT`` or ``Nothing to forward to HOST:PORT``
  status: ``DESTINATION  DELIVERED-UP-TO  PENDING`` table
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.commands.common import open_vault
from app.core.errors import ConfigError


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    siem = commands.add_parser("siem", help="the audit trail for a SIEM: CEF or OCSF, to a file or over syslog/TLS")
    sub = siem.add_subparsers(dest="siem_command", required=True)
    export = sub.add_parser("export", help="write trail entries as CEF lines or OCSF JSON lines")
    export.add_argument("--format", choices=("cef", "ocsf"), required=True)
    export.add_argument("--from", dest="start", type=int, default=1, help="first audit seq (default 1)")
    export.add_argument("--out", required=True)
    add_data_dir(export)
    send = sub.add_parser("send", help="forward pending entries to a syslog collector (RFC 5424 over TLS, RFC 5425)")
    send.add_argument("--host", required=True)
    send.add_argument("--port", type=int, default=6514)
    send.add_argument("--fingerprint", help="SHA-256 of the collector's certificate (pinning)")
    send.add_argument("--ca", help="CA file to verify the collector with")
    add_data_dir(send)
    status = sub.add_parser("status", help="how far each collector has received the trail")
    add_data_dir(status)


def run(args: argparse.Namespace) -> int:
    from app.audit.trail import read
    from app.siem.cef import to_cef
    from app.siem.forwarder import cursors, pending, send_pending
    from app.siem.ocsf import to_ocsf
    from app.siem.syslog import Collector

    vault = open_vault(args)
    try:
        if args.siem_command == "export":
            count, first, last = 0, None, None
            with vault.read_connection() as conn, Path(args.out).open("w", encoding="utf-8") as out:
                for event in read(conn, args.start):
                    line = to_cef(event) if args.format == "cef" else json.dumps(to_ocsf(event), sort_keys=True)
                    out.write(line + "\n")
                    count, first, last = count + 1, first or event.seq, event.seq
            print(f"Wrote {count} events (seq {first}–{last}) to {args.out} ({args.format})")
        elif args.siem_command == "send":
            collector = Collector(args.host, args.port, args.fingerprint, args.ca)
            if not (args.fingerprint or args.ca):
                print("Note: no --fingerprint or --ca: the collector is verified against the system CAs.")
            try:
                delivered = send_pending(vault, collector)
            except OSError as exc:
                raise ConfigError(f"Cannot deliver to {collector.name}: {exc.__class__.__name__}; nothing was lost, "
                                  "the entries stay pending.") from exc  # fmt: skip
            if delivered.sent:
                print(f"Forwarded {delivered.sent} events (seq {delivered.first_seq}–{delivered.last_seq}) "
                      f"to {collector.name}")  # fmt: skip
            else:
                print(f"Nothing to forward to {collector.name}")
        else:
            print(f"{'DESTINATION':<40} {'DELIVERED-UP-TO':>15} {'PENDING':>8}")
            with vault.read_connection() as conn:
                for destination, last_seq in cursors(conn):
                    print(f"{destination:<40} {last_seq:>15} {pending(conn, destination):>8}")
    finally:
        vault.close()
    return 0
