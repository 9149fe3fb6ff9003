"""Reconciliation: what a target holds compared with what the mirror says it should hold.

Drift is reported by pseudonymous ids and attribute names only: accounts the target holds that Custos does not
know (candidates for unlawful retention), accounts missing at the target, attributes that differ, and
attributes the target holds beyond its mapping. ``repair`` queues pushes for the missing and differing ones.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from app.core.errors import ConfigError
from app.core.events import OutboxQueued
from app.feed import links, outbox
from app.policy import recipient_scope as scope
from app.policy.in_force import PolicyInForce
from app.policy.model import Policy
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.client import Answer, TargetClient
from app.targets.compare import differences
from app.targets.config import TargetConfig, require_target
from app.targets.mapping import TargetMapping, mapping_for
from app.targets.verification import Check, record

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


class Unreadable(ConfigError):
    """The target's listing could not be read to its end: nothing it holds may be called missing."""

    def __init__(self, why: str) -> None:
        super().__init__(f"The target's list of users could not be read ({why}): nothing was compared or recorded.")


async def _pages(client: TargetClient) -> AsyncIterator[list[dict[str, Any]]]:
    """The target's Users a page at a time: a reconcile of 100,000 accounts never holds them all.

    An answer that is no list (a 404 from a wrong base path, a proxy's HTML page) or a listing that ends before
    its own totalResults is refused: read as "holds nobody", it made every person missing at the target. Accounts
    are counted once however often they are listed: a target that ignores ``startIndex`` answers its first page
    again and again, and counting those pages as new accounts ended the walk early, with everyone past the first
    page called missing (refused now). A listing without totalResults is read until a page comes back empty: taken
    as complete after its first page, it made everyone after that page missing too."""
    known: set[str] = set()
    start = 1
    while True:
        answer = await client.request("GET", "/Users", startIndex=str(start), count=str(PAGE))
        page = _page_of(answer)
        fresh = {str(user.get("id")) for user in page} - known
        known |= fresh
        if page:
            yield page
        total = _total_of(answer)
        if not page:
            if total is not None and len(known) < total:
                raise Unreadable(f"the listing ended after {len(known)} of the {total} accounts it announced")
            return
        if total is not None and len(known) >= total:
            return
        if not fresh:
            raise Unreadable(f"the page from account {start} on repeated accounts already read (the target may "
                             "ignore startIndex)")  # fmt: skip
        start += len(page)


def _page_of(answer: Answer) -> list[dict[str, Any]]:
    body = answer.body
    resources = body.get("Resources", []) if body is not None else None
    if answer.status != 200 or not isinstance(resources, list):
        raise Unreadable(f"GET /Users answered {answer.status} without a list of resources")
    return resources


def _total_of(answer: Answer) -> int | None:
    """The listing's totalResults; None when it gives none (RFC 7644 requires it, some targets leave it out)."""
    total = (answer.body or {}).get("totalResults")
    if total is None:
        return None
    try:
        if isinstance(total, bool):
            raise TypeError(total)
        return int(total)
    except (TypeError, ValueError):
        raise Unreadable("its totalResults is not a number") from None


@dataclass
class _Expected:
    """What the mirror says the target should hold: ids, read once; each page's documents read as it arrives."""

    vault: Vault
    mapping: TargetMapping
    by_remote: dict[str, str]  # the target's id -> our resource id, from the links
    wanted: set[str]  # our Users in the recipient's scope

    def documents(self, resource_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not resource_ids:
            return {}
        table = ScimResource.__table__
        statement = select(table.c.id, table.c.document).where(table.c.id.in_(resource_ids))
        with self.vault.read_connection() as conn:
            return {row.id: json.loads(row.document) for row in conn.execute(statement)}

    def present(self, resource_ids: list[str]) -> list[str]:
        """Those of ``resource_ids`` still in the mirror, a page of ids per statement: someone erased during the
        walk is missing nowhere, and a repair must not push them back."""
        table = ScimResource.__table__
        kept: set[str] = set()
        with self.vault.read_connection() as conn:
            for start in range(0, len(resource_ids), PAGE):
                chunk = resource_ids[start : start + PAGE]
                kept.update(conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        return [resource_id for resource_id in resource_ids if resource_id in kept]


def _expected(conn: Connection, vault: Vault, policy: Policy, config: TargetConfig) -> _Expected:
    """The Users this target should hold: a scoped recipient's others are not missing there (held there anyway,
    they are accounts it should not hold). Ids only; the scope is a WHERE clause, not a filter in Python."""
    mapping = mapping_for(policy, config.recipient_id, config.renames)
    by_remote = {link.remote_id: link.resource_id for link in links.of_target(conn, config.id)
                 if link.resource_type == "User"}  # fmt: skip
    wanted = set(scope.user_ids(conn, policy, mapping.recipient)) if mapping.sends("User") else set()
    return _Expected(vault, mapping, by_remote, wanted)


@dataclass
class _Seen:
    """What the walk has met so far: the target's ids, and ours with the target's id they are held under."""

    remote: set[str] = field(default_factory=set)
    ours: dict[str, str] = field(default_factory=dict)


def _compare_page(expected: _Expected, page: list[dict[str, Any]], drift: Drift, seen: _Seen) -> None:
    """One page of the target against the mirror's documents of the accounts on it (ids and names only kept)."""
    ours: dict[str, dict[str, Any]] = {}
    for user in page:
        remote_id = str(user.get("id"))
        if remote_id in seen.remote:
            continue  # listed twice (the target's order moved between pages): counted once
        seen.remote.add(remote_id)
        resource_id = expected.by_remote.get(remote_id)
        if resource_id is None or resource_id not in expected.wanted:
            drift.unknown_at_target.append(remote_id)
            continue
        seen.ours[resource_id] = remote_id
        ours[resource_id] = user
    documents = expected.documents(list(ours))
    for resource_id, actual in ours.items():
        document = documents.get(resource_id)
        if document is None:  # erased or deleted since the ids were read: the target holds one too many
            drift.unknown_at_target.append(seen.ours.pop(resource_id))
            expected.wanted.discard(resource_id)  # not missing either: nobody to hold any more
            continue
        differing, beyond = differences(expected.mapping.payload("User", document), actual)
        if differing:
            drift.differing[resource_id] = sorted(differing)
        if beyond:
            drift.beyond_mapping[resource_id] = beyond


def reconcile(vault: Vault, policy: PolicyInForce, name: str, repair: bool = False) -> Drift:
    """Compare, then keep the outcome with its trail entry and the repair's pushes, in one transaction.

    The target is read a page at a time and each page compared with the mirror's documents of the accounts on it,
    so memory grows with the number of ids, not with the documents on either side (decision 0037)."""
    started = datetime.now(UTC)  # a push finishing after this is newer than what the check saw
    with vault.read_connection() as conn:
        config: TargetConfig = require_target(conn, name)
        # The version in force as this read sees it: get() may be up to a second behind an apply made elsewhere,
        # and a reconcile then judged the target by the policy it replaced ("no recipient", or a wrong mapping).
        expected = _expected(conn, vault, policy.for_connection(conn).policy, config)
    drift = Drift(name)
    seen = _Seen()

    async def walk() -> None:
        client = TargetClient(config)
        try:
            async for page in _pages(client):
                _compare_page(expected, page, drift, seen)
        finally:
            await client.close()

    asyncio.run(walk())
    drift.checked = len(seen.remote)
    absent = [resource_id for resource_id in expected.wanted if resource_id not in seen.ours]
    drift.missing_at_target = sorted(expected.present(absent))
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
