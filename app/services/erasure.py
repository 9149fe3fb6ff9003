"""Erasure (Art. 17 and 19), the one use case behind ``custos erase`` and the app's *Erase…* and erasure history:
choose the subjects (a SCIM filter read through the agreed schema, as the endpoint reads it), preview what would
be erased where, request it (one transaction: the local erasure, its steps, its tombstones, its trail entries),
follow it, retry and attest steps, release a rehire, and export or verify the signed receipt.

Subjects are never named here except in ``Preview.people``, which is for the operator's screen only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from app.core.errors import ConfigError
from app.core.events import EventBus
from app.directory import repository as repo
from app.directory.errors import ScimError
from app.directory.query import MAX_PAGE_SIZE, QueryParams, search
from app.erasure import requests as erasure_requests
from app.erasure.model import DEFAULT_GROUND, GROUNDS, OPERATOR_CAN_ATTEST, RETRYABLE_BY_OPERATOR
from app.erasure.receipt import ReceiptFiles, Verification, load_public_key
from app.erasure.receipt import export as export_receipt_files
from app.erasure.receipt import verify_receipt as verify_receipt_file
from app.erasure.source import HELD, STEP_TEXT, still_held
from app.erasure.status import RequestStatus, TargetLine, local_line, report_lines, request_status
from app.erasure.status import recent as recent_requests
from app.erasure.steps import RECIPIENT_MODE, recipient_step_name
from app.feed import links
from app.policy import recipient_scope as scope
from app.policy.in_force import PolicyInForce
from app.policy.model import Policy
from app.policy.versions import in_force
from app.store import browse
from app.store.vault import Vault
from app.targets.config import TargetConfig, list_targets

__all__ = ["DEFAULT_GROUND", "GROUNDS", "HELD", "STEP_TEXT", "History", "Preview", "ReceiptFiles", "RequestStatus",
           "TargetLine", "Verification", "attest", "can_attest", "can_retry", "export_receipt", "follow", "history",
           "local_line", "open_requests", "people", "preview", "progress", "recent", "release", "report_lines",
           "request", "retry", "select_users", "verify_receipt"]  # fmt: skip


@dataclass(frozen=True)
class Preview:
    subjects: int
    found: int  # of those, still in the mirror
    per_target: dict[str, int]  # target name -> how many of the subjects it holds
    modes: dict[str, str]  # target name -> erase mode (delete | deactivate | manual)
    people: tuple[tuple[str, str], ...] = ()  # (display name, userName) of each subject found, for the operator


def people(conn: Connection, subject_ids: list[str]) -> tuple[tuple[str, str], ...]:
    """Whom the operator is about to erase, by name on screen only (never logged, never on the trail)."""
    return browse.names_of(conn, subject_ids)


def preview(vault: Vault, subject_ids: list[str]) -> Preview:
    with vault.read_connection() as conn:
        targets = list_targets(conn)
        names = {t.id: t.name for t in targets}
        modes = {t.name: t.erase_mode for t in targets}
        counts: Counter[str] = Counter()
        found = len(repo.existing_types(conn, subject_ids))
        for resource_id in subject_ids:
            held = links.of_resource(conn, resource_id)
            counts.update(names[link.target_id] for link in held if link.target_id in names)
        record = in_force(conn)
        if record is not None:
            _recipients_without_target(conn, record.policy, targets, subject_ids, modes, counts)
        named = people(conn, subject_ids)
    return Preview(len(subject_ids), found, {name: counts.get(name, 0) for name in sorted(modes)}, modes, named)


def _recipients_without_target(
    conn: Connection, policy: Policy, targets: list[TargetConfig], subject_ids: list[str], modes: dict[str, str],
    counts: Counter[str],
) -> None:
    """Recipients with no SCIM target (Art. 19): told by a person, for the subjects in their scope."""
    with_target = {t.recipient_id for t in targets}
    for recipient in policy.recipients:
        if recipient.id in with_target or not scope.receives_users(recipient):
            continue
        name = recipient_step_name(recipient.id)
        modes[name] = RECIPIENT_MODE
        counts[name] = len([rid for rid in subject_ids if scope.in_scope(conn, policy, recipient, rid)])


def progress(vault: Vault, request_id: str) -> RequestStatus:
    with vault.read_connection() as conn:
        return request_status(conn, request_id)


# -- choosing the subjects --------------------------------------------------------------------------------------
def select_users(vault: Vault, scim_filter: str, policy: PolicyInForce | None = None) -> list[str]:
    """Every User the filter selects, page by page (ids only leave this function).

    Read as the endpoint reads it, through the policy in force: a filter on an attribute the agreed schema does
    not hold is refused, never answered "no User matches"; so is a filter that is not SCIM filter syntax (a
    ConfigError with the endpoint's reason, not a traceback)."""
    held = (policy or PolicyInForce(vault)).get().minimiser
    ids: list[str] = []
    start = 1
    while True:
        params = QueryParams(filter=scim_filter, count=MAX_PAGE_SIZE, start_index=start, attributes="id")
        try:
            page = search(vault, held, "", ("User",), params)
        except ScimError as exc:
            raise ConfigError(f"The filter cannot select users: {exc.detail}") from exc
        found = [str(resource["id"]) for resource in page.get("Resources") or []]
        ids.extend(found)
        start += len(found)
        if not found or start > int(page.get("totalResults", 0)):
            return ids


# -- the request and its steps ---------------------------------------------------------------------------------
def request(
    vault: Vault,
    subject_ids: Iterable[str],
    ground: str,
    operator: str,
    reason: str | None = None,
    *,
    bus: EventBus | None = None,
    now: datetime | None = None,
) -> str:
    """Erase the subjects locally now and queue their erasure wherever they are held; returns the request id.
    Their data subject requests still owed an answer keep the requester's detail until they close (decision 0017)."""
    from app.dsr.register import DsrRegister

    ids = list(subject_ids)
    with vault.write_transaction() as conn:
        DsrRegister(vault).keep_unanswered_for_answer(conn, ids)
    return erasure_requests.request_erasure(vault, ids, ground, operator, reason, bus=bus, now=now)


def recent(vault: Vault, limit: int = 20) -> list[tuple[str, datetime, str, str, int]]:
    """The newest requests: (id, created, state, ground, steps)."""
    with vault.read_connection() as conn:
        return recent_requests(conn, limit=limit)


@dataclass(frozen=True)
class History:
    """The erasure history's list: the newest requests, and how many of them are still held at the identity
    provider. "Closed" covers Custos' own steps only (decision 0020: the source is not a step), so a count of open
    requests alone reads as "all done" while the person is still at the source."""

    requests: list[tuple[str, datetime, str, str, int]]  # (id, created, state, ground, steps)
    opened: int
    held_at_source: int


def history(vault: Vault, limit: int = 500) -> History:
    with vault.read_connection() as conn:
        requests = recent_requests(conn, limit=limit)
        held = still_held(conn, [r[0] for r in requests])
    return History(requests, sum(1 for r in requests if r[2] == "open"), len(held))


def open_requests(vault: Vault) -> list[str]:
    with vault.read_connection() as conn:
        return erasure_requests.open_request_ids(conn)


def follow(vault: Vault, request_ids: list[str], wait: float) -> bool:
    """Carry the requests out at the targets in this process, for up to ``wait`` seconds (the command line's
    worker; serve and the app have the runtime's). True when every request closed."""
    from app.erasure.worker import drive

    return drive(vault, request_ids, wait)


def can_attest(line: TargetLine) -> bool:
    """A step a person confirms by hand: a manual target or recipient, or the identity provider still holding
    the person. The local erasure is Custos' own and never attested."""
    if line.target == "local":
        return False
    if line.target == "source":
        return line.state in (HELD, "mixed")
    return line.state in OPERATOR_CAN_ATTEST or line.state == "mixed"


def can_retry(line: TargetLine) -> bool:
    """A target's step that waited for the operator (its cause fixed): queued again by ``retry``."""
    return line.target not in ("local", "source") and (line.state in RETRYABLE_BY_OPERATOR or line.state == "mixed")


def attest(vault: Vault, request_id: str, target: str | None, operator: str, note: str, *, source: bool = False) -> int:
    """Confirm by hand the erasure at a target or recipient (``target``), or at the identity provider
    (``source``); returns how many steps (or subjects, at the source) were attested."""
    if bool(target) == source:
        raise ConfigError("Give --target NAME (a target or recipient:ID) or --source, not both and not neither.")
    if source:
        return erasure_requests.attest_source(vault, request_id, operator, note)
    assert target is not None
    return erasure_requests.attest(vault, request_id, target, operator, note)


def retry(vault: Vault, request_id: str, target: str | None, operator: str) -> int:
    return erasure_requests.retry(vault, request_id, target, operator)


def release(vault: Vault, user_name: str | None, external_id: str | None, operator: str, reason: str) -> list[str]:
    """Let an erased person be provisioned again (a rehire); returns the requests whose tombstone was released."""
    if not (user_name or external_id):
        raise ConfigError("Give the --user-name and/or --external-id the identity provider sends for this person.")
    return erasure_requests.release(vault, user_name, external_id, operator, reason)


# -- receipts --------------------------------------------------------------------------------------------------
def export_receipt(vault: Vault, request_id: str, out_dir: Path) -> ReceiptFiles:
    try:
        return export_receipt_files(vault, request_id, out_dir)
    except OSError as exc:  # a file where the folder should be, no permission, a full disk: said, not a traceback
        raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or type(exc).__name__}.") from exc


def verify_receipt(path: Path, public_key_file: Path | None = None) -> Verification:
    """Check a receipt's signature offline (no vault), against its own key or the one in ``public_key_file``."""
    key = None
    if public_key_file is not None:
        try:
            key = load_public_key(public_key_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"Cannot read an Ed25519 public key from {public_key_file}.") from exc
    return verify_receipt_file(path, key)
