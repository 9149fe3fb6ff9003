"""One outbox item pushed to one target: what to send, how to match an existing account, how to confirm.

Reads and writes of the vault are synchronous and short; they run in a worker thread (asyncio.to_thread) so
that the dispatcher's event loop keeps other targets' requests moving.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from app.audit.trail import Event, append
from app.directory import repository as repo
from app.feed import links, outbox
from app.policy import recipient_scope as scope
from app.store.vault import Vault
from app.targets.client import Answer, Rejected, Retryable, TargetClient
from app.targets.config import TargetConfig
from app.targets.mapping import TargetMapping
from app.targets.trim import trim

ACTOR = "system:provisioning"
# How an adopted account was found: the trail says which, so that "adopted" is never read as "created by Custos".
FOUND_BY_SEARCH = "by a search before creating"
FOUND_AFTER_409 = "after the create answered 409"
LINKED = ("created", "adopted", "replaced")  # outcomes that leave the subject linked to an account at the target


@dataclass(frozen=True)
class Match:
    """An account the target already holds for a subject, and the attribute it was found by (a name, never a
    value: externalId, userName or displayName)."""

    remote_id: str
    by: str


@dataclass
class Outcome:
    # created | adopted (an account found at the target and linked) | replaced (an account already linked) |
    # deleted | deactivated | skipped
    operation: str
    status: int | None = None
    remote_id: str | None = None
    attributes: list[str] = field(default_factory=list)
    version: int | None = None  # the mirror's version that was sent
    left_scope: bool = False  # deprovisioned because the subject is no longer in the recipient's scope
    found: str | None = None  # adopted: FOUND_BY_SEARCH or FOUND_AFTER_409
    matched_by: str | None = None  # adopted: the attribute the account was found by
    removed: list[str] = field(default_factory=list)  # held beyond the mapping, removed: a read-back confirmed it
    held_beyond: list[str] = field(default_factory=list)  # held beyond the mapping after the removal was asked
    why_held: str | None = None  # why they are still held (a status or a SCIM type, never a body)


def _attribute_names(payload: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key, value in payload.items():
        if key == "schemas":
            continue
        if key.startswith("urn:") and isinstance(value, dict):
            names.extend(f"{key}:{sub}" for sub in value)
        else:
            names.append(key)
    return sorted(names)


# Whether processing of a User is restricted (GDPR Art. 18): such a subject is sent as inactive. The register of
# requests that restrict (app/dsr/restriction.py: is_restricted) builds on the targets, so the runtime hands the
# check in (app/jobs.py) rather than the targets importing it.
Restriction = Callable[[Connection, str], bool]


class Pusher:
    def __init__(
        self, vault: Vault, config: TargetConfig, client: TargetClient, mapping: TargetMapping, restricted: Restriction
    ) -> None:
        self.vault = vault
        self.config = config
        self.client = client
        self.mapping = mapping
        self.restricted = restricted
        self._owners: dict[str, str] | None = None  # account id here -> subject linked to it (see _holder)

    # -- vault access (run in a thread) ----------------------------------------------------------------
    def _read(
        self, item: outbox.WorkItem
    ) -> tuple[repo.StoredResource | None, links.Link | None, dict[str, str], bool]:
        """The resource, its link here, the group's members held here, and whether a User is in scope here."""
        with self.vault.read_connection() as conn:
            row = repo.load(conn, item.resource_type, item.resource_id)
            if row is not None and item.resource_type == "User" and self.restricted(conn, item.resource_id):
                row = replace(row, document=json.dumps({**json.loads(row.document), "active": False}))
            link = links.get(conn, self.config.id, item.resource_id)
            members: dict[str, str] = {}
            if row is not None and item.resource_type == "Group":
                members = links.remote_ids(conn, self.config.id, links.members_of(conn, item.resource_id))
            in_scope = True
            if row is not None and item.resource_type == "User" and self.mapping.policy is not None:
                in_scope = scope.in_scope(conn, self.mapping.policy, self.mapping.recipient, item.resource_id)
        return row, link, members, in_scope

    def _still_held(self, item: outbox.WorkItem) -> bool:
        """Whether the mirror still holds the item's resource (read now, after the push's own read)."""
        with self.vault.read_connection() as conn:
            return bool(repo.existing_types(conn, [item.resource_id]))

    def _holder(self, remote_id: str) -> tuple[str, bool] | None:
        """The subject linked to this account here, if any, and whether a change of it is queued for this target.
        The target's links are read once, at the first adoption (an initial sync may adopt every account: one
        query per adoption read them all each time), then kept up to date by ``finish``; a subject found there is
        confirmed in the vault, since an erasure drops links without this pusher."""
        with self.vault.read_connection() as conn:
            if self._owners is None:
                self._owners = links.owners(conn, self.config.id)
            if remote_id not in self._owners:
                return None
            owner = links.holder(conn, self.config.id, remote_id)
            return None if owner is None else (owner, outbox.has_pending(conn, self.config.id, owner))

    def finish(self, conn: Connection, item: outbox.WorkItem, outcome: Outcome) -> None:
        """Record a push in the caller's transaction: link, outbox state, audit (the dispatcher batches these)."""
        if item.operation == "upsert":
            outbox.supersede_older_upserts(conn, item)
        if outcome.operation in LINKED and outcome.remote_id is not None:
            links.save(
                conn, self.config.id, item.resource_type, item.resource_id, outcome.remote_id, outcome.version or 0
            )
            if self._owners is not None:
                self._owners[outcome.remote_id] = item.resource_id
            newly_linked = outcome.operation != "replaced"
            if newly_linked and item.resource_type == "User" and self.mapping.sends("Group"):
                # Groups pushed before this member was linked here (created or adopted) can now list it.
                for group_id in links.groups_of(conn, item.resource_id):
                    outbox.enqueue_for(conn, self.config.id, "Group", group_id, "upsert")
        elif outcome.operation == "deleted":
            links.drop(conn, self.config.id, item.resource_id)
        outbox.complete(conn, item, outcome.status)
        if outcome.operation != "skipped":
            outbox.settle_failed(conn, item)
            details = _details(self.config.name, outcome)
            # A subject erased while this push was in flight must not be named to the trail again: that would
            # give it a new pseudonym key holding its id. The erasure's own steps cover this target.
            gone = not repo.existing_types(conn, [item.resource_id])
            subject = None if gone and item.operation == "upsert" else item.resource_id
            append(conn, Event(f"provision.{outcome.operation}", ACTOR, subject=subject, details=details))
            if outcome.held_beyond:  # the recipient keeps data it may not hold: a finding for the DPO and the SIEM
                kept = {"target": self.config.name, "attributes": outcome.held_beyond, "reason": outcome.why_held}
                append(conn, Event("provision.beyond_mapping", ACTOR, "failure", subject=subject, details=kept))

    # -- the push --------------------------------------------------------------------------------------
    async def run(self, item: outbox.WorkItem, may_exist: bool = True) -> Outcome:
        """Push one item; the caller records the outcome with ``finish``.

        ``may_exist`` False says no earlier attempt can have reached the target (first try since this process
        queued it): a User is then created straight away, and a 409 still finds the existing account.
        """
        row, link, members, in_scope = await asyncio.to_thread(self._read, item)
        if item.operation == "delete":
            outcome = await self._delete(item, link)
        elif not in_scope:  # never sent to a recipient it does not concern; taken back if it was (erase mode)
            outcome = await self._delete(item, link)
            outcome.left_scope = outcome.operation != "skipped"
        else:
            outcome = await self._upsert(item, row, link, members, may_exist)
        outcome.version = row.version if row else None
        return outcome

    async def _upsert(
        self,
        item: outbox.WorkItem,
        row: repo.StoredResource | None,
        link: links.Link | None,
        members: dict[str, str],
        may_exist: bool,
    ) -> Outcome:
        if row is None or not self.mapping.sends(item.resource_type):
            return Outcome("skipped")  # deleted meanwhile (a delete item follows), or not for this target
        payload = self.mapping.payload(item.resource_type, json.loads(row.document))
        if item.resource_type == "Group" and self.mapping.sends_members():  # memberships are stored relationally
            payload["members"] = [{"value": remote} for remote in members.values()]
        names = _attribute_names(payload)
        if link is not None:
            answer = await self.client.replace(item.resource_type, link.remote_id, payload)
            if answer.status != 404:
                return await self._trimmed(item.resource_type, payload, answer,
                                           Outcome("replaced", answer.status, link.remote_id, names))  # fmt: skip
            if not await asyncio.to_thread(self._still_held, item):
                # Gone at the target because it was erased (or deleted) here while this push was on its way: the
                # erasure deleted the account first. Creating it again would bring back what it removed.
                return Outcome("skipped")
        return await self._create(item, payload, names, may_exist)

    async def _create(
        self, item: outbox.WorkItem, payload: dict[str, Any], names: list[str], may_exist: bool
    ) -> Outcome:
        """A subject with no account linked at the target (or one the target no longer has): adopt the account the
        target already holds for it, or create one."""
        resource_type = item.resource_type
        # userName is unique at any RFC 7643 server, so a first create of a User can skip the search (a 409 below
        # still finds the account); a group's displayName is not unique, and a retry may follow a lost answer.
        must_search = may_exist or resource_type != "User"
        match = await self._match(resource_type, payload) if must_search else None
        if match is not None:
            return await self._adopt(item, match, payload, names, FOUND_BY_SEARCH)
        try:
            answer = await self.client.create(resource_type, payload)
        except Rejected as exc:
            if exc.status != 409:
                raise
            match = await self._match(resource_type, payload)  # created by someone else meanwhile
            if match is None:
                raise
            return await self._adopt(item, match, payload, names, FOUND_AFTER_409)
        created_id = (answer.body or {}).get("id")
        if not created_id:
            raise Rejected("the target's create answer has no id", answer.status)
        return Outcome("created", answer.status, str(created_id), names)

    async def _match(self, resource_type: str, payload: dict[str, Any]) -> Match | None:
        """An account the target already holds for this subject: by externalId first, then the natural key."""
        if payload.get("externalId"):
            same = await self.client.find(resource_type, "externalId", str(payload["externalId"]))
            if same:
                return Match(same, "externalId")
        key = "userName" if resource_type == "User" else "displayName"
        found = await self.client.lookup(resource_type, key, str(payload[key])) if payload.get(key) else None
        if found is None:
            return None
        theirs, ours = found.get("externalId"), payload.get("externalId")
        if ours and theirs and theirs != ours:
            # Another identity's account (a leaver's, kept at the application, whose userName was given to someone
            # new): adopted, the new person inherited the old one's account there, its data and its access.
            raise Rejected(f"the target holds an account with this {key} for another identity (its externalId "
                           "differs): not adopted; resolve it at the target, then repair", 409)  # fmt: skip
        return Match(str(found["id"]), key)

    async def _adopt(
        self, item: outbox.WorkItem, match: Match, payload: dict[str, Any], names: list[str], found: str
    ) -> Outcome:
        """Link an account found at the target and send it the subject's mapped attributes. "Adopted", not
        "replaced" (an update of an account already linked): the trail called such a link a replacement, though
        Custos had never linked that account before. After a lost answer the account may be one an earlier
        attempt of Custos created; Custos cannot tell, so the trail says how it was found, not who made it.

        An account linked here to another subject is never adopted: it is that subject's (a person renamed at the
        IdP, the rename not yet at the target, while someone new took the old userName). Adopted, it was linked
        to both, held one person's data for the other, and an erasure of either deleted it. The push is tried
        again later while a change of that subject is queued (once it reaches the target, the create goes
        through); with none queued (a leaver's account deactivated there, its link kept) it is a conflict for an
        operator: adopted, the newcomer inherited the leaver's account."""
        resource_type = item.resource_type
        owner = await asyncio.to_thread(self._holder, match.remote_id)
        if owner is not None and owner[0] != item.resource_id:
            said = f"the account found at the target by {match.by} is linked to another subject here"
            if owner[1]:
                raise Retryable(f"{said} (waiting for that subject's change to reach the target)", 409)
            raise Rejected(f"{said}: not adopted; resolve it at the target, then repair", 409)
        answer = await self.client.replace(resource_type, match.remote_id, payload)
        outcome = Outcome("adopted", answer.status, match.remote_id, names, found=found, matched_by=match.by)
        return await self._trimmed(resource_type, payload, answer, outcome)

    async def _trimmed(self, resource_type: str, payload: dict[str, Any], answer: Answer, outcome: Outcome) -> Outcome:
        """A User just PUT, with what it held beyond the mapping removed and read back (a target may merge a PUT:
        app/targets/trim.py). Groups are not compared by the reconcile, and their members are not in the payload."""
        if resource_type != "User" or outcome.remote_id is None:
            return outcome
        trimmed = await trim(self.client, outcome.remote_id, payload, answer)
        outcome.removed, outcome.held_beyond, outcome.why_held = trimmed.removed, trimmed.kept, trimmed.why
        return outcome

    async def _delete(self, item: outbox.WorkItem, link: links.Link | None) -> Outcome:
        if link is None:
            return Outcome("skipped")  # never provisioned here
        if self.config.erase_mode == "manual":
            return Outcome("skipped")  # the erasure workflow asks an operator to confirm
        if self.config.erase_mode == "deactivate":
            body = {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            }
            answer = await self.client.request("PATCH", f"/{item.resource_type}s/{link.remote_id}", body)
            return Outcome("deactivated", answer.status, link.remote_id)
        answer = await self.client.delete(item.resource_type, link.remote_id)
        check = await self.client.get(item.resource_type, link.remote_id)
        if check.status != 404:
            # It said it deleted, yet still serves the account: not erased, and an operator must know. The failure
            # carries the DELETE's own status: without one it was recorded as None, which reads as "no answer".
            raise StillServed(
                f"verification failed: the target answered DELETE with {answer.status} "
                f"but still serves the resource (GET {check.status})",
                answer.status,
            )
        return Outcome("deleted", answer.status, link.remote_id)


def _details(target: str, outcome: Outcome) -> dict[str, Any]:
    """A push's trail details: names of attributes and how an account was found, never a value."""
    details: dict[str, Any] = {"target": target, "operation": outcome.operation, "status": outcome.status}
    if outcome.attributes:
        details["attributes"] = outcome.attributes
    if outcome.left_scope:
        details["reason"] = "left the recipient's scope"
    if outcome.found is not None:
        details["found"] = outcome.found
        details["matched_by"] = outcome.matched_by
    if outcome.removed:
        details["removed"] = outcome.removed  # read back without them: never what was merely asked
    if outcome.held_beyond:
        details["held_beyond"] = outcome.held_beyond
    return details


class StillServed(Rejected):
    """The target accepted a DELETE yet still serves the account: a recipient holding data it was told to delete
    (GDPR Art. 19), which the trail and the SIEM name as such (``provision.verification_failed``), not as one more
    failed push."""


def record_failure(
    conn: Connection, item: outbox.WorkItem, target: str, error: str, status: int | None, still_served: bool = False
) -> None:
    outbox.fail(conn, item, error, status, item.attempts + 1, datetime.now(UTC))
    details = {"target": target, "operation": item.operation, "status": status, "error": error[:200]}
    append(conn, Event("provision.verification_failed" if still_served else "provision.failed", ACTOR, "failure",
                       subject=item.resource_id, details=details))  # fmt: skip
