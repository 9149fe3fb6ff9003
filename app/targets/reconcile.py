"""Reconciliation: what a target holds compared with what the mirror says it should hold.

Drift is reported by pseudonymous ids and attribute names only: accounts the target holds that Custos does not
know (candidates for unlawful retention), accounts missing at the target, attributes that differ, and
attributes the target holds beyond its mapping. ``repair`` queues pushes for the missing and differing ones.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.core.events import OutboxQueued
from app.feed import links, outbox
from app.policy.in_force import PolicyInForce
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.client import TargetClient
from app.targets.config import TargetConfig, require_target
from app.targets.mapping import mapping_for

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


def reconcile(vault: Vault, policy: PolicyInForce, name: str, repair: bool = False) -> Drift:
    with vault.read_connection() as conn:
        config: TargetConfig = require_target(conn, name)
        held = {link.resource_id: link for link in links.of_target(conn, config.id) if link.resource_type == "User"}
        table = ScimResource.__table__
        mirror = {
            row.id: json.loads(row.document)
            for row in conn.execute(select(table.c.id, table.c.document).where(table.c.resource_type == "User"))
        }
    mapping = mapping_for(policy.get().policy, config.recipient_id, config.renames)

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
    if repair:
        to_push = [*drift.missing_at_target, *drift.differing, *drift.beyond_mapping]
        with vault.write_transaction() as conn:
            for resource_id in dict.fromkeys(to_push):
                outbox.enqueue_for(conn, config.id, "User", resource_id, "upsert")
        drift.repaired = len(dict.fromkeys(to_push))
        vault.events.publish(OutboxQueued(config.name, drift.repaired))  # the dispatcher pushes them now
    return drift
