"""SCIM operations over the mirror, independent of HTTP: dict in, ScimResponse out.

Every write runs in one vault transaction and publishes a ResourcesChanged event after commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scim2_models import Context
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from app.core.events import EventBus, ResourcesChanged
from app.scim import repository as repo
from app.scim.errors import ScimError, invalid_value, not_found
from app.scim.projection import parse_list, project, wants_related
from app.scim.schema import schema_for
from app.scim.tolerance import normalise_patch, normalise_resource
from app.scim.validation import apply_patch, stored_document, validate_resource
from app.store.hygiene import WalJanitor
from app.store.models import ScimResource
from app.store.vault import Vault

log = logging.getLogger(__name__)

RESOURCE_TYPES = ("User", "Group")


@dataclass
class ScimResponse:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None


def _matches(header: str, current: str) -> bool:
    candidates = [item.strip() for item in header.split(",")]
    bare = current.removeprefix("W/")
    return any(c == "*" or c.removeprefix("W/") == bare for c in candidates)


class ScimService:
    def __init__(self, vault: Vault, base_url: str = "", bus: EventBus | None = None) -> None:
        self.vault = vault
        self.base_url = base_url.rstrip("/")
        self.bus = bus or EventBus()
        self.janitor = WalJanitor(vault)

    # -- reads -------------------------------------------------------------------------------------
    def get(
        self,
        resource_type: str,
        resource_id: str,
        attributes: str | None = None,
        excluded: str | None = None,
        preconditions: Preconditions = Preconditions(),
    ) -> ScimResponse:
        include, exclude = parse_list(attributes), parse_list(excluded)
        with self.vault.read_session() as session:
            row = repo.load(session, resource_type, resource_id)
            if row is None:
                raise not_found(resource_type)
            tag = repo.etag(row)
            if preconditions.if_none_match and _matches(preconditions.if_none_match, tag):
                return ScimResponse(304, None, {"ETag": tag})
            related = None
            if wants_related(resource_type, include, exclude):
                related = repo.memberships(session, resource_type, [row.id], self.base_url).get(row.id)
            document = repo.to_scim(row, self.base_url, related)
        body = project(document, schema_for(resource_type), include, exclude)
        return ScimResponse(200, body, {"ETag": tag, "Location": document["meta"]["location"]})

    # -- writes ------------------------------------------------------------------------------------
    def create(self, resource_type: str, body: dict[str, Any]) -> ScimResponse:
        model = validate_resource(
            resource_type, normalise_resource(resource_type, body), Context.RESOURCE_CREATION_REQUEST
        )
        document = stored_document(model)
        members = _member_refs(body) if resource_type == "Group" else []
        resource_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        with self.vault.write_session() as session:
            self._check_unique(session, resource_type, document, None)
            self._check_members(session, members)
            try:
                repo.insert_resource(session, resource_type, resource_id, document, now)
            except IntegrityError as exc:
                raise _uniqueness() from exc
            if members:
                repo.replace_members(session, resource_id, self._typed_members(session, members))
        self._publish(resource_type, created=(resource_id,))
        response = self.get(resource_type, resource_id)
        response.status = 201
        return response

    def replace(
        self, resource_type: str, resource_id: str, body: dict[str, Any], preconditions: Preconditions = Preconditions()
    ) -> ScimResponse:
        model = validate_resource(
            resource_type, normalise_resource(resource_type, body), Context.RESOURCE_REPLACEMENT_REQUEST
        )
        document = stored_document(model)
        members = _member_refs(body) if resource_type == "Group" else None
        with self.vault.write_session() as session:
            row = self._load_for_write(session, resource_type, resource_id, preconditions)
            _keep_omitted_active(resource_type, body, row, document)
            self._check_unique(session, resource_type, document, resource_id)
            try:
                repo.update_resource(session, row, document, datetime.now(UTC))
            except IntegrityError as exc:
                raise _uniqueness() from exc
            if members is not None:
                self._check_members(session, members)
                repo.replace_members(session, resource_id, self._typed_members(session, members))
        self._publish(resource_type, modified=(resource_id,))
        return self.get(resource_type, resource_id)

    def patch(
        self, resource_type: str, resource_id: str, body: dict[str, Any], preconditions: Preconditions = Preconditions()
    ) -> ScimResponse:
        if not isinstance(body, dict):
            raise ScimError(400, "A PATCH body is a JSON object.", "invalidSyntax")
        with self.vault.write_session() as session:
            row = self._load_for_write(session, resource_type, resource_id, preconditions)
            related = repo.memberships(session, resource_type, [row.id], self.base_url).get(row.id)
            current = repo.to_scim(row, self.base_url, related)
            current.pop("meta", None)
            if resource_type == "User":
                current.pop("groups", None)  # readOnly, computed; not patchable
            model, changed = apply_patch(resource_type, current, normalise_patch(resource_type, body, current))
            document = stored_document(model)
            if changed:
                self._check_unique(session, resource_type, document, resource_id)
                try:
                    repo.update_resource(session, row, document, datetime.now(UTC))
                except IntegrityError as exc:
                    raise _uniqueness() from exc
                if resource_type == "Group":
                    members = _member_refs(model.model_dump())
                    self._check_members(session, members)
                    repo.replace_members(session, resource_id, self._typed_members(session, members))
        if changed:
            self._publish(resource_type, modified=(resource_id,))
        return self.get(resource_type, resource_id)

    def delete(
        self, resource_type: str, resource_id: str, preconditions: Preconditions = Preconditions()
    ) -> ScimResponse:
        """Hard delete: the row, its index values and its memberships, with secure_delete on."""
        with self.vault.write_session() as session:
            self._load_for_write(session, resource_type, resource_id, preconditions)
            session.execute(delete(ScimResource).where(ScimResource.id == resource_id))
        self.janitor.request()
        self._publish(resource_type, deleted=(resource_id,))
        return ScimResponse(204)

    # -- helpers -----------------------------------------------------------------------------------
    def _load_for_write(
        self, session: Any, resource_type: str, resource_id: str, preconditions: Preconditions
    ) -> ScimResource:
        row = repo.load(session, resource_type, resource_id)
        if row is None:
            raise not_found(resource_type)
        if preconditions.if_match and not _matches(preconditions.if_match, repo.etag(row)):
            raise ScimError(412, "The resource changed since the version given in If-Match.")
        return row

    @staticmethod
    def _check_unique(session: Any, resource_type: str, document: dict[str, Any], own_id: str | None) -> None:
        if resource_type != "User":
            return
        user_name = document.get("userName")
        if not isinstance(user_name, str) or not user_name.strip():
            raise ScimError(400, "'userName' is required.", "invalidValue")
        clash = select(ScimResource.id).where(
            ScimResource.resource_type == "User", ScimResource.user_name_ci == user_name.lower()
        )
        if own_id is not None:
            clash = clash.where(ScimResource.id != own_id)
        if session.scalar(select(exists(clash))):
            raise _uniqueness()

    @staticmethod
    def _check_members(session: Any, members: list[str]) -> None:
        if not members:
            return
        found = repo.existing_types(session, members)
        missing = [m for m in members if m not in found]
        if missing:
            raise invalid_value(f"Group member '{missing[0]}' is not a known User or Group.")

    @staticmethod
    def _typed_members(session: Any, members: list[str]) -> list[tuple[str, str]]:
        found = repo.existing_types(session, members)
        return [(member, found[member]) for member in members]

    def _publish(self, resource_type: str, **changes: tuple[str, ...]) -> None:
        self.bus.publish(ResourcesChanged(resource_type, **changes))


def _keep_omitted_active(resource_type: str, body: dict[str, Any], row: ScimResource, document: dict[str, Any]) -> None:
    """A PUT that leaves out ``active`` keeps the current value (RFC 7644 §3.5.1 lets us choose).

    PUT-only IdPs (OneLogin, PingFederate) build bodies from templates that may omit ``active``; clearing it
    would silently change an account's state, which is never what such a request means.
    """
    if resource_type != "User" or any(key.lower() == "active" for key in body):
        return
    current = row.active
    if current is not None:
        document["active"] = current


def _uniqueness() -> ScimError:
    return ScimError(409, "A User with this userName already exists.", "uniqueness")


def _member_refs(body: dict[str, Any]) -> list[str]:
    members = body.get("members") or []
    if not isinstance(members, list):
        raise invalid_value("'members' must be a list.")
    refs: list[str] = []
    for member in members:
        value = member.get("value") if isinstance(member, dict) else None
        if not isinstance(value, str) or not value:
            raise invalid_value("Each group member needs a 'value' holding a resource id.")
        if value not in refs:
            refs.append(value)
    return refs
