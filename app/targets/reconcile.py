"""Reconciliation: what a target holds compared with what the mirror says it should hold.

Drift is reported by pseudonymous ids and attribute names only: accounts the target holds that Custos does not
know (candidates for unlawful retention), accounts missing at the target, attributes that differ, and
attributes the target holds beyond its mapping. ``repair`` queues pushes for the missing and differing ones.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from app.core.events import OutboxQueued
from app.feed import links, outbox
from app.policy import recipient_scope as scope
from app.policy.in_force import PolicyInForce
from app.policy.model import Policy
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.client import TargetClient
from app.targets.config import TargetConfig, require_target
from app.targets.mapping import TargetMapping, mapping_for
from app.targets.verification import Check, record

_IGNORED = frozenset({"id", "meta", "schemas", "groups"})
PAGE = 200


@dataclass
class Drift:
    target: str
    checked: int = 0
    unknown_at_target: list[str] = field(default_factory=list)  # the target's own ids
    missing_at_target: list[str] = field(default_factory=list)  # our resource ids
    differing: dict[str, list[str]] = field(default_factory=dict)  # our id -> attribute names
    beyond_mapping: dict[str, list[str]] = field(default_factory=dict)  # our id -> attribute names
    repaired: int = 0
    started: datetime | None = None  # when the check began (before the mirror and the target were read)

    @property
    def clean(self) -> bool:
        return not (self.unknown_at_target or self.missing_at_target or self.differing or self.beyond_mapping)

    def lines(self, repaired: bool = False) -> list[str]:
        """One line per kind of drift (ids and attribute names only), as ``target reconcile`` prints them."""
        if self.clean:
            return ["no drift"]
        lines = []
        if self.unknown_at_target:
            lines.append(f"{len(self.unknown_at_target)} account(s) at the target unknown to Custos (possible "
                         "unlawful retention)")  # fmt: skip
        if self.missing_at_target:
            lines.append(f"{len(self.missing_at_target)} subject(s) missing at the target")
        if self.differing:
            lines.append(f"{len(self.differing)} account(s) with differing attributes")
        if self.beyond_mapping:
            names = sorted({name for names in self.beyond_mapping.values() for name in names})
            count = len(self.beyond_mapping)
            lines.append(f"{count} account(s) hold attributes beyond the mapping: {', '.join(names)}")
        if repaired:
            lines.append(f"queued {self.repaired} push(es) to repair")
        return lines

    @property
    def repairable(self) -> int:
        """How many subjects a repair would push (missing, differing, or holding more than the mapping)."""
        return len(dict.fromkeys([*self.missing_at_target, *self.differing, *self.beyond_mapping]))

    def check(self, started: datetime, repaired: bool) -> Check:
        """The counts kept of this reconcile (no id and no attribute name leaves here)."""
        return Check(started, self.checked, len(self.unknown_at_target), len(self.missing_at_target),
                     len(self.differing), len(self.beyond_mapping), self.repairable, repaired)  # fmt: skip


async def _all_users(client: TargetClient) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    start = 1
    while True:
        answer = await client.request("GET", "/Users", startIndex=str(start), count=str(PAGE))
        page = (answer.body or {}).get("Resources") or []
        users.extend(page)
        total = int((answer.body or {}).get("totalResults", len(users)))
        if not page or len(users) >= total:
            return users
        start += len(page)


def _normalise(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def _in_scope(conn: Connection, policy: Policy, mapping: TargetMapping) -> dict[str, Any]:
    """The Users this target should hold, as the mirror has them: a scoped recipient's others are not missing
    there (held there anyway, they are accounts it should not hold)."""
    if not mapping.sends("User"):
        return {}
    # The scope is a WHERE clause: SQLite reads only the in-scope documents, not every User to drop most.
    table = ScimResource.__table__
    statement = select(table.c.id, table.c.document).where(scope.users_condition(policy, mapping.recipient))
    return {row.id: json.loads(row.document) for row in conn.execute(statement)}


def reconcile(vault: Vault, policy: PolicyInForce, name: str, repair: bool = False) -> Drift:
    """Compare, then keep the outcome with its trail entry and the repair's pushes, in one transaction."""
    started = datetime.now(UTC)  # a push finishing after this is newer than what the check saw
    active = policy.get().policy
    with vault.read_connection() as conn:
        config: TargetConfig = require_target(conn, name)
        mapping = mapping_for(active, config.recipient_id, config.renames)
        held = {link.resource_id: link for link in links.of_target(conn, config.id) if link.resource_type == "User"}
        mirror = _in_scope(conn, active, mapping)

    async def fetch() -> list[dict[str, Any]]:
        client = TargetClient(config)
        try:
            return await _all_users(client)
        finally:
            await client.close()

    remote = {str(user.get("id")): user for user in asyncio.run(fetch())}
    drift = Drift(name, checked=len(remote))
    by_remote = {link.remote_id: resource_id for resource_id, link in held.items()}
    drift.unknown_at_target = sorted(rid for rid in remote if rid not in by_remote or by_remote[rid] not in mirror)
    for resource_id, document in mirror.items():
        expected = mapping.payload("User", document)
        link = held.get(resource_id)
        if link is None or link.remote_id not in remote:
            drift.missing_at_target.append(resource_id)
            continue
        actual = remote[link.remote_id]
        differing = [k for k in expected if k != "schemas" and _normalise(expected[k]) != _normalise(actual.get(k))]
        beyond = sorted(k for k in actual if k not in _IGNORED and k not in expected)
        if differing:
            drift.differing[resource_id] = sorted(differing)
        if beyond:
            drift.beyond_mapping[resource_id] = beyond
    drift.started = started
    to_push = list(dict.fromkeys([*drift.missing_at_target, *drift.differing, *drift.beyond_mapping]))
    with vault.write_transaction() as conn:
        for resource_id in to_push if repair else []:
            outbox.enqueue_for(conn, config.id, "User", resource_id, "upsert")
        record(conn, config.id, config.name, drift.check(started, repaired=repair and bool(to_push)))
    if repair:
        drift.repaired = len(to_push)
        vault.events.publish(OutboxQueued(config.name, drift.repaired))  # the dispatcher pushes them now
    return drift
