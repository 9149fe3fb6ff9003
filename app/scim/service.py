"""SCIM operations over the mirror, independent of HTTP: dict in, ScimResponse out.

Every write runs in one vault transaction and publishes a ResourcesChanged event after commit.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from scim2_models import Context
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.core.events import EventBus, ResourcesChanged
from app.core.ids import new_resource_id
from app.directory import render
from app.directory import repository as repo
from app.directory.control_characters import refuse_control_characters
from app.directory.errors import ScimError, invalid_value, not_found
from app.directory.identity_strings import check_user_name
from app.directory.input_guard import (
    refuse_grown_values,
    refuse_oversized_patch,
    refuse_oversized_values,
    refuse_unpaired_surrogates,
)
from app.directory.manager_ref import with_reachable_manager
from app.directory.projection import WHOLE, Projection, parse_list, project, wants_related
from app.directory.query import Listing, QueryParams, search, search_listing
from app.directory.schema import schema_for
from app.directory.validation import apply_patch, require_declared_schema, stored_document, validate_resource
from app.erasure import references, source, tombstones
from app.feed import outbox
from app.policy.in_force import PolicyInForce
from app.scim.members import MembershipEdit, membership_edit, split_membership, touches_members
from app.scim.tolerance import normalise_patch, normalise_resource
from app.store.group_commit import GroupCommitWriter, run_in_savepoint
from app.store.hygiene import WalJanitor
from app.store.vault import Vault
from app.targets import sync

log = logging.getLogger(__name__)

RESOURCE_TYPES = ("User", "Group")
T = TypeVar("T")
Answer = tuple[dict[str, Any], dict[str, str]]  # a write's response body and headers


@dataclass
class ScimResponse:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class EncodedResponse:
    """A response whose body is already JSON bytes (empty: no body)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    members_read: bool = False  # a Group answered with its member list: the request's entry says so (decision 0049)


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None


def _matches(header: str, current: str) -> bool:
    candidates = [item.strip() for item in header.split(",")]
    bare = current.removeprefix("W/")
    return any(c == "*" or c.removeprefix("W/") == bare for c in candidates)


class OutsideSchema(ScimError):
    """Personal data outside the agreed schema, in ``reject`` mode: 400 invalidValue naming (never quoting) it."""

    def __init__(
        self, resource_type: str, operation: str, names: list[str], version: int, paths: list[str] | None = None
    ) -> None:
        # Named with the element's canonical type where it has one (client text never is): with a type filter,
        # 'phoneNumbers.value' alone would not say that only the mobile number was refused.
        shown = paths or names
        listed = ", ".join(f"'{name}'" for name in shown[:10]) + (" …" if len(shown) > 10 else "")
        noun = "is" if len(shown) == 1 else "are"
        super().__init__(
            400,
            f"{listed} {noun} outside the agreed schema (policy version {version}); nothing was stored.",
            "invalidValue",
        )
        self.event_details = {
            "resource_type": resource_type,
            "operation": operation,
            "attributes": sorted(set(names)),
            "count": len(names),
            "policy_version": version,
            # The same names with the multi-valued element's canonical type (phoneNumbers[type eq "mobile"]):
            # what "Outside the policy" groups by, and what a catalogue entry with a type filter would admit.
            "paths": paths if paths is not None else sorted(set(names)),
        }


class ScimService:
    def __init__(
        self,
        vault: Vault,
        base_url: str = "",
        bus: EventBus | None = None,
        policy: PolicyInForce | None = None,
        *,
        writer: GroupCommitWriter | None = None,
        janitor: WalJanitor | None = None,
    ) -> None:
        """``writer`` and ``janitor`` are the runtime's (app/runtime.py), which stops them after the jobs; a
        service built alone (tests, scripts) makes and owns its own, and ``close`` stops those."""
        self.vault = vault
        self.base_url = base_url.rstrip("/")
        self.bus = bus or vault.events
        self.policy = policy or PolicyInForce(vault)
        self.policy.get()  # a vault without a policy gets the shipped default now, not on the first request
        self._owns_writer = writer is None
        self.janitor = janitor or WalJanitor(vault)
        self.writer = writer or GroupCommitWriter(vault)
        self._local = threading.local()  # set while the writer thread runs a multi-operation transaction

    # -- reads -------------------------------------------------------------------------------------
    def get(
        self,
        resource_type: str,
        resource_id: str,
        attributes: str | None = None,
        excluded: str | None = None,
        preconditions: Preconditions = Preconditions(),
    ) -> ScimResponse:
        found = self._read(resource_type, resource_id, attributes, excluded, preconditions)
        if isinstance(found, ScimResponse):
            return found
        row, related, include, exclude, headers = found
        body = project(repo.to_scim(row, self.base_url, related), schema_for(resource_type), include, exclude)
        return ScimResponse(200, body, headers)

    def get_json(
        self,
        resource_type: str,
        resource_id: str,
        attributes: str | None = None,
        excluded: str | None = None,
        preconditions: Preconditions = Preconditions(),
    ) -> EncodedResponse:
        """``get`` as the bytes of the response body: the stored JSON spliced with id, meta and memberships when
        no projection is asked (app/directory/render.py), never parsed and re-encoded."""
        found = self._read(resource_type, resource_id, attributes, excluded, preconditions)
        if isinstance(found, ScimResponse):
            return EncodedResponse(found.status, b"", found.headers)
        row, related, include, exclude, headers = found
        if include or exclude:
            document = repo.to_scim(row, self.base_url, related)
            content = render.dumps(project(document, schema_for(resource_type), include, exclude)).encode()
        else:
            content = render.resource_bytes(row, self.base_url, related)
        members_read = resource_type == "Group" and wants_related("Group", include, exclude)
        return EncodedResponse(200, content, headers, members_read)

    def _read(
        self,
        resource_type: str,
        resource_id: str,
        attributes: str | None,
        excluded: str | None,
        preconditions: Preconditions,
    ) -> ScimResponse | tuple[repo.StoredResource, Any, list[str], list[str], dict[str, str]]:
        """The row, its memberships (when the projection shows them) and the headers, or the 304 answer."""
        include, exclude = parse_list(attributes), parse_list(excluded)
        with self.vault.read_connection() as conn:
            row = repo.load(conn, resource_type, resource_id)
            if row is None:
                raise not_found(resource_type)
            tag = repo.etag(row)
            if preconditions.if_match and not _matches(preconditions.if_match, tag):
                # RFC 9110 §13.2.2: If-Match is evaluated first, on reads too; a client asking for one version
                # must not be given another as if it were that one.
                raise ScimError(412, "The resource is not at the version given in If-Match.", headers={"ETag": tag})
            if preconditions.if_none_match and _matches(preconditions.if_none_match, tag):
                return ScimResponse(304, None, {"ETag": tag})
            related = None
            if wants_related(resource_type, include, exclude):
                related = repo.memberships(conn, resource_type, [row.id], self.base_url).get(row.id)
        location = f"{self.base_url}{schema_for(resource_type).endpoint}/{row.id}"
        return row, related, include, exclude, {"ETag": tag, "Location": location}

    def search(self, resource_types: tuple[str, ...], params: QueryParams) -> dict[str, Any]:
        """One page of a list or ``.search``, read through the policy in force (a filter or sort on an attribute
        the agreed schema does not hold is refused), as every read of the endpoint is."""
        return search(self.vault, self.policy.get().minimiser, self.base_url, resource_types, params)

    def search_listing(self, resource_types: tuple[str, ...], params: QueryParams) -> Listing:
        """The same page as the bytes of its ListResponse (what the endpoint sends, assembled from the stored JSON
        without parsing it again, app/directory/render.py), with the ids it returned: the request's audit entry
        names the people a list read returned (a breach's scope counts them)."""
        return search_listing(self.vault, self.policy.get().minimiser, self.base_url, resource_types, params)

    # -- writes ------------------------------------------------------------------------------------
    def create(self, resource_type: str, body: dict[str, Any], projection: Projection = WHOLE) -> ScimResponse:
        return self.prepare_create(resource_type, body, projection=projection)()

    def prepare_create(
        self,
        resource_type: str,
        body: dict[str, Any],
        resource_id: str | None = None,
        projection: Projection = WHOLE,
    ) -> Callable[[], ScimResponse]:
        """Check and validate a create now; the returned call writes it.

        Bulk prepares every create before it takes the single writer, so validation does not hold it, and gives
        the ``resource_id`` it chose so that references to the new resource resolve up front.
        """
        _screen(resource_type, body)
        normalised = normalise_resource(resource_type, body)  # member names canonical: {"Value": id} is a member
        model = validate_resource(resource_type, normalised, Context.RESOURCE_CREATION_REQUEST)
        document = stored_document(resource_type, model)
        _require_name(resource_type, document, {})
        refuse_control_characters(document, {})
        members = _member_refs(normalised) if resource_type == "Group" else []
        new_id = resource_id or new_resource_id()
        return lambda: self._write_create(resource_type, new_id, document, members, projection)

    def _write_create(
        self,
        resource_type: str,
        resource_id: str,
        document: dict[str, Any],
        members: list[str],
        projection: Projection,
    ) -> ScimResponse:
        now = datetime.now(UTC)
        actor = current_actor.get()
        related = repo.Related()

        def work(conn: Connection) -> Answer:
            if resource_type == "User":  # an erased person sent again: refused, not re-created
                tombstones.check(conn, "create", document)
            kept, keep_members = self._minimised(conn, resource_type, "create", document, bool(members), actor)
            kept = with_reachable_manager(conn, kept)
            typed = self._typed_members(conn, members if keep_members else [])
            self._record(conn, "created", resource_type, resource_id, actor)
            try:
                row = repo.insert_resource(conn, resource_type, resource_id, kept, now)
            except IntegrityError as exc:
                raise _uniqueness(exc) from exc
            if typed:
                self._replace_members(conn, resource_id, typed, now, related)
            # A new User: nothing can reference a resource this new, so it has no groups to read.
            return self._representation(conn, row, projection, related=bool(typed))

        output = self._execute_enforced(work, actor)
        self._publish(resource_type, created=(resource_id,))
        self._publish_related(related)
        return ScimResponse(201, *output)

    def replace(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        preconditions: Preconditions = Preconditions(),
        projection: Projection = WHOLE,
    ) -> ScimResponse:
        return self.prepare_replace(resource_type, resource_id, body, preconditions, projection)()

    def prepare_replace(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        preconditions: Preconditions = Preconditions(),
        projection: Projection = WHOLE,
    ) -> Callable[[], ScimResponse]:
        """Check and validate a PUT now; the returned call writes it (Bulk prepares before taking the writer).

        What depends on the stored resource (If-Match, the previous userName, tombstones) is checked when it runs.
        """
        _screen(resource_type, body)
        normalised = normalise_resource(resource_type, body)
        model = validate_resource(resource_type, normalised, Context.RESOURCE_REPLACEMENT_REQUEST)
        document = stored_document(resource_type, model)
        members = _member_refs(normalised) if resource_type == "Group" else None
        return lambda: self._write_replace(
            resource_type, resource_id, body, document, members, (preconditions, projection)
        )

    def _write_replace(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        document: dict[str, Any],
        members: list[str] | None,
        asked: tuple[Preconditions, Projection],
    ) -> ScimResponse:
        actor = current_actor.get()
        preconditions, projection = asked
        related = repo.Related()

        def work(conn: Connection) -> tuple[Answer, bool]:
            nonlocal members
            row = self._load_for_write(conn, resource_type, resource_id, preconditions)
            stored = json.loads(row.document)
            _require_name(resource_type, document, stored)
            refuse_control_characters(document, stored)
            if resource_type == "User":  # a rename onto an erased person's identifiers
                tombstones.check(conn, "replace", document, stored)
            kept, keep_members = self._minimised(conn, resource_type, "replace", document, bool(members), actor)
            kept = with_reachable_manager(conn, kept)
            if not keep_members:
                members = []
            _keep_omitted_active(resource_type, body, row, kept)
            now = datetime.now(UTC)
            moved = members is not None and self._replace_members(
                conn, resource_id, self._typed_members(conn, members, resource_id), now, related
            )
            if kept == stored and not moved:  # the resource as stored: no new version, nothing to record or push
                return self._representation(conn, row, projection), False
            self._record(conn, "replaced", resource_type, resource_id, actor)
            try:
                row = (
                    repo.update_resource(conn, row, kept, now, related)
                    if kept != stored
                    else repo.touch(conn, row, now)
                )
            except IntegrityError as exc:
                raise _uniqueness(exc) from exc
            return self._representation(conn, row, projection), True

        output, changed = self._execute_enforced(work, actor, (resource_type, resource_id, "PUT", body))
        if changed:
            self._publish(resource_type, modified=(resource_id,))
            self._publish_related(related)
        return ScimResponse(200, *output)

    def patch(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        preconditions: Preconditions = Preconditions(),
        projection: Projection = WHOLE,
    ) -> ScimResponse:
        if not isinstance(body, dict):
            raise ScimError(400, "A PATCH body is a JSON object.", "invalidSyntax")
        refuse_unpaired_surrogates(body, "The PATCH request")
        refuse_oversized_patch(body)  # bounded before the writer is taken: the operations run inside it
        actor = current_actor.get()
        edit = membership_edit(body) if resource_type == "Group" else None
        with_members = resource_type == "Group" and touches_members(body)
        split = split_membership(body) if edit is None and with_members else None

        # A Group's member list is read for the answer after the commit, off the single writer (see _answer_later).
        later = resource_type == "Group" and projection.wants_related("Group") and self._in_writer() is None
        related = repo.Related()

        def work(conn: Connection) -> tuple[Answer | repo.StoredResource, bool]:
            row = self._load_for_write(conn, resource_type, resource_id, preconditions)
            by_id = self.policy.for_connection(conn).minimiser.holds_members()
            if edit is not None and by_id:
                row, changed = self._edit_members(conn, row, edit, actor, related)
            elif split is not None and by_id:
                rest, members = split
                row, changed = self._apply_patch(conn, row, rest, False, actor, related)
                row, moved = self._edit_members(conn, row, members, actor, related, recorded=changed)
                changed = changed or moved
            else:
                row, changed = self._apply_patch(conn, row, body, with_members, actor, related)
            return (row if later else self._representation(conn, row, projection)), changed

        output, changed = self._execute_enforced(work, actor, (resource_type, resource_id, "PATCH", body))
        if changed:
            self._publish(resource_type, modified=(resource_id,))
            self._publish_related(related)
        if isinstance(output, repo.StoredResource):
            return self._answer_later(output, projection)
        return ScimResponse(200, *output)

    def _answer_later(self, written: repo.StoredResource, projection: Projection) -> ScimResponse:
        """A Group PATCH's answer with its members, read after the commit on a reader's snapshot.

        Read in the write's transaction, a group of 50,000 members held the single writer (and every write batched
        with it) for about 0.3 s per one-member change; the edit itself reads only the rows it names. The snapshot
        normally holds the version written; if another write to the group committed in between, the answer is that
        later version with its own ETag (body and ETag always agree), and if the group was deleted meanwhile there
        is nothing left to show: 204 (RFC 7644 §3.5.2 allows it for a PATCH that succeeded)."""
        with self.vault.read_snapshot() as conn:  # the row and its members from one snapshot
            row = repo.load(conn, "Group", written.id)
            if row is None:
                return ScimResponse(204)
            return ScimResponse(200, *self._representation(conn, row, projection))

    def delete(
        self, resource_type: str, resource_id: str, preconditions: Preconditions = Preconditions()
    ) -> ScimResponse:
        """Hard delete: the row, its index values and its memberships, with secure_delete on; and, as an erasure
        does, every other user's reference to it (manager), recorded and queued for the targets in the same
        transaction, so that the deleted user's id is neither kept nor served back as a dangling reference."""

        actor = current_actor.get()
        related = repo.Related()

        def work(conn: Connection) -> None:
            self._load_for_write(conn, resource_type, resource_id, preconditions)
            self._record(conn, "deleted", resource_type, resource_id, actor)
            groups = repo.delete_resource(conn, resource_id, datetime.now(UTC), related)
            if resource_type == "User":
                references.clear(conn, resource_id)
            outbox.enqueue_groups(conn, groups)  # each group it was in, pushed again without it

        self._execute_enforced(work, actor, (resource_type, resource_id, "DELETE", None))
        self.janitor.request()
        self._publish(resource_type, deleted=(resource_id,))
        self._publish_related(related)
        return ScimResponse(204)

    def in_one_transaction(self, operations: Callable[[], T]) -> T:
        """Run several service calls in one group transaction, each in its own savepoint (used by Bulk).

        Events are published once the transaction is committed. The operations run on the writer thread in the
        caller's context, so the audit trail names the client that sent them, not the writer ("system").
        """
        events: list[ResourcesChanged] = []
        context = contextvars.copy_context()

        def work(conn: Connection) -> T:
            self._local.conn, self._local.events = conn, events
            try:
                return operations()
            finally:
                self._local.conn, self._local.events = None, None

        result = self.writer.run(lambda conn: context.run(work, conn))
        for event in events:
            self.bus.publish(event)
        return result

    def _minimised(
        self, conn: Connection, resource_type: str, operation: str, document: dict[str, Any], members: bool, actor: str
    ) -> tuple[dict[str, Any], bool]:
        """The document as the agreed schema allows it, and whether group members may be kept.

        Judged by the policy version this transaction sees. ``reject`` raises OutsideSchema (recorded by
        _execute_enforced after the rollback); ``strip`` records the names it took out in this transaction.
        """
        active = self.policy.for_connection(conn)
        minimised = active.minimiser.minimise(resource_type, document)
        kept, removed, paths = minimised.kept, minimised.removed, minimised.paths
        keep_members = active.minimiser.holds_members()
        if members and not keep_members:
            removed.append("members")
            paths = sorted({*paths, "members"})
        if not removed:
            return kept, keep_members
        if active.policy.outside_schema == "reject":
            raise OutsideSchema(resource_type, operation, removed, active.version, paths)
        details = OutsideSchema(resource_type, operation, removed, active.version, paths).event_details
        append(conn, Event("scim.attributes.stripped", actor, details=details))
        return kept, keep_members

    @staticmethod
    def _record(conn: Connection, change: str, resource_type: str, resource_id: str, actor: str) -> None:
        """The change on the audit trail and as outbox work for every target, in the change's own transaction."""
        details = {"resource_type": resource_type}
        append(conn, Event(f"scim.resource.{change}", actor, subject=resource_id, details=details))
        outbox.enqueue(conn, resource_type, resource_id, "delete" if change == "deleted" else "upsert")

    def _execute_enforced(
        self, work: Callable[[Connection], T], actor: str, target: tuple[str, str, str, Any] | None = None
    ) -> T:
        """Run a write; a refusal (data outside the schema, an erased person sent again) is put on the audit
        trail after its rollback. ``target`` (type, id, method, body) of a write to an existing resource: a 404
        there may be the IdP removing or blocking a person Custos erased (app/erasure/source.py)."""
        try:
            return self._execute(work)
        except OutsideSchema as refusal:
            event = Event("scim.attributes.rejected", actor, outcome="failure", details=refusal.event_details)
            self._execute(lambda conn: append(conn, event))
            raise
        except tombstones.ErasedSubjectReturned as returned:
            erased = returned  # the name bound by ``except`` is cleared when the block ends
            self._execute(lambda conn: self._refused(conn, erased, actor))
            raise
        except ScimError as error:
            if error.status == 404 and target is not None:
                self._source_seen(*target)
            raise

    @staticmethod
    def _refused(conn: Connection, erased: tombstones.ErasedSubjectReturned, actor: str) -> None:
        """Counted on the tombstones; a create of the person also says the IdP still holds them (the source)."""
        tombstones.record_refusal(conn, erased, actor)
        if erased.resent_active:
            source.returned(conn, erased.match.request_id, erased.match.tombstone_ids, datetime.now(UTC))

    def _source_seen(self, resource_type: str, resource_id: str, method: str, body: Any) -> None:
        if resource_type != "User" or (method != "DELETE" and not source.deactivates(resource_type, method, body)):
            return
        how = "DELETE" if method == "DELETE" else "active false"
        self._execute(lambda conn: source.seen(conn, resource_id, how, datetime.now(UTC)))

    def _in_writer(self) -> Connection | None:
        """The transaction of a multi-operation request (Bulk) this thread runs in, if any."""
        conn: Connection | None = getattr(self._local, "conn", None)
        return conn

    def _execute(self, work: Callable[[Connection], T]) -> T:
        conn = self._in_writer()
        if conn is None:
            return self.writer.run(work)
        return run_in_savepoint(conn, work)

    def close(self) -> None:
        """Finish queued writes and the pending WAL checkpoint (the runtime's writer: it does that itself)."""
        if not self._owns_writer:
            return
        self.writer.stop()
        if self.vault.is_open:
            self.janitor.flush()

    def _representation(
        self, conn: Connection, row: repo.StoredResource, projection: Projection, related: bool = True
    ) -> Answer:
        """The body a write answers with, as the client asked it (memberships read only when it shows them), and
        its headers (from the row: the body may leave out ``meta``)."""
        memberships = None
        if related and projection.wants_related(row.resource_type):
            memberships = repo.memberships(conn, row.resource_type, [row.id], self.base_url).get(row.id)
        schema = schema_for(row.resource_type)
        body = projection.apply(repo.to_scim(row, self.base_url, memberships), schema)
        return body, {"ETag": repo.etag(row), "Location": f"{self.base_url}{schema.endpoint}/{row.id}"}

    # -- helpers -----------------------------------------------------------------------------------
    def _load_for_write(
        self, conn: Connection, resource_type: str, resource_id: str, preconditions: Preconditions
    ) -> repo.StoredResource:
        row = repo.load_for_write(conn, resource_type, resource_id)
        if row is None:
            raise not_found(resource_type)
        if preconditions.if_match and not _matches(preconditions.if_match, repo.etag(row)):
            raise ScimError(412, "The resource changed since the version given in If-Match.")
        if preconditions.if_none_match and _matches(preconditions.if_none_match, repo.etag(row)):
            # RFC 9110 §13.1.2: on a write, a matching If-None-Match means "only if it is not this version".
            raise ScimError(412, "The resource matches If-None-Match; nothing was changed.")
        return row

    @staticmethod
    def _typed_members(conn: Connection, members: list[str], group_id: str | None = None) -> list[tuple[str, str]]:
        """Each member with its resource type, read once; 400 invalidValue naming the first that does not exist by
        its position (the value is what the client sent: a detail names attributes, never values). ``group_id``:
        the group being written, which cannot be its own member (a PUT or PATCH naming it was stored, and the
        group was listed among its own members, to targets too)."""
        if not members:
            return []
        own = next((index for index, member in enumerate(members) if member == group_id), None)
        if own is not None:
            raise invalid_value(f"'members[{own}].value' is this group itself; a group cannot be its own member.")
        found = repo.existing_types(conn, members)
        missing = next((index for index, member in enumerate(members) if member not in found), None)
        if missing is not None:
            raise invalid_value(f"'members[{missing}].value' is not a known User or Group; nothing was stored.")
        return [(member, found[member]) for member in members]

    def _apply_patch(
        self,
        conn: Connection,
        row: repo.StoredResource,
        body: dict[str, Any],
        with_members: bool,
        actor: str,
        touched: repo.Related,
    ) -> tuple[repo.StoredResource, bool]:
        """The general PATCH: the resource as a model, the operations applied to it, the result written back;
        the other resources it gives a new version go into ``touched``.

        A Group's members are in the model only when an operation may touch them (a rename of a group of 10,000
        need not read and validate them); a User's groups never are (readOnly and computed)."""
        resource_type = row.resource_type
        related = repo.memberships(conn, "Group", [row.id], self.base_url).get(row.id) if with_members else None
        current = repo.to_scim(row, self.base_url, related)
        current.pop("meta", None)
        current.pop("groups", None)  # a User's: never patchable (a Group has no such attribute)
        model, changed = apply_patch(resource_type, current, normalise_patch(resource_type, body, current))
        if not changed:
            return row, False
        document = stored_document(resource_type, model)
        refuse_grown_values(current, document)
        _require_name(resource_type, document, current)
        refuse_control_characters(document, current)
        if resource_type == "User":
            tombstones.check(conn, "patch", document, current)
        members = _member_refs(model.model_dump()) if with_members else []
        kept, keep_members = self._minimised(conn, resource_type, "patch", document, bool(members), actor)
        kept = with_reachable_manager(conn, kept)
        members = members if keep_members else []
        if _holds_already(row, kept, members if with_members else None, related):
            return row, False  # e.g. a member or an email added that was there already
        self._record(conn, "patched", resource_type, row.id, actor)
        now = datetime.now(UTC)
        try:
            row = repo.update_resource(conn, row, kept, now, touched)
        except IntegrityError as exc:
            raise _uniqueness(exc) from exc
        if with_members:
            self._replace_members(conn, row.id, self._typed_members(conn, members, row.id), now, touched)
        return row, True

    def _edit_members(
        self,
        conn: Connection,
        row: repo.StoredResource,
        edit: MembershipEdit,
        actor: str,
        related: repo.Related,
        recorded: bool = False,
    ) -> tuple[repo.StoredResource, bool]:
        """A membership-only PATCH (app/scim/members.py) by the rows it names; a new version only when a
        membership changed, as the general path gives one only when the resource changed. ``recorded``: the
        rest of the same PATCH already made the new version and its trail entry (one of each per request)."""
        added = self._typed_members(conn, list(edit.add), row.id)
        now = datetime.now(UTC)
        changed = repo.edit_members(conn, row.id, added, edit.remove, edit.clear, now, related)
        if not changed:
            return row, False
        sync.membership_changed(conn, self.policy.for_connection(conn).policy, changed)
        if recorded:
            return row, True
        self._record(conn, "patched", "Group", row.id, actor)
        return repo.touch(conn, row, now), True

    def _replace_members(
        self, conn: Connection, group_id: str, typed: list[tuple[str, str]], now: datetime, related: repo.Related
    ) -> list[str]:
        """Set the group's members (the users among those who join or leave get a new version: their ``groups``
        changed, and they go into ``related``); returns the ids whose membership changed."""
        changed = repo.replace_members(conn, group_id, typed, now, related)
        if changed:  # a member who joins or leaves a group may enter or leave a scoped recipient's scope
            sync.membership_changed(conn, self.policy.for_connection(conn).policy, changed)
        return changed

    def _publish_related(self, related: repo.Related) -> None:
        """The users and groups the write gave a new version besides its own resource (decision 0047): without
        their event the app's table kept showing their old Modified time until a manual refresh. A bounded list of
        ids each; ``more_modified`` when there were more (a rename of a large group)."""
        for event in related.changes():
            self._publish_event(event)

    def _publish(
        self,
        resource_type: str,
        *,
        created: tuple[str, ...] = (),
        modified: tuple[str, ...] = (),
        deleted: tuple[str, ...] = (),
    ) -> None:
        self._publish_event(ResourcesChanged(resource_type, created, modified, deleted))

    def _publish_event(self, event: ResourcesChanged) -> None:
        pending: list[ResourcesChanged] | None = getattr(self._local, "events", None)
        if pending is not None:
            pending.append(event)  # inside a multi-operation transaction: publish after its commit
        else:
            self.bus.publish(event)


def _keep_omitted_active(
    resource_type: str, body: dict[str, Any], row: repo.StoredResource, document: dict[str, Any]
) -> None:
    """A PUT that leaves out ``active`` keeps the current value (RFC 7644 §3.5.1 lets us choose).

    PUT-only IdPs (OneLogin, PingFederate) build bodies from templates that may omit ``active``; clearing it
    would silently change an account's state, which is never what such a request means.
    """
    if resource_type != "User" or any(key.lower() == "active" for key in body):
        return
    current = row.active
    if current is not None:
        document["active"] = current


def _uniqueness(exc: IntegrityError) -> ScimError:
    """The unique index on (resource_type, userName's comparison key) enforces uniqueness, also under races."""
    if "user_name_ci" not in str(exc.orig) and "uq_resource_user_name_ci" not in str(exc.orig):
        raise exc
    return ScimError(
        409,
        "A User with this userName already exists (userNames are compared after Unicode normalisation and case "
        "folding, RFC 8264).",
        "uniqueness",
    )


def _screen(resource_type: str, body: dict[str, Any]) -> None:
    """What must hold before a POST or PUT body is read at all: Unicode text, and the resource's own schema."""
    refuse_unpaired_surrogates(body, "The resource")
    require_declared_schema(resource_type, body)
    refuse_oversized_values(body)


def _require_name(resource_type: str, document: dict[str, Any], previous: dict[str, Any]) -> None:
    """A User has a userName that can serve as an identifier, a Group a displayName (RFC 7643 §4.1, §4.2: both
    required). A blank one is no name (RFC 7643 §2.5 reads an empty value as unassigned), yet the model takes ""
    and " " as given: a group nobody can tell apart would be stored and pushed to every target. A name stored
    before these rules may be kept while it does not change."""
    attribute = "userName" if resource_type == "User" else "displayName"
    name = document.get(attribute)
    if name == previous.get(attribute) and previous:
        return
    if not isinstance(name, str) or not name.strip():
        raise ScimError(400, f"'{attribute}' is required.", "invalidValue")
    if resource_type == "User":
        check_user_name(name)


def _holds_already(
    row: repo.StoredResource, document: dict[str, Any], members: list[str] | None, held: list[dict[str, Any]] | None
) -> bool:
    """Whether a patched document (and a Group's members, when the PATCH may touch them) are what is stored: the
    model reports a duplicate member or email appended as a change, yet nothing stored would change (duplicates
    are not stored, app/directory/validation.py), so there is no new version, audit entry or push."""
    if document != json.loads(row.document):
        return False
    return members is None or set(members) == {member["value"] for member in held or []}


def _member_refs(body: dict[str, Any]) -> list[str]:
    """The member ids in the order sent, each once. An insertion-ordered dict, not a list searched for each id:
    the list made a PUT of 10,000 members spend 2.7 s comparing ids (benchmarks/bench_group_scale.py)."""
    members = body.get("members") or []
    if not isinstance(members, list):
        raise invalid_value("'members' must be a list.")
    refs: dict[str, None] = {}
    for member in members:
        value = member.get("value") if isinstance(member, dict) else None
        if not isinstance(value, str) or not value:
            raise invalid_value("Each group member needs a 'value' holding a resource id.")
        refs[value] = None
    return list(refs)
