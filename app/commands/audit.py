"""``custos audit verify|export|verify-bundle|view-bundle|checkpoint|tail|timeline|prune``: the tamper-evident trail
from the terminal.

Printed formats (a contract for scripts):
  verify:        ``Audit trail intact: N entries, M checkpoints, root <hex16>…`` (exit 0) or
                 ``Audit trail BROKEN at seq S: <what>`` / ``Audit trail BROKEN: <what>`` (exit 1);
                 then ``Also: …`` and ``Note: …`` lines, ``Covered: entries 1–N (FIRST to LAST); …`` (the range
                 checked, and how far a checkpoint signs it) and ``Last checkpoint: …``. A pruned trail (``audit
                 prune``): ``intact: N entries (entries 1–P pruned under the retention period … on DATE, verified
                 from the signed checkpoint at P), …`` and ``Covered: entries P+1–L (…), entries 1–P pruned …``.
  export:        ``Wrote BUNDLE: N entries (sha256 <hex>)`` then ``Checkpoint <fingerprint> …``.
  verify-bundle: ``Evidence bundle intact: …`` (exit 0) or ``Evidence bundle BROKEN …`` (exit 1); never opens
                 a vault; an intact bundle then prints ``Proved: …`` lines (what its checks established) and
                 ``Not proved: …`` lines (what it did not check: entries outside it; without --key-id, that
                 the bundled key is the vault's).
  view-bundle:   prints nothing; opens the bundle in a read-only window (exit 0 once it is closed), or prints
                 ``custos: <what is wrong>`` (exit 2) for a file that is not a readable bundle; never opens a vault.
  checkpoint:    ``Checkpoint at tree size N: fingerprint <hex16> (root <hex16>…, key <id>, signed <time>)``.
  timeline:      ``Wrote FILE: N entries (seq A–B), sha256 <hex>`` (no seq range when no entry matched).
  prune:         ``No retention period for the audit trail in the policy: nothing is pruned.``, or
                 ``Would remove|Removed entries A–B (N entries timed before T), up to the signed checkpoint at B
                 (<fingerprint>); period P`` or ``Nothing to remove: …``; then ``Held: …`` lines (what keeps
                 entries the period lets go), ``Recorded: seq S`` and ``Storage: …`` after a prune, or
                 ``Not pruned: …`` (exit 1) when the trail does not verify.
  tail:          ``SEQ  TIME (UTC)  KIND  ACTOR  OUTCOME  SUBJECT`` table, oldest first; subjects as pseudonyms,
                 never the details; each column as wide as its widest value. ``--actor`` and ``--subject`` keep
                 the events of one actor, or naming one subject (about it, or a list read that returned it);
                 with ``--subject P``, a list read that returned P shows ``P (in list read)`` as its SUBJECT.
                 A filter that matches nothing prints the header alone, and says so on stderr.

More sub-commands join the group through :func:`add_subcommand` (e.g. ``audit siem-export``): from this module,
or from a module listed in ``EXTENSION_MODULES`` that calls it when imported.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.commands.common import open_vault, operator_name, readable_file, refuse_other_suffix, whole_number
from app.core.errors import ConfigError
from app.core.terminal import shown
from app.core.zones import chosen_zone, offset_time, zone_name

# Modules that add sub-commands to ``audit`` by calling add_subcommand() at import; missing ones are skipped.
EXTENSION_MODULES = ("app.commands.audit_siem",)


@dataclass(frozen=True)
class AuditSubcommand:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]  # adds the sub-command's own arguments
    handler: Callable[[argparse.Namespace], int]  # returns the exit code
    uses_vault: bool = True  # False: never opens one (--data-dir is accepted and ignored), works on any machine


SUBCOMMANDS: dict[str, AuditSubcommand] = {}


def add_subcommand(command: AuditSubcommand) -> None:
    SUBCOMMANDS[command.name] = command


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    for module in EXTENSION_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    audit = commands.add_parser("audit", help="verify the tamper-evident audit trail, export evidence bundles")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    for command in SUBCOMMANDS.values():
        parser = sub.add_parser(command.name, help=command.help)
        command.configure(parser)
        add_data_dir(parser)  # accepted everywhere for uniformity; sub-commands without a vault ignore it
        parser.set_defaults(audit_handler=command.handler)


def run(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = args.audit_handler
    return handler(args)


# -- verify ----------------------------------------------------------------------------------------------
def _print_report(report: Any, noun: str) -> None:
    print(report.summary(noun))
    for breach in report.breaches[1:6]:
        print(f"Also: {breach.render()}")
    if len(report.breaches) > 6:
        print(f"Also: {len(report.breaches) - 6} more problem(s)")
    for note in report.notes:
        print(f"Note: {note}")
    from app.services.audit import split_proved

    proved, not_proved = split_proved(report.proved)  # an evidence bundle: exactly what was checked, and what not
    for statement in proved:
        print(f"Proved: {statement}")
    for statement in not_proved:
        print(f"Not proved: {statement} (not the whole trail)")
    for statement in report.assumed:
        print(f"Not proved: {statement}")


def _verify(args: argparse.Namespace) -> int:
    from app.services.audit import own_opening, verify

    vault = open_vault(args)
    try:
        report = verify(vault)
    finally:
        vault.close()
    note = _own_opening_note(report, own_opening())
    if note:
        report.notes.append(note)
    _print_report(report, "Audit trail")
    covered = report.covered()
    if covered is not None:
        print(f"Covered: {covered}")
    last = report.last_checkpoint
    if last is not None:
        print(f"Last checkpoint: tree size {last.tree_size}, fingerprint {last.fingerprint}, signed {last.time}")
    return 0 if report.ok else 1


def _own_opening_note(report: Any, opening: int | None) -> str | None:
    """Which unsigned entry is this command's own opening: it is written before the verdict and signed only as the
    command ends, so without this every verify, even right after a clean command, read as a gap in the signing."""
    last = report.last_checkpoint
    signed = last.tree_size if last is not None else 0
    if not report.ok or opening is None or not signed < opening <= report.last_seq:
        return None
    own = f"entry {opening} is this command's own opening of the vault; the command signs it as it ends"
    if opening == report.last_seq == signed + 1:
        return f"{own} (it is the only entry not signed: before this command, the trail was signed to its end)"
    return own


add_subcommand(
    AuditSubcommand(
        "verify",
        "recompute every entry, the chain, the Merkle tree and the signed checkpoints",
        lambda parser: None,
        _verify,
    )
)


# -- export ----------------------------------------------------------------------------------------------
def _moment(value: str) -> datetime:
    """ISO 8601 (``2025-03-01``, ``2025-03-01T09:30``, ``…Z``, ``…+02:00``); without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=_moment, help="first moment included (ISO 8601, UTC default)")
    parser.add_argument("--to", dest="end", type=_moment, help="first moment excluded (ISO 8601, UTC default)")
    parser.add_argument("--out", required=True, help="the bundle file to write (a ZIP)")
    first = "first entry included, by sequence number (with --last-seq)"
    parser.add_argument("--first-seq", type=whole_number, help=first)
    last = "last entry included, by sequence number (with --first-seq)"
    parser.add_argument("--last-seq", type=whole_number, help=last)


def _export(args: argparse.Namespace) -> int:
    from app.core.actor import current_actor
    from app.services.audit import export_bundle

    if args.start and args.end and args.start >= args.end:  # before the vault is opened
        raise ConfigError("--from must be earlier than --to.")
    by_seq = args.first_seq is not None or args.last_seq is not None
    if by_seq and (args.first_seq is None or args.last_seq is None):
        raise ConfigError("--first-seq and --last-seq go together.")
    if by_seq and (args.start or args.end):
        raise ConfigError("Choose the entries by time (--from/--to) or by sequence number (--first-seq/--last-seq).")
    seqs = (args.first_seq, args.last_seq) if by_seq else None
    out = Path(args.out)
    vault = open_vault(args)
    try:
        info = export_bundle(vault, args.start, args.end, out, current_actor.get(), seqs)
    finally:
        vault.close()
    print(f"Wrote {shown(out)}: {info.entries} entries (sha256 {info.sha256})")
    final = info.checkpoint
    print(f"Checkpoint {final.fingerprint} at tree size {final.tree_size}, key {final.key_id}, signed {final.time}")
    return 0


add_subcommand(
    AuditSubcommand(
        "export",
        "write an evidence bundle (entries, inclusion proofs, signed checkpoints, public key)",
        _configure_export,
        _export,
    )
)


# -- verify-bundle -----------------------------------------------------------------------------------------
def _configure_verify_bundle(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="the bundle file (ZIP)")
    parser.add_argument("--key-id", help="the signing key id as anchored elsewhere (16 hex digits)")


def _verify_bundle(args: argparse.Namespace) -> int:
    from app.services.audit import verify_bundle

    report = verify_bundle(readable_file(args.bundle), trusted_key_id=args.key_id)  # no vault: any machine, offline
    _print_report(report, "Evidence bundle")
    return 0 if report.ok else 1


add_subcommand(
    AuditSubcommand(
        "verify-bundle",
        "verify an evidence bundle offline (needs no vault)",
        _configure_verify_bundle,
        _verify_bundle,
        uses_vault=False,
    )
)


# -- view-bundle -------------------------------------------------------------------------------------------
def _configure_view_bundle(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="the bundle file (ZIP)")


def _view_bundle(args: argparse.Namespace) -> int:
    from app.services.audit import read_bundle

    contents = read_bundle(readable_file(args.bundle))  # a file that is not a bundle is told here, before any window
    from app.ui.audit.bundle_window import view_bundle  # the only sub-command that imports Qt

    return view_bundle(contents)


add_subcommand(
    AuditSubcommand(
        "view-bundle",
        "open an evidence bundle in a read-only window: verdict, facts, entries (needs no vault)",
        _configure_view_bundle,
        _view_bundle,
        uses_vault=False,
    )
)


# -- checkpoint ------------------------------------------------------------------------------------------
def _checkpoint(args: argparse.Namespace) -> int:
    from app.services.audit import checkpoint

    vault = open_vault(args)
    try:
        made = checkpoint(vault)
    finally:
        vault.close()
    print(
        f"Checkpoint at tree size {made.tree_size}: fingerprint {made.fingerprint} "
        f"(root {made.root_hash[:16]}…, key {made.key_id}, signed {made.time})"
    )
    return 0


add_subcommand(
    AuditSubcommand(
        "checkpoint", "sign the current tree head now and print its fingerprint", lambda parser: None, _checkpoint
    )
)


# -- prune -----------------------------------------------------------------------------------------------
def _configure_prune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print what would be removed, remove nothing")


def _prune_lines(done: Any, dry_run: bool) -> list[str]:
    plan = done.plan
    if plan.anchor is None:
        lines = [f"Nothing to remove: no signed checkpoint closes entries timed before {plan.cutoff} (period "
                 f"{plan.period}) that nothing holds"]  # fmt: skip
    else:
        verb = "Would remove" if dry_run or done.record is None else "Removed"
        span = f"entries {plan.first_seq}–{plan.last_seq} ({plan.count} entries timed before {plan.cutoff})"
        lines = [f"{verb} {span}, up to the signed checkpoint at {plan.last_seq} ({plan.anchor.fingerprint}); "
                 f"period {plan.period}"]  # fmt: skip
    lines += [f"Held: entries from {hold.seq} on: {hold.why}" for hold in plan.holds]
    if done.record is not None:
        lines.append(f"Recorded: seq {done.record.seq} ({done.record.kind})")
    if done.storage is not None:
        s = done.storage
        lines.append(f"Storage: secure_delete {'on' if s.secure_delete else 'OFF'}, WAL checkpointed "
                     f"{'yes' if s.wal_checkpointed else 'no'}, vacuumed {'yes' if s.vacuumed else 'no'}, WAL "
                     f"truncated {'yes' if s.wal_truncated else 'no'}")  # fmt: skip
    return lines


def _prune(args: argparse.Namespace) -> int:
    from app.services.audit import prune

    vault = open_vault(args)
    try:
        done = prune(vault, dry_run=args.dry_run)
    finally:
        vault.close()
    if done is None:
        print("No retention period for the audit trail in the policy: nothing is pruned.")
        return 0
    for line in _prune_lines(done, args.dry_run):
        print(line)
    if done.refused:
        print(f"Not pruned: {done.refused}")
        return 1
    return 0


add_subcommand(
    AuditSubcommand(
        "prune",
        "remove entries past the policy's [own_processing] audit_trail period, up to a signed checkpoint",
        _configure_prune,
        _prune,
    )
)


# -- tail ------------------------------------------------------------------------------------------------
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
_HEADERS = ("SEQ", "TIME (UTC)", "KIND", "ACTOR", "OUTCOME")
IN_LIST_READ = "(in list read)"


def _pseudonym(text: str) -> str:
    """A subject as the trail shows it (64 hex digits): anything else can match nothing, and is said so."""
    given = text.strip().lower()
    if not _PSEUDONYM.fullmatch(given):
        raise argparse.ArgumentTypeError("a subject pseudonym as `audit tail` shows it: 64 hex digits")
    return given


def _configure_tail(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", type=whole_number, default=20, help="how many of the newest events (default 20)")
    parser.add_argument("--actor", help="only this actor's events, exactly as shown (e.g. token:entra-prod)")
    parser.add_argument("--subject", type=_pseudonym, metavar="PSEUDONYM",
                        help="only events naming this subject: about it, or a list read that returned it")  # fmt: skip
    parser.add_argument("--zone", help="also give each time in this zone, beside UTC: an IANA name such as "
                        "Europe/Berlin, or 'local' for this computer's")  # fmt: skip


def _subject(event: Any, searched: str | None) -> str:
    """The entry's subject; for a list read found by ``--subject`` (it names the person among those it returned,
    and no subject of its own), the pseudonym searched for and why: a bare ``-`` read as "about no one"."""
    if searched and event.subject != searched:
        return f"{searched} {IN_LIST_READ}"
    return event.subject or "-"


def _rows(events: list[Any], searched: str | None = None, zone: str | None = None) -> list[tuple[str, ...]]:
    """SEQ, TIME (UTC), [the time in ``zone``,] KIND, ACTOR, OUTCOME, SUBJECT of each entry."""

    def zoned(at: str) -> tuple[str, ...]:
        return () if zone is None else (offset_time(datetime.fromisoformat(at), zone),)

    return [(str(e.seq), e.at, *zoned(e.at), e.kind, e.actor, e.outcome, _subject(e, searched)) for e in events]


def _tail(args: argparse.Namespace) -> int:
    from app.services.audit import newest

    if args.n < 1:  # before the vault is opened
        raise ConfigError("-n must be at least 1.")
    zone = chosen_zone(args.zone)
    vault = open_vault(args)
    try:
        events = newest(vault, args.n, args.actor, args.subject)
    finally:
        vault.close()
    rows = _rows(list(reversed(events)), args.subject, zone)
    headers = _HEADERS if zone is None else (*_HEADERS[:2], f"TIME ({zone_name(zone)})", *_HEADERS[2:])
    minimums = (8, 26, 28, 24, 8) if zone is None else (8, 26, 25, 28, 24, 8)
    # Each column as wide as its widest value: fixed widths (a time is 27 characters, its column was 26) pushed
    # every row one character right of the header, and a long actor or kind pushed the rest of its row further.
    widths = [max([len(headers[i]), minimum, *(len(row[i]) for row in rows)]) for i, minimum in enumerate(minimums)]
    last = len(minimums)
    print("  ".join([headers[0].rjust(widths[0]), *(h.ljust(w) for h, w in zip(headers[1:], widths[1:], strict=True)),
                     "SUBJECT"]))  # fmt: skip
    for row in rows:
        cells = [
            row[0].rjust(widths[0]),
            *(c.ljust(w) for c, w in zip(row[1:last], widths[1:], strict=True)),
            row[last],
        ]
        print("  ".join(cells))
    if not rows and (args.actor or args.subject):  # a header alone read as "nothing happened" (tried: no prefix)
        print(_NO_MATCH_ACTOR if args.actor else _NO_MATCH_SUBJECT, file=sys.stderr)
    return 0


_NO_MATCH_ACTOR = (
    "No event matches. --actor is compared exactly, with its kind, as the ACTOR column shows it (e.g. token:NAME, "
    "operator:LOGIN, system:…)."
)
_NO_MATCH_SUBJECT = "No event names this subject (about it, or in a list read that returned it)."


add_subcommand(AuditSubcommand("tail", "print the newest events (never their details)", _configure_tail, _tail))


# -- timeline --------------------------------------------------------------------------------------------
def _configure_timeline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, choices=("csv", "xlsx"), help="CSV (UTF-8) or an Excel workbook")
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument("--from", dest="start", type=_moment, help="first moment included (ISO 8601, UTC default)")
    parser.add_argument("--to", dest="end", type=_moment, help="first moment excluded (ISO 8601, UTC default)")
    parser.add_argument("--actor", help="only this actor's events, exactly as `audit tail` shows it")
    parser.add_argument("--subject", type=_pseudonym, metavar="PSEUDONYM",
                        help="only events naming this subject: about it, or a list read that returned it")  # fmt: skip
    parser.add_argument("--operator", help="who exports, for the audit trail (default: login)")


def _timeline(args: argparse.Namespace) -> int:
    """The timeline the audit page exports (CSV or XLSX, oldest first, pseudonyms and public details only), from
    the terminal: on a headless server the responder had `audit tail` (no details) and evidence bundles (ZIP),
    and no spreadsheet to work through."""
    from app.services.audit import EventFilter, export_timeline

    if args.start and args.end and args.start >= args.end:  # before the vault is opened
        raise ConfigError("--from must be earlier than --to.")
    refuse_other_suffix(Path(args.out), args.format, args.format)
    where = EventFilter(actor=args.actor, subject=args.subject, since=args.start, until=args.end)
    vault = open_vault(args)
    try:
        written = export_timeline(vault, args.format, Path(args.out), operator_name(args), where=where)
    finally:
        vault.close()
    span = f" (seq {written.first_seq}–{written.last_seq})" if written.rows else ""
    print(f"Wrote {shown(written.path)}: {written.rows} entries{span}, sha256 {written.sha256}")
    if written.scope is not None:  # a filtered timeline otherwise passed for the whole trail
        print(written.scope.summary())
    return 0


add_subcommand(
    AuditSubcommand(
        "timeline",
        "write the trail's entries (pseudonyms, public details) as CSV or XLSX",
        _configure_timeline,
        _timeline,
    )
)
