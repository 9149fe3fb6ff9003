"""``custos breach open|list|show|aware|assess|notify|inform|exempt|update|scope|close|dismiss|draft|export``: the
register.

Printed formats (a contract):
  list: ``ID  STATE  AWARE (UTC)  DEADLINE (UTC)  CLOCK  TITLE`` table, newest first; AWARE is the earliest
        awareness recorded, the one the deadline runs from
  show: ``Incident N: title`` then ``  KEY: value`` lines (``  source:`` opened by hand, or the alert rule that
        raised it and its trail entry), the clock, then ``  history:`` with every time ever recorded, one
        ``    NAME = TIME (recorded TIME by WHO[, correction]): REASON`` line each. TIME is UTC to the second
        (``2026-11-27 09:00:30 UTC``, as the register compares times), followed by `` (… +01:00 ZONE)`` in the
        zone of ``--zone`` or, by default, the controller's zone when it is known
  export: ``Wrote PATH (sha256 HEX)`` then ``N incidents in the register.`` (app/commands/register_export.py)

Times are append-only: recording one again is a correction and needs ``--reason`` (``aware``, ``inform``,
``update``, ``notify --correct N``); the earlier value stays and the deadline runs from the earliest awareness recorded.

Time options take ISO 8601. One without a zone is taken as UTC (never the machine's local time), and the command
then adds one line per such time: ``--at 2026-11-27T09:00 has no time zone: taken as UTC, 2026-11-27T09:00+00:00``.
A refused command says the same lines on stderr, before its message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.commands.breach_show import at_text, change_text, corrected_text, deadline_text, show_incident
from app.commands.common import open_vault, operator_name, whole_number
from app.commands.register_export import add_export_options, export_format, print_export
from app.core.errors import ConfigError
from app.core.terminal import shown
from app.core.zones import chosen_zone

ZONE_HELP = (
    "an ISO 8601 time such as 2026-11-27T09:00+01:00 or 2026-11-27T08:00Z; a time without a zone (no Z, no "
    "+HH:MM) is taken as UTC, not as this computer's local time, and the command says so"
)


def _parse_time(text: str) -> tuple[datetime, bool]:
    """The time given and whether it carried no zone (then it is UTC: the register's times are all UTC, and a
    local reading would depend on the machine the command happens to run on)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{text!r} is not an ISO 8601 time such as 2026-11-27T09:00Z.") from exc
    return (moment, False) if moment.tzinfo else (moment.replace(tzinfo=UTC), True)


class _TimeOption(argparse.Action):
    """A time option: parsed as ``_parse_time`` does, and remembered when it had no zone so that the command
    states how it was read (``zone_notes``)."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        try:
            moment, zoneless = _parse_time(str(values))
        except ConfigError as exc:  # argparse's own message and exit status 2, not a traceback
            raise argparse.ArgumentError(self, str(exc)) from exc
        setattr(namespace, self.dest, moment)
        if zoneless:
            notes = list(getattr(namespace, "zoneless_times", None) or [])
            notes.append((option or self.dest, str(values), moment))
            namespace.zoneless_times = notes


def _time_option(parser: argparse.ArgumentParser, flag: str, what: str = "", **options: Any) -> None:
    text = f"{what}; {ZONE_HELP}" if what else ZONE_HELP
    parser.add_argument(flag, action=_TimeOption, metavar="TIME", help=text, **options)


def zone_notes(args: argparse.Namespace) -> list[str]:
    """One line per time given without a zone: how it was read, in ISO 8601 with its offset."""
    return [
        f"{flag} {given} has no time zone: taken as UTC, {moment.isoformat(timespec=_precision(moment))}"
        for flag, given, moment in getattr(args, "zoneless_times", None) or []
    ]


def _precision(moment: datetime) -> str:
    """Minutes as before, but never fewer digits than were given: '09:00:30' read back as '09:00' hid the seconds
    the register compares."""
    return "minutes" if not (moment.second or moment.microsecond) else "seconds"


def _yes_no(text: str) -> bool:
    if text not in ("yes", "no"):
        raise argparse.ArgumentTypeError("yes or no")
    return text == "yes"


def _listed(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text is not None else None


def _add_details(parser: argparse.ArgumentParser) -> None:
    """What supervisory authorities' forms ask beyond Art. 33(3), on ``open`` and ``update`` alike."""
    parser.add_argument("--subject-categories", help="comma-separated categories of data subjects (Art. 33(3)(a))")
    parser.add_argument("--breach-type", help="comma-separated: confidentiality, integrity, availability")
    parser.add_argument("--cause", help="what caused the breach (e.g. a misaddressed e-mail, stolen credentials)")
    parser.add_argument("--discovery", help="how the breach was discovered (when: --detected)")
    parser.add_argument("--special-categories", choices=("yes", "no", "unknown"),
                        help="are special categories (Art. 9) or criminal data (Art. 10) involved?")  # fmt: skip
    parser.add_argument("--authority", help="the supervisory authority notified")
    parser.add_argument("--cross-border", type=_yes_no, metavar="yes|no", help="cross-border processing (Art. 56)?")
    parser.add_argument("--lead-authority", help="the lead supervisory authority (one-stop-shop), when cross-border")
    parser.add_argument("--other-authorities", help="other authorities told (police, CSIRT, other supervisory ones)")
    parser.add_argument("--processor", help="the processor involved, if any")
    parser.add_argument("--subject-summary", help="what happened, in plain language for the data subjects (Art. 34)")
    parser.add_argument("--subject-advice", help="what the data subjects can do to protect themselves (Art. 34)")


def _details(args: argparse.Namespace) -> dict[str, Any]:
    mapping = {
        "subject_categories": _listed(args.subject_categories), "breach_types": _listed(args.breach_type),
        "cause": args.cause, "discovery": args.discovery, "special_categories": args.special_categories,
        "authority": args.authority, "cross_border": args.cross_border, "lead_authority": args.lead_authority,
        "other_authorities": args.other_authorities, "processor": args.processor,
        "subject_summary": args.subject_summary, "subject_advice": args.subject_advice,
    }  # fmt: skip
    return {k: v for k, v in mapping.items() if v is not None}


UPDATE_TEXTS = {  # the Art. 33(3) content `update` records, by option
    "title": "a short name for the incident (no personal data)",
    "description": "what happened",
    "nature": "the nature of the breach (Art. 33(3)(a))",
    "dpo-contact": "the DPO or other contact point for more information (Art. 33(3)(b))",
    "consequences": "the likely consequences (Art. 33(3)(c))",
    "measures": "the measures taken or proposed, including to mitigate its effects (Art. 33(3)(d))",
}


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    breach = commands.add_parser("breach", help="the breach register and the 72-hour clock (Art. 33 and 34)")
    sub = breach.add_subparsers(dest="breach_command", required=True)

    def command(name: str, help_text: str, with_id: bool = True) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        if with_id:
            parser.add_argument("id", type=whole_number, help="the incident's number (`breach list`)")
        parser.add_argument("--operator", help="who acts, for the register and the audit trail (default: login)")
        add_data_dir(parser)
        return parser

    opened = command("open", "record a new incident", with_id=False)
    opened.add_argument("--title", required=True, help="a short name for the incident (no personal data)")
    opened.add_argument("--description", default="", help="what is known so far")
    _time_option(opened, "--detected", "when the breach was detected")
    _time_option(opened, "--occurred-from", "when the breach began")
    _time_option(opened, "--occurred-to", "when the breach ended")
    _add_details(opened)
    command("list", "every incident, notified or not, with its clock", with_id=False)
    show = command("show", "one incident: its times, figures and notifications")
    zone_help = ("also give each time in this zone, with its UTC offset: an IANA name such as Europe/Berlin, or "
                 "'local' for this computer's (default: the controller's zone, if known)")  # fmt: skip
    show.add_argument("--zone", help=zone_help)
    aware = command("aware", "record when the controller became aware (starts the 72-hour clock); again: a correction")
    aware.add_argument("--reason", required=True, help="why aware; when correcting, why the time is corrected")
    _time_option(aware, "--at", "default now; required when correcting")
    assess = command("assess", "record the risk assessment")
    assess.add_argument("--risk", choices=("none", "risk", "high_risk"), required=True,
                        help="none: unlikely to result in a risk (no notification); risk: notify the authority "
                        "(Art. 33); high_risk: also inform the data subjects (Art. 34)")  # fmt: skip
    assess.add_argument("--reason", required=True, help="the reasoning behind the assessment (kept in the register)")
    notify = command("notify", "record a notification to the supervisory authority")
    notify.add_argument("--reference", help="the authority's reference (required unless --correct)")
    _time_option(notify, "--at", "when the authority was notified (default now)")
    notify.add_argument("--summary", default="", help="what was sent to the authority, in a few words")
    notify.add_argument("--delay-reason", help="reasons for the delay (Art. 33(1)); required past 72 hours")
    notify.add_argument("--follow-up", action="store_true",
                        help="a further notification in phases (Art. 33(4)); any after the first is one")  # fmt: skip
    notify.add_argument(
        "--correct", type=whole_number, metavar="N", help="correct the time of notification N (see show)"
    )
    notify.add_argument("--reason", help="why the notification's time is corrected (with --correct)")
    inform = command("inform", "record that the data subjects were informed (Art. 34); again: a correction")
    _time_option(inform, "--at", "when the data subjects were informed (default now)")
    inform.add_argument("--reason", help="required when correcting a time already recorded")
    exempt = command("exempt", "record the Art. 34(3) exemption from informing the data subjects")
    exempt.add_argument("--exemption", choices=("a", "b", "c"), required=True,
                        help="Art. 34(3) point: (a) the data were unintelligible, e.g. encrypted; (b) measures taken "
                        "since remove the high risk; (c) informing each would take disproportionate effort (then a "
                        "public communication)")  # fmt: skip
    exempt.add_argument("--reason", required=True, help="why the exemption applies (kept in the register)")
    update = command("update", "record the Art. 33(3) content and times")
    for name, text in UPDATE_TEXTS.items():
        update.add_argument(f"--{name}", help=text)
    update.add_argument("--categories", help="comma-separated data categories")
    update.add_argument("--subjects", type=whole_number, help="approximate number of data subjects")
    update.add_argument("--records", type=whole_number, help="approximate number of records")
    for name in ("occurred-from", "occurred-to", "detected", "processor-notified", "investigation", "contained"):
        _time_option(update, f"--{name}")
    update.add_argument("--reason", help="required when correcting a time already recorded")
    update.add_argument("--delay-reason", help="reasons for notifying later than 72 hours after awareness (Art. 33(1))")
    _add_details(update)
    scope = command("scope", "compute approximate numbers and categories from the mirror and the trail")
    _time_option(scope, "--from", "start of the window", dest="since")
    _time_option(scope, "--to", "end of the window", dest="until")
    scope.add_argument("--attributes", default="", help="comma-separated attribute paths")
    scope.add_argument("--apply", action="store_true", help="store the computed figures on the incident")
    close = command("close", "close the incident (checks Art. 33(3) content, notification or rationale)")
    close.add_argument("--rationale", help="why a breach that was not notified is unlikely to result in a risk")
    dismiss = command("dismiss", "close a candidate (no awareness recorded) as not a personal-data breach")
    dismiss.add_argument("--reason", required=True, help="why it is not a personal-data breach (kept in the register)")
    exported = command("export", "write the whole register as a file for the authority (Art. 33(5)): CSV or XLSX",
                       with_id=False)  # fmt: skip
    add_export_options(exported, "incident")
    draft = command("draft", "write the Art. 33(3) notification draft or the Art. 34 communication (Markdown and PDF)")
    draft.add_argument("--out", required=True, help="the folder to write the Markdown and PDF into")
    draft.add_argument(
        "--audience",
        choices=("authority", "subjects"),
        default="authority",
        help="authority: the Art. 33 notification (default); subjects: the Art. 34 communication",
    )



def _aware(register_: Any, args: argparse.Namespace, operator: str, now: datetime) -> None:
    from app.services.incidents import controller_zone

    zone = controller_zone(register_.vault)  # read before the change: nothing can fail after it is recorded
    before = register_.get(args.id)
    view = register_.set_aware(args.id, operator, args.reason, args.at)
    status = view.clock(now)
    assert status.deadline is not None
    if before.aware_at is None:
        print(f"Aware at {at_text(view.aware_at, view.aware_at)}; notify by {deadline_text(status.deadline, zone)}.")
    else:
        print(f"Corrected awareness of incident {args.id}: {corrected_text(before, view, 'aware_at')}. The deadline "
              f"runs from the earliest awareness recorded, {at_text(view.aware_anchor, view.aware_anchor)}: notify by "
              f"{deadline_text(status.deadline, zone)}.")  # fmt: skip


def _correct_notification(register_: Any, args: argparse.Namespace, operator: str, now: datetime) -> None:
    if args.at is None or not args.reason:
        raise ConfigError("A correction needs the corrected time (--at) and its reason (--reason).")
    before = {n.number: n.at for n in register_.get(args.id).notifications}
    view = register_.correct_notification(args.id, operator, args.correct, args.at, args.reason, args.delay_reason)
    new = next(n.at for n in view.notifications if n.number == args.correct)
    change = change_text(before[args.correct], new)
    print(f"Corrected notification {args.correct} of incident {args.id}: {change}; {view.clock(now).describe()}.")


def _inform(register_: Any, args: argparse.Namespace, operator: str) -> None:
    before = register_.get(args.id)
    view = register_.inform_subjects(args.id, operator, args.at, args.reason or "")
    if before.subjects_informed_at is None:
        print(f"Data subjects of incident {args.id} recorded as informed.")
    else:
        print(f"Corrected when the data subjects of incident {args.id} were informed: "
              f"{corrected_text(before, view, 'subjects_informed_at')}.")  # fmt: skip


def _update(register_: Any, args: argparse.Namespace, operator: str) -> None:
    from app.services.incidents import TIMES

    mapping = {
        "title": args.title, "description": args.description, "nature": args.nature,
        "dpo_contact": args.dpo_contact, "consequences": args.consequences, "measures": args.measures,
        "approx_subjects": args.subjects, "approx_records": args.records,
        "occurred_from": args.occurred_from, "occurred_to": args.occurred_to, "detected_at": args.detected,
        "processor_notified_at": args.processor_notified, "investigation_at": args.investigation,
        "contained_at": args.contained, "delay_reason": args.delay_reason,
        "categories": [c.strip() for c in args.categories.split(",") if c.strip()] if args.categories else None,
    }  # fmt: skip
    values = {k: v for k, v in mapping.items() if v is not None} | _details(args)
    if not values:
        raise ConfigError("Nothing to update: give at least one field.")
    before = register_.get(args.id)
    view = register_.update(args.id, operator, args.reason or "", **values)
    print(f"Updated incident {args.id}: {', '.join(sorted(values))}.")
    corrected = [n for n in sorted(values) if n in TIMES and before.fields[n] not in (None, view.fields[n])]
    if corrected:
        print("Corrected (earlier times kept): "
              + "; ".join(f"{n} {corrected_text(before, view, n)}" for n in corrected) + ".")  # fmt: skip


@dataclass(frozen=True)
class _Run:
    """What every sub-command works with: its options, the vault, the register, who acts, and now."""

    args: argparse.Namespace
    vault: Any
    register: Any
    operator: str
    now: datetime


def _open(run: _Run) -> None:
    args = run.args
    new_id = run.register.open_incident(
        args.title,
        run.operator,
        args.description,
        args.detected,
        args.occurred_from,
        args.occurred_to,
        details=_details(args),
    )
    print(
        f"Opened incident {new_id}. The 72-hour clock starts when you record awareness: breach aware {new_id} "
        "--reason … [--at TIME]"
    )


def _list(run: _Run) -> None:
    print(f"{'ID':>4}  {'STATE':<9} {'AWARE (UTC)':<17} {'DEADLINE (UTC)':<17} {'CLOCK':<40} TITLE")
    for view in run.register.list():
        status = view.clock(run.now)
        anchor = view.aware_anchor
        aware = f"{anchor.astimezone(UTC):%Y-%m-%d %H:%M}" if anchor else "—"
        deadline = f"{status.deadline.astimezone(UTC):%Y-%m-%d %H:%M}" if status.deadline else "—"
        print(f"{view.id:>4}  {view.state:<9} {aware:<17} {deadline:<17} {status.state:<40} {view.title}")


def _show_one(run: _Run) -> None:
    from app.services.incidents import controller_zone

    zone, view = controller_zone(run.register.vault), run.register.get(run.args.id)
    show_incident(view, run.register.origin(view), run.now, zone, chosen_zone(run.args.zone, zone))


def _assess(run: _Run) -> None:
    run.register.assess(run.args.id, run.operator, run.args.risk, run.args.reason)
    print(f"Risk of incident {run.args.id}: {run.args.risk}.")


def _notify(run: _Run) -> None:
    args = run.args
    if args.correct is not None:
        _correct_notification(run.register, args, run.operator, run.now)
        return
    if not args.reference:
        raise ConfigError("Give the supervisory authority's reference (--reference).")
    view = run.register.notify(
        args.id, run.operator, args.reference, args.at, args.summary, args.delay_reason, args.follow_up
    )
    print(f"Notification recorded; {view.clock(run.now).describe()}.")


def _exempt(run: _Run) -> None:
    run.register.exempt_from_communication(run.args.id, run.operator, run.args.exemption, run.args.reason)
    print(f"Art. 34(3)({run.args.exemption}) exemption recorded for incident {run.args.id}.")


def _scope(run: _Run) -> None:
    from app.services import incidents
    from app.services.policy import policy_in_force

    args = run.args
    attributes = tuple(a.strip() for a in args.attributes.split(",") if a.strip())
    found = incidents.scope(run.vault, policy_in_force(run.vault), args.since, args.until, attributes)
    print(f"Data subjects: {found.subjects} ({found.label})")
    print(f"Records: {found.records} ({found.label})")
    print(f"Subjects in audit events of the window: {found.trail_subjects}")
    if found.trail_note:
        print(f"Note: {found.trail_note} (breach update --subjects N)")
    for note in (found.unnamed_note, found.members_note, found.pruned_note):
        if note:
            print(note)
    print(f"Counted: {found.basis}")
    print(f"Categories: {', '.join(found.categories) or 'none'}")
    if args.apply:
        incidents.store_scope(run.register, args.id, run.operator, found)
        print(f"Stored on incident {args.id} as approximate figures.")


def _close(run: _Run) -> None:
    run.register.close(run.args.id, run.operator, run.args.rationale)
    print(f"Closed incident {run.args.id}; it stays in the register.")


def _dismiss(run: _Run) -> None:
    run.register.dismiss(run.args.id, run.operator, run.args.reason)
    print(f"Dismissed incident {run.args.id} as not a personal-data breach; it stays in the register.")


def _export(run: _Run) -> None:
    from app.services.registers import export_breaches

    out = Path(run.args.out).expanduser()
    print_export(export_breaches(run.vault, export_format(run.args), out, run.operator), "incident")


def _draft(run: _Run) -> None:
    from app.services import incidents
    from app.services.policy import policy_in_force

    args = run.args
    letter = incidents.write_letter(run.register, policy_in_force(run.vault), args.id, args.audience, Path(args.out))
    for file in letter:
        print(f"Wrote {shown(file.path)} (sha256 {file.sha256})")


_SUBCOMMANDS: dict[str, Callable[[_Run], None]] = {
    "open": _open,
    "list": _list,
    "show": _show_one,
    "aware": lambda run: _aware(run.register, run.args, run.operator, run.now),
    "assess": _assess,
    "notify": _notify,
    "inform": lambda run: _inform(run.register, run.args, run.operator),
    "exempt": _exempt,
    "update": lambda run: _update(run.register, run.args, run.operator),
    "scope": _scope,
    "close": _close,
    "dismiss": _dismiss,
    "export": _export,
    "draft": _draft,
}


def run(args: argparse.Namespace) -> int:
    from app.services import incidents

    operator = operator_name(args)
    vault = open_vault(args)
    try:
        handler = _SUBCOMMANDS.get(args.breach_command)
        if handler is not None:
            handler(_Run(args, vault, incidents.register(vault), operator, datetime.now(UTC)))
        for note in zone_notes(args):
            print(note)
    except Exception as error:
        # A refusal may follow from how a time without a zone was read (as UTC, not the operator's local time):
        # say so with it, or "cannot be aware before … detected" leaves the operator guessing why.
        for note in zone_notes(args):
            print(note, file=sys.stderr)
        from app.commands.breach_words import worded  # here: the register's modules load with the vault

        said = worded(error)  # the register's refusal in this command's options
        if said is error:
            raise
        raise said from error
    finally:
        vault.close()
    return 0
