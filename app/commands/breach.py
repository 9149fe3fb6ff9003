"""``custos breach open|list|show|aware|assess|notify|inform|exempt|update|scope|close|draft``: the register.

Printed formats (a contract):
  list: ``ID  STATE  AWARE (UTC)  DEADLINE (UTC)  CLOCK  TITLE`` table, newest first
  show: ``Incident N: title`` then ``  KEY: value`` lines and the clock
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.commands.common import open_vault, operator_name
from app.core.errors import ConfigError


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{text!r} is not an ISO 8601 time such as 2026-11-27T09:00Z.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    breach = commands.add_parser("breach", help="the breach register and the 72-hour clock (Art. 33 and 34)")
    sub = breach.add_subparsers(dest="breach_command", required=True)

    def command(name: str, help_text: str, with_id: bool = True) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        if with_id:
            parser.add_argument("id", type=int)
        parser.add_argument("--operator", help="who acts, for the register and the audit trail (default: login)")
        add_data_dir(parser)
        return parser

    opened = command("open", "record a new incident", with_id=False)
    opened.add_argument("--title", required=True)
    opened.add_argument("--description", default="")
    opened.add_argument("--detected", type=_when)
    opened.add_argument("--occurred-from", type=_when)
    opened.add_argument("--occurred-to", type=_when)
    command("list", "every incident, notified or not, with its clock", with_id=False)
    command("show", "one incident: its times, figures and notifications")
    aware = command("aware", "record when the controller became aware (starts the 72-hour clock)")
    aware.add_argument("--reason", required=True)
    aware.add_argument("--at", type=_when)
    assess = command("assess", "record the risk assessment")
    assess.add_argument("--risk", choices=("none", "risk", "high_risk"), required=True)
    assess.add_argument("--reason", required=True)
    notify = command("notify", "record a notification to the supervisory authority")
    notify.add_argument("--reference", required=True)
    notify.add_argument("--at", type=_when)
    notify.add_argument("--summary", default="")
    notify.add_argument("--delay-reason")
    notify.add_argument("--follow-up", action="store_true")
    inform = command("inform", "record that the data subjects were informed (Art. 34)")
    inform.add_argument("--at", type=_when)
    exempt = command("exempt", "record the Art. 34(3) exemption from informing the data subjects")
    exempt.add_argument("--exemption", choices=("a", "b", "c"), required=True)
    exempt.add_argument("--reason", required=True)
    update = command("update", "record the Art. 33(3) content and times")
    for name in ("title", "description", "nature", "dpo-contact", "consequences", "measures"):
        update.add_argument(f"--{name}")
    update.add_argument("--categories", help="comma-separated data categories")
    update.add_argument("--subjects", type=int, help="approximate number of data subjects")
    update.add_argument("--records", type=int, help="approximate number of records")
    for name in ("occurred-from", "occurred-to", "detected", "investigation", "contained"):
        update.add_argument(f"--{name}", type=_when)
    scope = command("scope", "compute approximate numbers and categories from the mirror and the trail")
    scope.add_argument("--from", dest="since", type=_when)
    scope.add_argument("--to", dest="until", type=_when)
    scope.add_argument("--attributes", default="", help="comma-separated attribute paths")
    scope.add_argument("--apply", action="store_true", help="store the computed figures on the incident")
    close = command("close", "close the incident (checks Art. 33(3) content, notification or rationale)")
    close.add_argument("--rationale", help="why a breach that was not notified is unlikely to result in a risk")
    draft = command("draft", "write the Art. 33(3) notification draft (Markdown and PDF)")
    draft.add_argument("--out", required=True)


def _show(view: Any, now: datetime) -> None:
    f = view.fields
    print(f"Incident {view.id}: {f['title']}")
    print(f"  state: {view.state}")
    for key in ("occurred_from", "occurred_to", "detected_at", "investigation_at", "aware_at", "contained_at",
                "risk_at", "subjects_informed_at", "closed_at"):  # fmt: skip
        if f[key]:
            print(f"  {key}: {f[key].astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    for key in ("risk", "approx_subjects", "approx_records"):
        if f[key] is not None:
            print(f"  {key}: {f[key]}")
    if f["categories"]:
        print(f"  categories: {', '.join(f['categories'])}")
    for note in view.notifications:
        print(f"  notified ({note.kind}): {note.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, reference {note.reference}")
    print(f"  clock: {view.clock(now).describe()}")


def run(args: argparse.Namespace) -> int:
    from app.incidents import clock
    from app.incidents.register import IncidentRegister

    operator = operator_name(args)
    vault = open_vault(args)
    try:
        register_ = IncidentRegister(vault)
        now = datetime.now(UTC)
        command = args.breach_command
        if command == "open":
            new_id = register_.open_incident(
                args.title, operator, args.description, args.detected, args.occurred_from, args.occurred_to
            )
            print(
                f"Opened incident {new_id}. The 72-hour clock starts when you record awareness: breach aware {new_id}"
            )
        elif command == "list":
            print(f"{'ID':>4}  {'STATE':<9} {'AWARE (UTC)':<17} {'DEADLINE (UTC)':<17} {'CLOCK':<40} TITLE")
            for view in register_.list():
                status = view.clock(now)
                aware = f"{view.aware_at.astimezone(UTC):%Y-%m-%d %H:%M}" if view.aware_at else "—"
                deadline = f"{status.deadline.astimezone(UTC):%Y-%m-%d %H:%M}" if status.deadline else "—"
                print(f"{view.id:>4}  {view.state:<9} {aware:<17} {deadline:<17} {status.state:<40} {view.title}")
        elif command == "show":
            _show(register_.get(args.id), now)
        elif command == "aware":
            view = register_.set_aware(args.id, operator, args.reason, args.at)
            status = view.clock(now)
            assert status.deadline is not None
            print(f"Aware at {clock.utc_text(view.aware_at)}; notify by {clock.utc_text(status.deadline)} "
                  f"({clock.local_text(status.deadline)}).")  # fmt: skip
        elif command == "assess":
            register_.assess(args.id, operator, args.risk, args.reason)
            print(f"Risk of incident {args.id}: {args.risk}.")
        elif command == "notify":
            view = register_.notify(
                args.id, operator, args.reference, args.at, args.summary, args.delay_reason, args.follow_up
            )
            print(f"Notification recorded; {view.clock(now).describe()}.")
        elif command == "inform":
            register_.inform_subjects(args.id, operator, args.at)
            print(f"Data subjects of incident {args.id} recorded as informed.")
        elif command == "exempt":
            register_.exempt_from_communication(args.id, operator, args.exemption, args.reason)
            print(f"Art. 34(3)({args.exemption}) exemption recorded for incident {args.id}.")
        elif command == "update":
            mapping = {
                "title": args.title, "description": args.description, "nature": args.nature,
                "dpo_contact": args.dpo_contact, "consequences": args.consequences, "measures": args.measures,
                "approx_subjects": args.subjects, "approx_records": args.records,
                "occurred_from": args.occurred_from, "occurred_to": args.occurred_to, "detected_at": args.detected,
                "investigation_at": args.investigation, "contained_at": args.contained,
                "categories": [c.strip() for c in args.categories.split(",") if c.strip()] if args.categories else None,
            }  # fmt: skip
            values = {k: v for k, v in mapping.items() if v is not None}
            if not values:
                raise ConfigError("Nothing to update: give at least one field.")
            register_.update(args.id, operator, **values)
            print(f"Updated incident {args.id}: {', '.join(sorted(values))}.")
        elif command == "scope":
            from app.incidents.scope import approximate
            from app.policy.in_force import PolicyInForce

            attributes = tuple(a.strip() for a in args.attributes.split(",") if a.strip())
            with vault.read_connection() as conn:
                found = approximate(conn, PolicyInForce(vault).get().policy, args.since, args.until, ("User",),
                                    attributes)  # fmt: skip
            print(f"Data subjects: {found.subjects} ({found.label})")
            print(f"Records: {found.records} ({found.label})")
            print(f"Subjects in audit events of the window: {found.trail_subjects}")
            print(f"Categories: {', '.join(found.categories) or 'none'}")
            if args.apply:
                register_.update(args.id, operator, approx_subjects=found.subjects, approx_records=found.records,
                                 categories=found.categories)  # fmt: skip
                print(f"Stored on incident {args.id} as approximate figures.")
        elif command == "close":
            register_.close(args.id, operator, args.rationale)
            print(f"Closed incident {args.id}; it stays in the register.")
        elif command == "draft":
            from app.incidents.draft import sha256_of, write
            from app.policy.in_force import PolicyInForce

            active = PolicyInForce(vault).get()
            for path in write(register_.get(args.id), active.policy, now, active.record.stamp, Path(args.out)):
                print(f"Wrote {path} (sha256 {sha256_of(path)})")
    finally:
        vault.close()
    return 0
