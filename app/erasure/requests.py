"""Opening an erasure request: the local erasure happens at once, the targets follow (app/erasure/worker.py).

In one write transaction, per subject: capture which targets hold it (target links) and create one step per
target; derive its pseudonym; delete its rows and outbox items; shred its pseudonym key; then the ledger line
is written and fsynced before the transaction commits (write before destroy). After the commit the WAL is
checkpointed and truncated and the file vacuumed (app/erasure/hygiene.py), and the facts are recorded.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from app.audit.pseudonyms import shred_subject, subject_secrets
from app.audit.trail import Event, append, iso_utc
from app.core.errors import ConfigError
from app.core.events import EventBus, ResourcesChanged
from app.directory import repository as repo
from app.directory.input_guard import has_unpaired_surrogate
from app.erasure import hygiene, local, source, steps, tombstones
from app.erasure.ledger import Ledger
from app.erasure.model import GROUNDS
from app.erasure.note_names import identifying_values, refuse_names
from app.erasure.tables import ErasureRequest, ErasureSubject
from app.policy import recipient_scope as scope
from app.policy.model import Policy
from app.policy.versions import in_force
from app.store.vault import Vault
from app.targets import removal
from app.targets.config import TargetConfig, list_targets

_Q = ErasureRequest.__table__
_SUB = ErasureSubject.__table__
_EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[A-Za-z]{2,}")
MAX_NOTE = 500


def new_request_id() -> str:
    return "er-" + secrets.token_hex(8)  # random, not a counter: ids stay unique across backup restores


def actor_of(operator: str) -> str:
    return operator if ":" in operator else f"operator:{operator}"


def check_note(note: str | None, what: str) -> str | None:
    """Free text kept as evidence: short, and never an e-mail address (a note must not identify the subject)."""
    if note is None or not note.strip():
        return None
    if len(note) > MAX_NOTE:
        raise ConfigError(f"The {what} is at most {MAX_NOTE} characters.")
    if has_unpaired_surrogate(note):
        # undecodable bytes from a terminal (Python's surrogateescape): not text, and not storable as UTF-8
        raise ConfigError(f"The {what} holds bytes that are not valid text; type it again in UTF-8.")
    if _EMAIL.search(note):
        raise ConfigError(f"The {what} must not contain an e-mail address: name the subject by request id only.")
    return note.strip()


def _publish(bus: EventBus, ids: list[str], related: repo.Related) -> None:
    """After the commit: the groups that held the subjects and got a new version (decision 0047), then the subjects
    deleted (last, so that a subject among the related is shown deleted)."""
    for event in related.changes():
        bus.publish(event)
    bus.publish(ResourcesChanged("User", deleted=tuple(ids)))


def request_erasure(
    vault: Vault,
    subject_ids: Iterable[str],
    ground: str,
    operator: str,
    reason: str | None = None,
    origin: str = "operator",
    bus: EventBus | None = None,
    now: datetime | None = None,
    *,
    typed_reason: bool = True,
) -> str:
    """Erase the subjects locally now and queue their erasure at every target that holds them; returns the id.

    ``typed_reason``: the reason is an operator's free text, checked for the subjects' names. False for a reason
    Custos composes of fixed words and ids ("Data subject request dsr-…"), where a person whose name is a word
    ("Subject", "Will") would refuse the app's own text."""
    ids = list(dict.fromkeys(subject_ids))
    if not ids:
        raise ConfigError("Name at least one subject to erase.")
    if ground not in GROUNDS:
        raise ConfigError(f"The legal ground is one of {', '.join(GROUNDS)}.")
    note = check_note(reason, "reason")
    moment = now or datetime.now(UTC)
    request_id = new_request_id()
    ledger = Ledger(vault.path.parent)
    with vault.write_transaction() as conn:
        subjects = _resolve_all(conn, ids)
        if typed_reason:  # before anything is written or erased
            refuse_names(note, _identifying(conn, subjects), "reason")
        policy = _open(conn, request_id, ground, operator, note, origin, moment)
        targets = list_targets(conn)
        entries, totals, states = [], Counter[str](), Counter[str]()
        related = repo.Related()
        # The pseudonym the trail already uses for each subject (made now if it never appeared there).
        pseudonyms = [subject_secrets(conn, subject.resource_id).pseudonym for subject in subjects]
        removed_at = removal.holdings(conn, set(pseudonyms))  # targets removed while they held them
        for number, (subject, pseudonym) in enumerate(zip(subjects, pseudonyms, strict=True), 1):
            states.update(s.value for s in steps.create(conn, request_id, number, subject, targets, moment))
            untargeted = _recipients_without_target(conn, policy, targets, subject)
            removed = _removed_targets(policy, removed_at.get(pseudonym, []), untargeted)
            untargeted += [(rid, name) for rid, (name, _) in removed.items() if rid not in dict(untargeted)]
            told = steps.create_for_recipients(conn, request_id, number, subject, untargeted, moment,
                                               {rid: target for rid, (_, target) in removed.items()})  # fmt: skip
            states.update(s.value for s in told)
            totals.update(tombstones=_remember(conn, request_id, number, subject, origin, moment))
            erased = local.erase(conn, subject, related)
            # A tombstone naming the pseudonym only, then the subject's keys destroyed: from here on the trail
            # cannot be linked to the SCIM id, and nothing may name the subject to the trail again.
            tombstone = {"request": request_id, "rows_deleted": erased.rows_deleted}
            shredded = shred_subject(conn, subject.resource_id, actor=actor_of(operator), details=tombstone) is not None
            conn.execute(
                insert(_SUB).values(
                    request_id=request_id,
                    subject_no=number,
                    pseudonym=pseudonym,
                    resource_type=subject.resource_type,
                    rows_deleted=erased.rows_deleted,
                    key_shredded=shredded,
                )
            )
            totals.update(
                rows_deleted=erased.rows_deleted,
                outbox_items_deleted=erased.outbox_items_deleted,
                groups_requeued=erased.groups_requeued,
                references_cleared=erased.references_cleared,
                keys_shredded=int(shredded),
            )
            entries.append((pseudonym, subject.resource_id))
        facts = {"subjects": len(subjects), "erased_at": iso_utc(moment), **{k: totals[k] for k in sorted(totals)}}
        conn.execute(update(_Q).where(_Q.c.id == request_id).values(local_facts=json.dumps(facts, sort_keys=True)))
        requested = {"request": request_id, "ground": ground, "origin": origin, "subjects": len(subjects)}
        append(conn, Event("erasure.requested", actor_of(operator), details={**requested, "steps": dict(states)}))
        if origin != "replay":  # a replay re-applies entries the ledger already holds
            _to_ledger(ledger, request_id, entries, iso_utc(moment))
    _publish(bus or vault.events, ids, related)
    finish_local(vault, request_id, now)
    return request_id


def _to_ledger(ledger: Ledger, request_id: str, entries: list[tuple[str, str]], at: str) -> None:
    """Inside the erasure's transaction: a ledger that cannot be written (read-only, a full disk) undoes the whole
    erasure, since a restored backup replays only what the ledger holds. Said as such: before, a traceback."""
    try:
        ledger.append(request_id, entries, at)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the erasure ledger {ledger.path}: {exc.strerror or type(exc).__name__}. Nothing was "
            "erased: every erasure must be in the ledger, for a restored backup to replay it."
        ) from exc


def _resolve_all(conn: Connection, ids: list[str]) -> list[local.LocalSubject]:
    found = [local.resolve(conn, rid) for rid in ids]
    unknown = sum(1 for subject in found if subject is None)
    if unknown:
        raise ConfigError(
            f"{unknown} of the {len(ids)} ids given are neither in the mirror nor held at any target; "
            "nothing was erased."
        )
    subjects = [subject for subject in found if subject is not None]
    if any(subject.resource_type != "User" for subject in subjects):
        raise ConfigError("Erasure applies to Users (data subjects); a Group id was given. Nothing was erased.")
    return subjects


def _identifying(conn: Connection, subjects: list[local.LocalSubject]) -> list[str]:
    """Every identifier and name of the subjects still in the mirror (read before they are erased)."""
    values: list[str] = []
    for subject in subjects:
        row = repo.load(conn, "User", subject.resource_id) if subject.in_mirror else None
        values += identifying_values(subject.resource_id, json.loads(row.document) if row is not None else {})
    return values


def _removed_targets(
    policy: Policy | None, held: list[removal.RemovedHolding], untargeted: list[tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """Recipient id -> (its name, the removed target's name) for each target removed while it held this subject
    (app/targets/removal.py): the application may hold the account still, and Custos no longer reaches it. Named as
    the policy names the recipient, or by its id once the policy no longer has it."""
    names = dict(untargeted) | {r.id: r.name or r.id for r in (policy.recipients if policy else [])}
    return {holding.recipient: (names.get(holding.recipient, holding.recipient), holding.target)
            for holding in held}  # fmt: skip


def _recipients_without_target(
    conn: Connection, policy: Policy | None, targets: list[TargetConfig], subject: local.LocalSubject
) -> list[tuple[str, str]]:
    """(id, name) of each policy recipient with no SCIM target that received this subject's data: it receives
    User attributes and the subject is in its scope (read before the row is deleted)."""
    if policy is None or not subject.in_mirror:
        return []
    with_target = {target.recipient_id for target in targets}
    return [
        (recipient.id, recipient.name or recipient.id)
        for recipient in policy.recipients
        if recipient.id not in with_target
        and scope.receives_users(recipient)
        and scope.in_scope(conn, policy, recipient, subject.resource_id)
    ]


def _remember(
    conn: Connection, request_id: str, number: int, subject: local.LocalSubject, origin: str, now: datetime
) -> int:
    """Tombstones for the subject's IdP identifiers (so that it cannot come back unnoticed), and its source line.

    A retention erasure leaves no tombstone: the person left and their period ran out; if the IdP sends them
    again (a rehire), that is lawful. Its source line starts as ``blocked``: the IdP had deactivated the account.
    """
    row = repo.load(conn, "User", subject.resource_id) if subject.in_mirror else None
    document = json.loads(row.document) if row is not None else {}
    source.create(conn, request_id, number, subject.resource_id)
    if row is not None and row.active is False:
        source.seen(conn, subject.resource_id, "active false", now)
    if origin == "retention" or not document:
        return 0
    return tombstones.record(conn, request_id, number, document, now)


def _open(
    conn: Connection, request_id: str, ground: str, operator: str, note: str | None, origin: str, now: datetime
) -> Policy | None:
    policy = in_force(conn)
    conn.execute(
        insert(_Q).values(
            id=request_id,
            created=now,
            operator=operator[:160],
            ground=ground,
            reason=note,
            origin=origin,
            state="open",
            policy_stamp=policy.stamp if policy else "none",
            local_facts="{}",
        )
    )
    return policy.policy if policy else None


def finish_local(vault: Vault, request_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Scrub the storage after the erasure committed and record what SQLite reports (also after a crash)."""
    with vault.writer.connection() as conn:
        facts = hygiene.scrub_on(conn, vault.path)
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        current = json.loads(conn.execute(select(_Q.c.local_facts).where(_Q.c.id == request_id)).scalar_one())
        current["storage"] = facts.as_dict()
        current["scrubbed_at"] = iso_utc(moment)
        conn.execute(update(_Q).where(_Q.c.id == request_id).values(local_facts=json.dumps(current, sort_keys=True)))
        details = {"request": request_id, **facts.as_dict()}
        append(conn, Event("erasure.local.scrubbed", steps.ACTOR, details=details))
        steps.close_if_done(conn, [request_id], moment)
    return current


def unscrubbed(conn: Connection) -> list[str]:
    """Open requests whose storage scrub has not run (the process stopped) or did not complete (a lock)."""
    rows = conn.execute(select(_Q.c.id, _Q.c.local_facts).where(_Q.c.state == "open")).all()
    return [row.id for row in rows if not hygiene.complete(json.loads(row.local_facts).get("storage"))]


def open_request_ids(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute(select(_Q.c.id).where(_Q.c.state == "open").order_by(_Q.c.created))]


def state_of(conn: Connection, request_id: str) -> str | None:
    return conn.execute(select(_Q.c.state).where(_Q.c.id == request_id)).scalar()


def _refuse_erased_identifier(conn: Connection, request_id: str, note: str) -> None:
    """An attestation note must not write back an identifier the erasure removed: it outlives it on the receipt."""
    if tombstones.named_in_note(conn, request_id, note):
        raise ConfigError(
            "The attestation note holds an identifier of the person erased (their userName or externalId): it "
            "would outlive the erasure on the receipt. Say what was done without naming them; nothing was recorded."
        )


def attest(
    vault: Vault, request_id: str, target_name: str, operator: str, note: str, now: datetime | None = None
) -> int:
    """An operator confirms the erasure at a target by hand; returns how many steps it resolved."""
    checked = check_note(note, "attestation note")
    if checked is None:
        raise ConfigError("An attestation needs a note: what was done at the target, and how it was checked.")
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        if state_of(conn, request_id) is None:
            raise ConfigError(f"No erasure request {request_id!r}.")
        _refuse_erased_identifier(conn, request_id, checked)
        resolved = steps.attest(conn, request_id, target_name, operator[:160], checked, moment)
        steps.close_if_done(conn, [request_id], moment)
    if not resolved:
        raise ConfigError(f"Nothing at {target_name!r} in {request_id} waits for an attestation.")
    return resolved


def retry(vault: Vault, request_id: str, target_name: str | None, operator: str, now: datetime | None = None) -> int:
    """Queue again the steps that needed an operator (after the cause was fixed); returns how many."""
    with vault.write_transaction() as conn:
        if state_of(conn, request_id) is None:
            raise ConfigError(f"No erasure request {request_id!r}.")
        return steps.retry(conn, request_id, target_name, operator[:160], now or datetime.now(UTC))


def attest_source(vault: Vault, request_id: str, operator: str, note: str, now: datetime | None = None) -> int:
    """An operator confirms the person was removed or blocked at the identity provider; returns how many
    subjects of the request that covers."""
    checked = check_note(note, "attestation note")
    if checked is None:
        raise ConfigError("An attestation needs a note: what was done at the identity provider, and by whom.")
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        if state_of(conn, request_id) is None:
            raise ConfigError(f"No erasure request {request_id!r}.")
        _refuse_erased_identifier(conn, request_id, checked)
        changed = source.attest(conn, request_id, operator[:160], checked, moment)
    if not changed:
        raise ConfigError(f"The identity provider no longer holds any subject of {request_id}: nothing to attest.")
    return changed


def release(
    vault: Vault,
    user_name: str | None,
    external_id: str | None,
    operator: str,
    reason: str | None,
    now: datetime | None = None,
) -> list[str]:
    """Let an erased person be provisioned again (a rehire): their tombstones are released, with who and why on
    the trail. Returns the erasure requests the released tombstones came from."""
    checked = check_note(reason, "reason")
    if checked is None:
        raise ConfigError("A release needs a --reason (why this person may be provisioned again, e.g. a rehire).")
    # The reason is kept on the tombstones and the receipt, which name the person by pseudonym only.
    refuse_names(checked, [value for value in (user_name, external_id) if value], "reason", "nothing was released")
    with vault.write_transaction() as conn:
        return tombstones.release(conn, user_name, external_id, operator, checked, now)
