"""The audit trail's own retention period, enforced: ``[own_processing] audit_trail`` of the policy (decision 0055).

Run by the hourly retention job (app/jobs.py) and by ``custos audit prune [--dry-run]``. Without a period in the
policy (or with "indefinite") nothing is pruned. With one, the entries timed before ``now - period`` go, but only
up to a signed checkpoint (app/audit/prune.py), and never:
- an entry a SIEM destination has not acknowledged yet (its cursor, app/siem/spool.py): pruned, it would never
  reach the collector;
- an entry inside the window of an incident in the register that is not closed: the investigation (its scope,
  its timeline, its bundle) needs them. An open incident without a start to its window keeps every entry;
- an entry naming a person whose access or portability request is not answered yet: the answer lists them.
The whole trail is verified first: a prune of a tampered trail would delete the evidence of the tampering, so a
trail that does not verify is not pruned. After the prune the freed pages and the WAL are scrubbed as after an
erasure (app/erasure/hygiene.py): secure_delete has zeroed the cells, the WAL still holds their earlier pages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from app.audit import prune
from app.audit.tables import AuditEvent
from app.audit.trail import StoredEvent, iso_utc
from app.audit.verify import verify_trail
from app.dsr.model import EXPORT_RIGHTS
from app.dsr.tables import DsrRequest
from app.erasure.hygiene import StorageFacts, scrub_on
from app.incidents.tables import Incident
from app.policy.durations import Period
from app.policy.in_force import PolicyInForce
from app.siem import spool
from app.store.vault import Vault

log = logging.getLogger(__name__)
# How often the hourly job prunes at most: each prune verifies the whole trail first and rewrites the vault file
# (VACUUM) after, seconds to minutes on a large vault with the one writer held; entries then stay a day past their
# period at most. ``custos audit prune`` is not held to it.
JOB_EVERY = timedelta(days=1)
_A = AuditEvent.__table__
_I = Incident.__table__
_Q = DsrRequest.__table__


@dataclass(frozen=True)
class TrailPrune:
    """One run: what the plan was, and what was done (``record`` None: nothing removed)."""

    plan: prune.PrunePlan
    record: StoredEvent | None = None
    refused: str = ""  # why nothing was removed although the plan had entries to remove
    storage: StorageFacts | None = None


def trail_period(conn: Connection, policy: PolicyInForce) -> Period | None:
    """The policy's period for the trail; None when it sets none or declares the trail kept indefinitely."""
    retention = policy.for_connection(conn).policy.own_retention("audit_trail")
    return retention.period if retention is not None and not retention.indefinite else None


def _first_timed_from(conn: Connection, moment: datetime) -> int | None:
    """The first entry timed at or after ``moment`` (walking the primary key, stopping at the first match)."""
    value = conn.execute(select(_A.c.seq).where(_A.c.at >= iso_utc(moment)).order_by(_A.c.seq).limit(1)).scalar()
    return None if value is None else int(value)


def _siem_holds(conn: Connection) -> list[prune.Hold]:
    return [
        prune.Hold(seq + 1, f"SIEM destination {name} has acknowledged entries only up to {seq}")
        for name, seq in spool.cursors(conn)
        if seq < spool.last_seq(conn)
    ]


def _incident_holds(conn: Connection) -> list[prune.Hold]:
    holds = []
    rows = conn.execute(select(_I.c.id, _I.c.occurred_from).where(_I.c.closed_at.is_(None)).order_by(_I.c.id))
    for incident, start in rows:
        if start is None:
            holds.append(prune.Hold(1, f"incident {incident} is not closed and its window has no start"))
            continue
        moment = start if start.tzinfo else start.replace(tzinfo=UTC)
        first = _first_timed_from(conn, moment)
        if first is not None:
            holds.append(prune.Hold(first, f"incident {incident} is not closed (its window starts {iso_utc(moment)})"))
    return holds


def _request_holds(conn: Connection) -> list[prune.Hold]:
    """An access or portability request not yet answered keeps the person's entries: its answer (the subject
    export) lists the trail's events about them, and a prune between the request and the answer would take some
    away. Held from the first entry naming the person; the request register's deadline bounds how long."""
    holds = []
    rows = conn.execute(
        select(_Q.c.id, _Q.c.rights, _Q.c.subject)
        .where(_Q.c.state.in_(("open", "in_progress")), _Q.c.subject.is_not(None))
        .order_by(_Q.c.id)
    )
    for request, rights, subject in rows:
        if not set(json.loads(rights)) & set(EXPORT_RIGHTS):
            continue
        first = conn.execute(select(func.min(_A.c.seq)).where(_A.c.subject == subject)).scalar()
        if first is not None:
            holds.append(prune.Hold(int(first), f"request {request} is open: its answer lists the person's events"))
    return holds


def holds(conn: Connection) -> list[prune.Hold]:
    """What keeps entries the period alone would let go."""
    return _siem_holds(conn) + _incident_holds(conn) + _request_holds(conn)


def plan(vault: Vault, policy: PolicyInForce, now: datetime) -> prune.PrunePlan | None:
    """What a prune would remove now (reads only); None when the policy sets no period for the trail."""
    with vault.read_connection() as conn:
        period = trail_period(conn, policy)
        if period is None:
            return None
        return prune.plan(conn, period.iso(), period.before(now), holds(conn))


def _pruned_since(vault: Vault, moment: datetime) -> bool:
    with vault.read_connection() as conn:
        last = prune.last_record(conn)
    return last is not None and last.at > iso_utc(moment)


def run(
    vault: Vault,
    policy: PolicyInForce,
    now: datetime | None = None,
    dry_run: bool = False,
    every: timedelta | None = None,
) -> TrailPrune | None:
    """Prune the trail under its retention period (None: no period in the policy, nothing pruned). ``every``: not
    when the last prune is more recent than that (the hourly job's ``JOB_EVERY``)."""
    moment = now or datetime.now(UTC)
    chosen = plan(vault, policy, moment)
    if chosen is None or dry_run or chosen.anchor is None:
        return None if chosen is None else TrailPrune(chosen)
    if every is not None and _pruned_since(vault, moment - every):
        return TrailPrune(chosen)  # the next prune is due later: nothing removed, nothing refused
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    if not report.ok:
        why = f"the trail does not verify ({report.summary()}): pruning would delete the evidence; nothing was removed"
        log.error("audit trail not pruned: it does not verify")
        return TrailPrune(chosen, refused=why)
    with vault.write_transaction() as conn:
        record = prune.prune(conn, chosen, moment)
    if record is None:
        changed = "the trail changed since the plan; nothing was removed (the next run tries again)"
        return TrailPrune(chosen, refused=changed)
    with vault.writer.connection() as conn:
        storage = scrub_on(conn, vault.path)
    log.info("audit trail pruned: %d entries up to the checkpoint at %d", chosen.count, chosen.last_seq)
    return TrailPrune(chosen, record, storage=storage)
