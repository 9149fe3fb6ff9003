"""``custos policy validate|apply|history|diff|show``: the agreed schema under version control.

Printed formats (a contract for scripts):
  validate: one ``FILE:LINE: error|warning: message`` per problem, then ``FILE: valid (…)`` or
            ``FILE: N error(s)``; exit 0 when valid (warnings allowed), 1 otherwise.
  apply:    the impact lines, then ``Applied policy version N (sha256 …)`` or ``Not applied.``
  history:  ``VERSION  APPLIED (UTC)  SHA-256  OPERATOR`` table, oldest first, ``*`` marking the one in force.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.commands.common import confirm, open_vault, operator_name, read_text_file, whole_number
from app.core.terminal import shown


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    policy = commands.add_parser("policy", help="validate, apply and compare versions of the GDPR policy")
    sub = policy.add_subparsers(dest="policy_command", required=True)
    validate = sub.add_parser("validate", help="check a policy file and report every problem with its line")
    validate.add_argument("file", help="the policy file (TOML) to check")
    add_data_dir(validate)  # accepted for uniformity with the other commands; validate never opens the vault
    apply = sub.add_parser("apply", help="show the impact of a policy file, then apply it on confirmation")
    apply.add_argument("file", help="the policy file (TOML) to put in force")
    apply.add_argument("--yes", action="store_true", help="apply without asking (for scripts)")
    apply.add_argument("--operator", help="who applies it, for the audit trail (default: login name)")
    add_data_dir(apply)
    history = sub.add_parser("history", help="list every applied version")
    add_data_dir(history)
    diff = sub.add_parser("diff", help="compare two applied versions")
    diff.add_argument("a", type=whole_number, help="the older version number (`policy history`)")
    diff.add_argument("b", type=whole_number, help="the newer version number")
    add_data_dir(diff)
    show = sub.add_parser("show", help="print an applied version's text (default: the one in force)")
    show.add_argument("version", type=whole_number, nargs="?", help="a version number (`policy history`)")
    add_data_dir(show)


def _validate(args: argparse.Namespace) -> int:
    from app.services.policy import check, errors_of

    policy, problems = check(read_text_file(args.file))
    for problem in problems:
        print(shown(problem.render(args.file)))  # the file names keys and values it holds
    errors = errors_of(problems)
    if errors or policy is None:
        print(f"{shown(args.file)}: {len(errors)} error(s)")
        return 1
    print(
        f"{args.file}: valid ({len(policy.attributes)} attributes, {len(policy.purposes)} purposes, "
        f"{len(policy.recipients)} recipients, outside_schema = {policy.outside_schema})"
    )
    return 0


def _apply(args: argparse.Namespace) -> int:
    from app.services import policy

    text = read_text_file(args.file)
    policy.load_policy(text)  # refuses a file with errors before the vault is even opened
    vault = open_vault(args)
    try:
        impact = policy.impact(vault, text)
        for line in impact.lines():
            print(line)
        if impact.unchanged:
            return 0
        if not confirm("Apply this policy version?", args.yes):
            print("Not applied.")
            return 1
        record, _ = policy.apply(vault, text, operator_name(args))  # purged values do not linger in the WAL
        print(f"Applied policy version {record.version} (sha256 {record.sha256})")
    finally:
        vault.close()
    return 0


def _history(args: argparse.Namespace) -> int:
    from app.services.policy import history

    vault = open_vault(args)
    try:
        records = history(vault)
    finally:
        vault.close()
    print(f"  {'VERSION':<8} {'APPLIED (UTC)':<20} {'SHA-256':<14} OPERATOR")
    for record in records:
        mark = "*" if record is records[-1] else " "
        applied = record.applied_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{mark} {record.version:<8} {applied:<20} {record.sha256[:12]:<14} {record.operator}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from app.services.policy import diff

    vault = open_vault(args)
    try:
        result = diff(vault, args.a, args.b)
    finally:
        vault.close()
    print(f"Policy v{result.old.version} -> v{result.new.version}")
    for line in result.summary:
        print(f"  {line}")
    if result.text_diff:
        print()
        for line in result.text_diff:
            print(line)
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.services.policy import version

    vault = open_vault(args)
    try:
        record = version(vault, args.version)
    finally:
        vault.close()
    sys.stdout.write(record.text if record.text.endswith("\n") else record.text + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    handlers = {"validate": _validate, "apply": _apply, "history": _history, "diff": _diff, "show": _show}
    return handlers[args.policy_command](args)
