"""``custos siem export|send|status``: the audit trail for a SIEM, as CEF or OCSF JSON, by file or syslog/TLS.

Printed formats (a contract):
  export: ``Wrote N events (seq A–B) to FILE (FORMAT)``
  send:   ``Forwarded N events (seq A–B) to HOST:PORT`` or ``Nothing to forward to HOST:PORT``; where the system
          cannot see the collector's TCP acknowledgements (not Linux) the first ends ``; sent, not confirmed …``
  forget: ``Forgot DESTINATION (it had received the trail up to seq N).`` (or ``Nothing changed.``, exit 1)
  status: ``DESTINATION  DELIVERED-UP-TO  PENDING`` table, then ``Trail: N entries; anomaly rules at seq S (…)``; on
          such a system, then ``Note: … sent, not confirmed …``
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.commands.common import confirm, open_vault, operator_name, port_number, whole_number
from app.core.terminal import shown

FORMATS = ("cef", "ocsf")  # as app.services.siem.FORMATS (kept light here)


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    siem = commands.add_parser("siem", help="the audit trail for a SIEM: CEF or OCSF, to a file or over syslog/TLS")
    sub = siem.add_subparsers(dest="siem_command", required=True)
    export = sub.add_parser("export", help="write trail entries as CEF lines or OCSF JSON lines")
    export.add_argument("--format", choices=FORMATS, required=True, help="CEF lines or OCSF JSON lines")
    export.add_argument("--from", dest="start", type=whole_number, default=1, help="first audit seq (default 1)")
    newest = "last audit seq (default: the newest)"
    export.add_argument("--to", dest="end", type=whole_number, default=None, help=newest)
    export.add_argument(
        "--out", required=True, help="the file to write (owner-only; an existing one is replaced whole)"
    )
    export.add_argument("--operator", help="who is exporting, for the audit trail (default: login name)")
    add_data_dir(export)
    send = sub.add_parser("send", help="forward pending entries to a syslog collector (RFC 5424 over TLS, RFC 5425)")
    send.add_argument("--host", required=True, help="the collector's host name or address")
    send.add_argument(
        "--port", type=port_number, default=6514, help="the collector's port (default 6514, syslog over TLS)"
    )
    trust = send.add_mutually_exclusive_group()
    trust.add_argument("--fingerprint", help="SHA-256 of the collector's certificate (pinning)")
    trust.add_argument("--ca", help="CA file to verify the collector with")
    send.add_argument("--format", choices=FORMATS, default="cef", help="the syslog MSG: CEF (default) or OCSF JSON")
    send.add_argument("--once", action="store_true", help="send what is pending and exit (default: keep forwarding)")
    add_data_dir(send)
    status = sub.add_parser("status", help="how far each collector has received the trail")
    add_data_dir(status)
    forget = sub.add_parser(
        "forget", help="stop keeping the trail for a collector no longer used (its cursor holds back the retention)"
    )
    forget.add_argument("destination", help="the DESTINATION as `siem status` prints it")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    forget.add_argument("--operator", help="who is acting, for the audit trail (default: login name)")
    add_data_dir(forget)


def _span(count: int, first: int | None, last: int | None) -> str:
    return f"{count} events (seq {first}–{last})" if count else "0 events"


def _export(args: argparse.Namespace, vault: Any) -> None:
    from app.services.siem import export

    out = Path(args.out)
    done = export(vault, args.format, args.start, args.end, out, operator_name(args))
    print(f"Wrote {_span(done.count, done.first_seq, done.last_seq)} to {shown(out)} ({args.format})")


def _send(args: argparse.Namespace, vault: Any) -> None:
    from app.services import siem

    collector = siem.collector(args.host, args.port, args.fingerprint, args.ca, args.format)
    if not (args.fingerprint or args.ca):
        print("Note: no --fingerprint or --ca: the collector is verified against the system CAs.")
    if args.once:
        delivered = siem.send_once(vault, collector)
    else:
        forwarder = siem.forwarder(vault, collector)
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
        print(f"Forwarded {_span(delivered.sent, delivered.first_seq, delivered.last_seq)} to {collector.name}"
              f"{_unconfirmed(delivered.unconfirmed, delivered.sent)}")  # fmt: skip
    else:
        print(f"Nothing to forward to {collector.name}")


def _unconfirmed(count: int, sent: int) -> str:
    """What the line must add when this system could not see the collector acknowledge what was sent."""
    if not count:
        return ""
    which = "" if count == sent else f" ({count} of them)"
    return (f"; sent, not confirmed{which}: this system cannot see the collector's TCP acknowledgements, so they "
            "may still be in this computer's send buffer")  # fmt: skip


def _status(vault: Any) -> None:
    from app.services.siem import status

    found = status(vault)
    print(f"{'DESTINATION':<40} {'DELIVERED-UP-TO':>15} {'PENDING':>8}")
    for destination, seq, waiting in found.rows:
        print(f"{destination:<40} {seq:>15} {waiting:>8}")
    if not found.rows:
        print("(no collector has received the trail yet)")
    # "anomaly rules at seq S" alone told an operator nothing: what they are, and that entries after S are still to
    # be checked (by serve or the app, which run them; entries written meanwhile are checked when they start).
    print(f"Trail: {found.newest} entries; anomaly rules at seq {found.rules_at} (the alert rules have checked the "
          "entries up to it; serve or the app checks the rest)")  # fmt: skip
    if not found.confirmed:
        print("Note: this system cannot see a collector's TCP acknowledgements: DELIVERED-UP-TO counts what was sent "
              "from here, not confirmed received")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    vault = open_vault(args)
    try:
        if args.siem_command == "export":
            _export(args, vault)
        elif args.siem_command == "send":
            _send(args, vault)
        elif args.siem_command == "forget":
            return _forget(args, vault)
        else:
            _status(vault)
    finally:
        vault.close()
    return 0


def _forget(args: argparse.Namespace, vault: Any) -> int:
    from app.services.siem import forget

    question = (f"Forget the collector {args.destination}? Entries it has not received are then kept only for the "
                "trail's retention period, not until it takes them.")  # fmt: skip
    if not confirm(question, args.yes):
        print("Nothing changed.")
        return 1
    reached = forget(vault, args.destination, operator_name(args))
    print(f"Forgot {args.destination} (it had received the trail up to seq {reached}).")
    return 0
