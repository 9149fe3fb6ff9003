"""``custos erase``: erase data subjects locally at once and at every target that holds them, with proof.

Subjects are never printed: only counts, request ids and target names. Printed formats (a contract):
  erase ...         ``Erasure request ID: N subject(s) erased locally (…)`` then the status lines below
  status REQUEST    ``Request ID  STATE  …``, ``local  erased  …``, then one ``TARGET  STATE  DETAIL`` line per target
                    (``recipient:ID`` for a recipient with no SCIM target), then ``source  STATE  DETAIL``
  attest            ``Attested N step(s) at TARGET for ID.`` or (--source) ``Attested N subject(s) … identity provider``
  release           ``Released: the person erased by ID may be provisioned again.``
  status            under ``REQUEST  CREATED (UTC)  STATE  GROUND  STEPS``, one line per recent request
  receipt           ``JSON  PATH  sha256 HEX``, ``PDF  PATH  sha256 HEX``, ``KEY  PATH  key id ID``
  verify-receipt    ``valid: …`` (exit 0) or ``INVALID: …`` (exit 1)
Exit codes of erase/retry/resume/status REQUEST: 0 closed with every target erased or skipped; 3 still open, or
closed with a target that needs attention (deprovisioned only, verification failed, action required).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.commands.common import confirm, open_vault, operator_name, readable_file
from app.core.errors import ConfigError
from app.core.terminal import shown
from app.erasure.model import DEFAULT_GROUND, GROUNDS

NEEDS_ATTENTION = 3
DEFAULT_WAIT = 60.0
WAIT_HELP = f"seconds to follow the targets here (0: none; default {DEFAULT_WAIT:g})"
WHO_HELP = "who is acting (default: $CUSTOS_OPERATOR or the login name)"


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    erase = commands.add_parser("erase", help="erase data subjects here and at every target (Art. 17 and 19)")
    erase.add_argument("--user-id", action="append", default=[], metavar="ID", help="a User's SCIM id (repeatable)")
    erase.add_argument("--filter", help="a SCIM filter selecting the Users to erase, e.g. 'title eq \"Intern\"'")
    erase.add_argument("--ground", choices=sorted(GROUNDS), default=DEFAULT_GROUND, help="the legal ground")
    erase.add_argument("--reason", help="a note kept with the request (never the subject's name or address)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    erase.add_argument("--wait", type=float, default=DEFAULT_WAIT, help="seconds to follow the targets (0: none)")
    erase.add_argument("--operator", help=WHO_HELP)
    add_data_dir(erase)
    sub = erase.add_subparsers(dest="erase_command")
    status = sub.add_parser("status", help="per-target states of a request, or the recent requests")
    status.add_argument("request", nargs="?", help="a request id (default: the recent requests)")
    add_data_dir(status)
    attest = sub.add_parser(
        "attest", help="confirm by hand the erasure at a (manual) target, a recipient, or the identity provider"
    )
    attest.add_argument("request", help="the erasure request id")
    attest.add_argument("--target", help="a target's name, or recipient:ID for a recipient with no SCIM target")
    attest.add_argument(
        "--source", action="store_true", help="the person was removed or blocked at the identity provider"
    )
    attest.add_argument("--note", required=True, help="what was done there, by whom, and how it was checked")
    attest.add_argument("--operator", help=WHO_HELP)
    add_data_dir(attest)
    retry = sub.add_parser("retry", help="queue again the steps that needed an operator, once fixed")
    retry.add_argument("request", help="the erasure request id")
    retry.add_argument("--target", help="only this target's step (default: every step that needed an operator)")
    retry.add_argument("--wait", type=float, default=DEFAULT_WAIT, help=WAIT_HELP)
    retry.add_argument("--operator", help=WHO_HELP)
    add_data_dir(retry)
    resume = sub.add_parser("resume", help="follow every open request at the targets (as the app and serve do)")
    resume.add_argument("--wait", type=float, default=DEFAULT_WAIT, help=WAIT_HELP)
    add_data_dir(resume)
    release = sub.add_parser(
        "release", help="let an erased person be provisioned again (a rehire); on the audit trail with who and why"
    )
    release.add_argument("--user-name", help="the userName the identity provider sends for the person")
    release.add_argument("--external-id", help="the externalId the identity provider sends for the person")
    release.add_argument("--reason", required=True, help="why (never the person's name or address)")
    release.add_argument("--operator", help=WHO_HELP)
    release.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    add_data_dir(release)
    receipt = sub.add_parser("receipt", help="export the signed receipt of a request as JSON and PDF")
    receipt.add_argument("request", help="the erasure request id")
    receipt.add_argument("--out", required=True, help="folder to write into")
    add_data_dir(receipt)
    verify = sub.add_parser("verify-receipt", help="check a receipt's signature offline (no vault needed)")
    verify.add_argument("file", help="the receipt (JSON) to check")
    own = "a file holding the signing key (PEM, hex or base64); default: the receipt's own"
    verify.add_argument("--public-key", help=own)
    add_data_dir(verify)


def run(args: argparse.Namespace) -> int:
    command = args.erase_command
    if command == "verify-receipt":
        return _verify(args)
    if command is None:
        return _erase(args)
    vault = open_vault(args)
    try:
        if command == "status":
            return _status(vault, args.request)
        if command == "attest":
            return _attest(vault, args)
        if command == "retry":
            return _retry(vault, args)
        if command == "resume":
            return _resume(vault, args.wait)
        if command == "release":
            return _release(vault, args)
        return _receipt(vault, args)
    finally:
        vault.close()


# -- erase ---------------------------------------------------------------------------------------------------
def _erase(args: argparse.Namespace) -> int:
    from app.services import erasure

    if bool(args.user_id) == bool(args.filter):
        raise ConfigError("Give --user-id (one or more) or --filter, not both and not neither.")
    vault = open_vault(args)
    try:
        ids = list(dict.fromkeys(args.user_id)) or erasure.select_users(vault, args.filter)
        if not ids:
            print("No User matches the filter; nothing to erase.")
            return 0
        question = f"Erase {len(ids)} user(s) from the mirror now, and from every target that holds them?"
        if not confirm(question + " This cannot be undone.", args.yes):
            print("Nothing erased.")
            return 1
        request_id = erasure.request(vault, ids, args.ground, operator_name(args), args.reason)
        print(f"Erasure request {request_id}: {len(ids)} subject(s) erased locally.")
        _follow(vault, [request_id], args.wait)
        return _status(vault, request_id)
    finally:
        vault.close()


def _follow(vault: Any, request_ids: list[str], wait: float) -> None:
    from app.services.erasure import follow

    if wait > 0:
        print(f"Following the targets for up to {wait:g} s…", flush=True)
        follow(vault, request_ids, wait)


# -- status --------------------------------------------------------------------------------------------------
def _status(vault: Any, request_id: str | None) -> int:
    from app.services.erasure import local_line, progress, recent

    if request_id is None:
        rows = recent(vault)
        print(f"{'REQUEST':<20} {'CREATED (UTC)':<17} {'STATE':<7} {'GROUND':<10} STEPS")  # stored UTC
        for rid, created, state, ground, count in rows:
            print(f"{rid:<20} {created:%Y-%m-%d %H:%M} {state:<7} {ground:<10} {count}")
        return 0
    status = progress(vault, request_id)
    print(
        f"Request {status.id}  {status.state}  created {status.created:%Y-%m-%d %H:%M:%S} UTC by {status.operator}, "
        f"ground {status.ground}, {status.subjects} subject(s)"
    )
    width = max([len("source"), *(len(line.target) for line in status.targets)]) + 2
    print(f"{'local':<{width}}{'erased' if status.local.get('erased_at') else 'pending':<26}{local_line(status)}")
    for line in status.targets:
        print(f"{line.target:<{width}}{line.state:<26}{line.detail}")
    if status.source is not None:
        then = ", then 'erase attest --source'" if status.source.next_step else ""  # ATTEST_SOURCE, the only one
        print(f"{'source':<{width}}{status.source.state:<26}{status.source.detail}{then}")
    if status.state == "open":
        print(f"Still open: follow with 'erase status {status.id}' (the app and serve carry on with it).")
    return 0 if status.complete else NEEDS_ATTENTION


def _attest(vault: Any, args: argparse.Namespace) -> int:
    from app.services.erasure import attest

    count = attest(vault, args.request, args.target, operator_name(args), args.note, source=args.source)
    if args.source:
        print(f"Attested {count} subject(s) removed or blocked at the identity provider for {args.request}.")
    else:
        print(f"Attested {count} step(s) at {args.target} for {args.request}.")
    return _status(vault, args.request)


def _release(vault: Any, args: argparse.Namespace) -> int:
    from app.services.erasure import release

    if not (args.user_name or args.external_id):  # before asking: there is nothing to release
        raise ConfigError("Give the --user-name and/or --external-id the identity provider sends for this person.")
    question = "Let this erased person be provisioned again? The identity provider's next create will succeed."
    if not confirm(question, args.yes):
        print("Nothing released.")
        return 1
    requests = release(vault, args.user_name, args.external_id, operator_name(args), args.reason)
    print(f"Released: the person erased by {', '.join(requests)} may be provisioned again.")
    return 0


def _retry(vault: Any, args: argparse.Namespace) -> int:
    from app.services.erasure import retry

    count = retry(vault, args.request, args.target, operator_name(args))
    print(f"Queued {count} step(s) again.")
    _follow(vault, [args.request], args.wait)
    return _status(vault, args.request)


def _resume(vault: Any, wait: float) -> int:
    from app.services.erasure import open_requests

    open_ids = open_requests(vault)
    if not open_ids:
        print("No open erasure request.")
        return 0
    _follow(vault, open_ids, wait)
    return max(_status(vault, rid) for rid in open_ids)


# -- receipts ------------------------------------------------------------------------------------------------
def _receipt(vault: Any, args: argparse.Namespace) -> int:
    from app.services.erasure import export_receipt

    files = export_receipt(vault, args.request, Path(args.out))
    print(f"JSON  {shown(files.json_path)}  sha256 {files.json_sha256}")
    print(f"PDF   {shown(files.pdf_path)}  sha256 {files.pdf_sha256}")
    print(f"KEY   {shown(files.public_key_path)}  key id {files.public_key_path.stem.rsplit('-', 1)[-1]}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from app.services.erasure import verify_receipt

    key = readable_file(args.public_key) if args.public_key else None
    result = verify_receipt(readable_file(args.file), key)
    print(
        f"{'valid' if result.valid else 'INVALID'}: {result.message}", file=sys.stdout if result.valid else sys.stderr
    )
    return 0 if result.valid else 1
