"""``custos dsr open|list|show|verify|extend|act|task|refuse|none-held|answer|close|match|restrict|settings|export``:
the register of data subject requests and the Art. 12(3) clock.

Printed formats (a contract):
  open:   ``Opened dsr-<hex> due YYYY-MM-DD`` then one line on how the date was counted; a request that is not a
          GDPR request: ``Opened dsr-<hex>; not a data subject request: no GDPR deadline`` (it has none)
  list:   ``ID  TYPE  RECEIVED  DUE  DAYS LEFT  STATE`` table, nearest deadline first (days left amber when
          7 or fewer, red when overdue, on a terminal; ``paused`` while identity information asked for is
          awaited, Art. 12(6))
  verify: ``Identity of the requester of dsr-<hex>: STATUS.`` then, when the clock paused or ran again, one line
          saying so and the due date
  show:   ``Request dsr-<hex>`` then ``  key: value`` lines, every date ISO (YYYY-MM-DD or UTC date-time); with a
          right refused, ``  refusal due: YYYY-MM-DD (…)`` (Art. 12(4): one month from receipt)
  none-held: ``No personal data held, recorded on dsr-<hex>: RIGHTS.`` and, when the person was erased earlier,
          ``  erased earlier: er-<hex>, closed YYYY-MM-DD`` (decision 0073)
  answer --sent: refused (exit 2) while the letter holds "Requires human completion", naming where
  act / answer: ``Wrote PATH (sha256 HEX)`` per file; ``Erasure request er-<hex> started``
  restrict --lift: ``Restriction lifted on dsr-<hex>; …``; it needs --informed-at and --informed-by (Art. 18(3):
          the person is told before the lift), and ``show``'s timeline says when and how
  export: ``Wrote PATH (sha256 HEX)`` then ``N requests in the register.`` (app/commands/register_export.py)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.commands.common import open_vault, operator_name, vault_folder
from app.commands.register_export import add_export_options, export_format, print_export
from app.core.errors import ConfigError
from app.core.terminal import shown
from app.core.wording import counted

RIGHT_CHOICES = ("access", "rectification", "erasure", "restriction", "portability", "objection", "not_gdpr")
CHANNEL_CHOICES = ("email", "form", "letter", "phone", "in_person")
INFORMED_CHOICES = ("email", "letter", "phone", "in_person", "form")  # app.dsr.model.INFORMED_BY (checked again)
GROUND_CHOICES = ("art12-5", "art17-3a", "art17-3b", "art17-3c", "art17-3d", "art17-3e", "art11")
NO_DEADLINE = "not a data subject request: no GDPR deadline"  # as app.dsr.deadline.NO_DEADLINE says it
REFUSAL_DUE = "Art. 12(4): a refusal reaches the person within one month of receipt, whatever the extension"
GROUND_HELP = (
    "art12-5: manifestly unfounded or excessive; art17-3a to art17-3e: an Art. 17(3) exception to erasure; "
    "art11: the person cannot be identified"
)


def _moment(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is the controller's local time (the register applies it)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:  # argparse turns this into a usage error (exit 2), never a traceback
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time such as 2026-01-31.") from exc


def _day(text: str) -> date:
    return _moment(text).date()


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    dsr = commands.add_parser("dsr", help="data subject requests: the register and the Art. 12(3) clock")
    sub = dsr.add_subparsers(dest="dsr_command", required=True)

    def command(name: str, help_text: str, with_id: bool = True) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        if with_id:
            parser.add_argument("id", help="the request id (dsr-…)")
        parser.add_argument("--operator", help="who acts, for the register and the audit trail (default: login)")
        add_data_dir(parser)
        return parser

    opened = command("open", "record a request received (prints its id and due date)", with_id=False)
    opened.add_argument("--type", dest="types", action="append", choices=RIGHT_CHOICES, required=True,
                        help="the right asked for; repeat for several")  # fmt: skip
    opened.add_argument("--received", type=_moment, help="when it arrived (ISO; default now; never in the future; "
                        "without a zone the controller's local time)")  # fmt: skip
    opened.add_argument("--channel", choices=CHANNEL_CHOICES, required=True, help="how the request arrived")
    who = opened.add_mutually_exclusive_group()
    who.add_argument("--subject-id", help="the subject's SCIM id in the mirror")
    who.add_argument("--match", help="search the mirror (userName, displayName, externalId) for the subject")
    opened.add_argument("--requester", choices=("subject", "representative"), default="subject",
                        help="who made it: the person, or someone on their behalf (default subject)")  # fmt: skip
    opened.add_argument("--requester-name", help="who asked (sealed with the subject's key)")
    opened.add_argument("--authority", help="a representative's authority, as seen (sealed)")
    opened.add_argument("--answer-channel", choices=CHANNEL_CHOICES, help="how to answer (default: as received)")
    opened.add_argument("--answer-address", help="where to answer, only as much as answering needs (sealed)")
    opened.add_argument("--note", help="free text about the request (sealed)")
    listing = command("list", "the requests with their clock, nearest deadline first", with_id=False)
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="only requests not yet answered")
    which.add_argument("--overdue", action="store_true", help="only requests past their deadline")
    show = command("show", "one request: its dates, steps, attachments and timeline")
    show.add_argument("--reveal", action="store_true", help="also print the sealed requester details")
    verify = command("verify", "record the identity verification (Art. 12(6) lets you ask for more)")
    verify.add_argument("--status", choices=("not_needed", "requested", "verified", "failed"), required=True,
                        help="the check's outcome; requested: more information asked for (Art. 12(6))")  # fmt: skip
    verify.add_argument("--means", help="how the identity was checked (sealed)")
    verify.add_argument("--at", type=_moment, help="when more information was asked for, or when it arrived (ISO; "
                        "default now; without a zone the controller's local time)")  # fmt: skip
    extend = command("extend", "extend the deadline once by 1 or 2 months (Art. 12(3))")
    extend.add_argument("--months", type=int, choices=(1, 2), required=True, help="by how many months")
    extend.add_argument("--reason", required=True, help="why: the requests' complexity or number (Art. 12(3))")
    extend.add_argument("--told", type=_day, required=True, help="the date the person was told (first month)")
    act = command("act", "run the subject export (access, portability) or the erasure (erasure)")
    act.add_argument("--out", help="folder for the subject export (access, portability)")
    act.add_argument("--ground", default="art17-1a", help="Art. 17(1) ground of an erasure (default art17-1a)")
    task = command("task", "record a rectification, restriction or objection done at the IdP or a target")
    task.add_argument("--done", required=True, help="what was done, where, by whom")
    task.add_argument("--right", choices=("rectification", "restriction", "objection"),
                      help="the right it answers (needed when more than one of these is open)")  # fmt: skip
    refuse = command("refuse", "refuse the request or one right of it, on a ground with reasoning")
    refuse.add_argument("--ground", required=True, choices=GROUND_CHOICES, help=GROUND_HELP)
    refuse.add_argument("--reason", required=True, help="the reasoning given to the person (Art. 12(4))")
    refuse.add_argument("--right", choices=RIGHT_CHOICES, help="refuse this right only (partial refusal)")
    held = command("none-held", "record that no personal data about the identified person is held (never held, or "
                   "erased before the request): the answer confirms it (Art. 15(1)); not a refusal")  # fmt: skip
    held.add_argument("--right", choices=RIGHT_CHOICES[:-1], help="this right only (default: every open right)")
    answer = command("answer", "write the answer letter (Markdown and PDF); --sent records it as sent")
    answer.add_argument("--out", required=True, help="the folder to write the letter (and receipts) into")
    answer.add_argument("--sent", type=_day, help="the date the answer was sent (records it)")
    command("close", "close an answered request (it stays in the register for its retention)")
    match = command("match", "match an unmatched request to an identity of the mirror")
    match.add_argument("--subject-id", required=True, help="the subject's SCIM id in the mirror")
    restrict = command("restrict", "lift the Art. 18 restriction flag a request set")
    restrict.add_argument("--lift", action="store_true", required=True,
                          help="lift it (with --informed-at and --informed-by)")  # fmt: skip
    restrict.add_argument("--informed-at", type=_moment, metavar="TIME",
                          help="when the person was told the restriction would be lifted (Art. 18(3): before it is; "
                          "required with --lift; ISO, without a zone the controller's local time)")  # fmt: skip
    restrict.add_argument("--informed-by", choices=INFORMED_CHOICES, metavar="MEANS",
                          help=f"how the person was told: {', '.join(INFORMED_CHOICES)} (required with "
                          "--lift)")  # fmt: skip
    exported = command("export", "write the whole register as a file for an auditor (Art. 5(2)): CSV or XLSX; the "
                       "sealed requester details are left out", with_id=False)  # fmt: skip
    add_export_options(exported, "request")
    settings = command("settings", "the controller's country, region and time zone; the register's retention",
                       with_id=False)  # fmt: skip
    settings.add_argument("--country", help="ISO 3166-1 code whose public holidays count (e.g. FR)")
    settings.add_argument("--subdivision", help="a region whose holidays also count (e.g. BY)")
    settings.add_argument("--time-zone", help="IANA zone the dates are counted in (e.g. Europe/Paris)")
    settings.add_argument("--retention", help="how long a closed request is kept (ISO period, default P3Y)")


# -- printing ----------------------------------------------------------------------------------------------------
def _colour(text: str, state: str) -> str:
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    code = {"due_soon": "33", "overdue": "31"}.get(state)
    return f"\033[{code}m{text}\033[0m" if code else text


def _list(views: list[Any], now: datetime) -> None:
    print(f"{'ID':<20}  {'TYPE':<24} {'RECEIVED':<10} {'DUE':<10} {'DAYS LEFT':>9}  STATE")
    for view in views:
        clock = view.clock(now)
        left = (
            f"{'—':>9}"
            if view.answered_on is not None
            else f"{'paused':>9}"
            if clock.state == "paused"
            else (f"{clock.days_left:>9}")
        )
        if clock.state == "no_deadline":  # not a GDPR request: no Art. 12(3) date to count down to
            left = f"{'—':>9}"
        types = ",".join(view.rights)
        due = view.deadline.isoformat() if view.gdpr else "—"
        print(f"{view.id:<20}  {types:<24} {view.received_day.isoformat():<10} {due:<10} "
              f"{_colour(left, clock.state)}  {view.state}")  # fmt: skip


def _show(view: Any, timeline: list[Any], now: datetime, reveal: bool = False) -> None:
    from app.services.dsr import model

    print(f"Request {view.id}")
    print(f"  rights: {', '.join(view.rights)}")
    print(f"  state: {view.state}" + (f" ({view.outcome})" if view.outcome else ""))
    print(f"  received: {view.received.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} (day {view.received_day.isoformat()} "
          f"in {view.zone})")  # fmt: skip
    print(f"  channel: {view.channel}; requester: {view.requester}")
    print(f"  subject: {'matched (pseudonym ' + view.subject[:12] + '…)' if view.subject else 'not matched'}")
    print(f"  identity: {model.verification_said(view.verification, view.verification_at)}")
    waited = counted(view.paused_days, "day", grouped=False)
    paused = f" and {waited} waiting for identity information, Art. 12(6)" if view.paused_days else ""
    if view.gdpr:
        print(f"  due: {view.due.isoformat()} (one month{paused}; holidays of "
              f"{view.country or 'no country: weekends only'})")  # fmt: skip
    else:
        print(f"  due: none ({NO_DEADLINE})")
    if view.extended_months:
        months = counted(view.extended_months, "month", grouped=False)
        print(f"  extended: by {months} to {view.extended_due.isoformat()}; told {view.extension_told.isoformat()}")
    if view.refusal_due:
        print(f"  refusal due: {view.refusal_due.isoformat()} ({REFUSAL_DUE})")
    print(f"  clock: {view.clock(now).describe()}")
    if view.answered_on:
        print(f"  answered: {view.answered_on.isoformat()}")
    if view.closed:
        print(f"  closed: {view.closed.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
    if view.restricted:
        print("  restriction: in force (targets receive active: false)")
    items = "" if view.shredded else counted(len(view.private), "item", grouped=False)
    print(f"  details: {'crypto-shredded' if view.shredded else f'sealed ({items})'}")
    if reveal and not view.shredded:
        from app.services.dsr import private_text

        for label, path in (("requester", ("requester", "name")), ("authority", ("requester", "authority")),
                            ("answer channel", ("answer", "channel")), ("answer address", ("answer", "address")),
                            ("note", ("note",)), ("verification means", ("verification_means",)),
                            ("extension reason", ("extension_reason",))):  # fmt: skip
            if private_text(view, *path):
                print(f"  {label}: {private_text(view, *path)}")
    for step in view.steps:
        link = f" → {step.link_kind} {step.link_ref}" if step.link_ref else ""
        extra = f" ({step.ground})" if step.ground else link
        when = f" {step.done_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" if step.done_at else ""
        print(f"  step {step.right}: {step.state}{extra}{when}")
    for item in view.attachments:
        print(f"  attached {item.kind}: {item.name} (sha256 {item.sha256})")
    for entry in timeline:
        print(f"  {entry.at[:19]}Z {entry.text}")


# -- running -----------------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    if args.dsr_command == "settings":
        return _settings(args)
    from app.services.dsr import register

    operator = operator_name(args)
    vault = open_vault(args)
    try:
        register_ = register(vault)
        handler = _HANDLERS[args.dsr_command]
        handler(register_, args, operator)
    finally:
        vault.close()
    return 0


def _open(register_: Any, args: argparse.Namespace, operator: str) -> None:
    from app.services.dsr import find_subjects

    subject_id, matches = args.subject_id, None
    if args.match:
        found = find_subjects(register_.vault, args.match)
        matches = len(found)
        if matches > 1:
            for candidate in found:
                print(f"  {candidate.id}  {candidate.user_name}")
            raise ConfigError(f"{matches} identities match: open the request with --subject-id and one of them.")
        subject_id = found[0].id if found else None
    if args.requester == "representative" and not args.authority:
        raise ConfigError("A representative's request needs the authority seen (--authority).")
    private = {
        "requester": {"name": args.requester_name, "authority": args.authority},
        "answer": {"channel": args.answer_channel or args.channel, "address": args.answer_address},
        "note": args.note,
    }
    private = {k: ({n: v for n, v in val.items() if v} if isinstance(val, dict) else val) for k, val in private.items()}
    new_id = register_.open(args.types, args.channel, operator, args.received, args.requester, subject_id,
                            matches, private)  # fmt: skip
    view = register_.get(new_id)
    if not view.gdpr:  # "due 2026-03-02" was printed for a message that has no Art. 12(3) deadline
        print(f"Opened {view.id}; {NO_DEADLINE}")
        return
    print(f"Opened {view.id} due {view.due.isoformat()}")
    where = f"public holidays of {view.country}" if view.country else "weekends only: no country set"
    matched = "matched to an identity" if view.subject else "not matched to an identity"
    print(f"  received {view.received_day.isoformat()} in {view.zone}; one month, next working day ({where}); "
          f"{matched}")  # fmt: skip


def _list_cmd(register_: Any, args: argparse.Namespace, _operator: str) -> None:
    _list(register_.list(open_only=args.open, overdue_only=args.overdue), register_.now())


def _show_cmd(register_: Any, args: argparse.Namespace, _operator: str) -> None:
    from app.services.dsr import timeline

    view = register_.get(args.id)
    entries = timeline(register_.vault, args.id)
    _show(view, entries, register_.now(), args.reveal)


def _verify(register_: Any, args: argparse.Namespace, operator: str) -> None:
    before = register_.get(args.id)
    view = register_.verify(args.id, args.status, operator, args.means, args.at)
    print(f"Identity of the requester of {view.id}: {view.verification}.")
    if view.paused_since and not before.paused_since:
        print(f"  The clock is paused from {view.paused_since.isoformat()} until the information arrives "
              "(Art. 12(6)); record it with dsr verify --status verified (or failed).")  # fmt: skip
    elif before.paused_since and not view.paused_since:
        waited = view.paused_days - before.paused_days
        days = counted(waited, "day", grouped=False)
        print(f"  The clock ran again after {days} of waiting: due {view.deadline.isoformat()}.")
    elif args.status == "requested" and not view.paused_since:
        print(f"  The clock is not paused: the deadline {view.deadline.isoformat()} had passed when the "
              "information was asked for.")  # fmt: skip


def _extend(register_: Any, args: argparse.Namespace, operator: str) -> None:
    view = register_.extend(args.id, args.months, args.reason, args.told, operator)
    print(f"Extended {view.id} to {view.extended_due.isoformat()} (told {view.extension_told.isoformat()}).")


def _act(register_: Any, args: argparse.Namespace, operator: str) -> None:
    from app.services.dsr import act

    done = act(register_, args.id, operator, Path(args.out).expanduser() if args.out else None, args.ground)
    for _kind, path, sha in done.files:
        print(f"Wrote {shown(path)} (sha256 {sha})")
    if done.erasure_id:
        print(f"Erasure request {done.erasure_id} started (custos erase status {done.erasure_id}).")


def _task(register_: Any, args: argparse.Namespace, operator: str) -> None:
    # The right this command recorded, not every task done so far: after a restriction, recording the objection
    # printed "restriction, objection. Restriction flag set." as if this command had set it.
    waiting = {s.right for s in register_.get(args.id).steps if not s.final}
    view = register_.record_task(args.id, args.done, operator, args.right)
    (done,) = [s.right for s in view.steps if s.state == "done" and s.right in waiting]
    print(f"Task recorded on {view.id}: {done}." + (" Restriction flag set." if done == "restriction" else ""))


def _refuse(register_: Any, args: argparse.Namespace, operator: str) -> None:
    from app.services.dsr import RightToName

    try:
        view = register_.refuse(args.id, args.ground, args.reason, operator, args.right)
    except RightToName as limited:  # the register names the right; this command names its option (a contract)
        raise ConfigError("The Art. 17(3) exceptions apply to erasure only: refuse that right alone "
                          f"(--right {limited.right}).") from limited  # fmt: skip
    refused = [s.right for s in view.steps if s.state == "refused"]
    print(f"Refused on {view.id} ({args.ground}): {', '.join(refused)}.")


def _none_held(register_: Any, args: argparse.Namespace, operator: str) -> None:
    waiting = {s.right for s in register_.get(args.id).steps if not s.final}
    view = register_.none_held(args.id, operator, args.right)
    recorded = [s for s in view.steps if s.state == "none_held" and s.right in waiting]
    print(f"No personal data held, recorded on {view.id}: {', '.join(s.right for s in recorded)}.")
    earlier = next((s.link_ref for s in recorded if s.link_kind == "erased_before"), None)
    if earlier:
        from app.services.dsr import erased_on

        closed = erased_on(register_, earlier, view.zone)
        print(f"  erased earlier: {earlier}" + (f", closed {closed.isoformat()}" if closed else ""))


def _answer(register_: Any, args: argparse.Namespace, operator: str) -> None:
    from app.services.dsr import answer

    result = answer(register_, args.id, operator, Path(args.out).expanduser(), args.sent)
    for path, sha in result.files:
        print(f"Wrote {shown(path)} (sha256 {sha})")
    if result.view.answered_on:
        clock = result.view.clock(register_.now())
        timing = NO_DEADLINE if clock.state == "no_deadline" else clock.state.replace("_", " ")
        print(f"Answer sent {result.view.answered_on.isoformat()} recorded; outcome {result.view.outcome} "
              f"({timing}).")  # fmt: skip


def _close(register_: Any, args: argparse.Namespace, operator: str) -> None:
    view = register_.close(args.id, operator)
    print(f"Closed {view.id}; it stays in the register for its retention period.")


def _match(register_: Any, args: argparse.Namespace, operator: str) -> None:
    view = register_.match(args.id, args.subject_id, operator)
    print(f"Matched {view.id} to an identity.")


def _restrict(register_: Any, args: argparse.Namespace, operator: str) -> None:
    view = register_.lift_restriction(args.id, operator, args.informed_at, args.informed_by)
    print(f"Restriction lifted on {view.id}; the targets receive the account as it is again.")


def _export(register_: Any, args: argparse.Namespace, operator: str) -> None:
    from app.services.registers import export_requests

    out = Path(args.out).expanduser()
    print_export(export_requests(register_.vault, export_format(args), out, operator), "request")


def _settings(args: argparse.Namespace) -> int:
    from app.services.dsr import save_settings, settings_for
    from app.services.vault import require_vault

    values = (args.country, args.subdivision, args.time_zone, args.retention)
    folder = vault_folder(args)
    require_vault(folder)  # the settings file goes beside an existing vault, never into a mistyped folder
    vault = open_vault(args)  # first: a change is recorded on the trail (and a wrong passphrase changes nothing)
    try:
        if any(v is not None for v in values):
            save_settings(vault, folder, *values)
        current = settings_for(vault, folder)
    finally:
        vault.close()
    print(f"Requests: {current.describe()} (from {_origin(current.source, current.retention_source)}).")
    return 0


def _origin(source: str, retention_source: str) -> str:
    """Where the values come from, and the retention's own origin when it differs: the line said "kept 3 years
    after closure (from requests.toml)" for a period requests.toml does not set (the policy's, or the default)."""
    if retention_source == source:
        return source
    retention = {"policy": "the retention from the policy", "default": "the retention is the default"}
    return f"{source}; {retention.get(retention_source, f'the retention from {retention_source}')}"


_HANDLERS: dict[str, Callable[[Any, argparse.Namespace, str], None]] = {
    "open": _open, "list": _list_cmd, "show": _show_cmd, "verify": _verify, "extend": _extend, "act": _act,
    "task": _task, "refuse": _refuse, "none-held": _none_held, "answer": _answer, "close": _close, "match": _match,
    "restrict": _restrict,
    "export": _export,
}  # fmt: skip
