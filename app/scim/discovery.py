"""/ServiceProviderConfig, /ResourceTypes and /Schemas: advertising exactly what this server does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scim2_models import EnterpriseUser, Group, User

from app.directory.errors import ScimError
from app.directory.query import CURSOR_TIMEOUT_SECONDS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.directory.schema import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, schema_for

if TYPE_CHECKING:
    from app.policy.minimise import Minimiser

MAX_BULK_OPERATIONS = 1000
MAX_PAYLOAD_BYTES = 1_048_576
MAX_FILTER_RESULTS = MAX_PAGE_SIZE

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RT_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def service_provider_config(base_url: str) -> dict[str, Any]:
    """What this server supports. No ``documentationUri`` (OPTIONAL, RFC 7643 §5): it named a page on
    custos.invalid, a domain that cannot exist, and Custos has no published documentation site to name instead
    (its documentation ships with it, in docs/)."""
    return {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": MAX_BULK_OPERATIONS, "maxPayloadSize": MAX_PAYLOAD_BYTES},
        "filter": {"supported": True, "maxResults": MAX_FILTER_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "pagination": {
            "cursor": True,
            "index": True,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_PAGE_SIZE,
            "maxPageSize": MAX_PAGE_SIZE,
            "cursorTimeout": CURSOR_TIMEOUT_SECONDS,
        },
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A per-client bearer token issued by the Custos operator (RFC 6750).",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"},
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RT_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/User"},
        },
        {
            "schemas": [RT_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/Group"},
        },
    ]


# Sub-attributes this server computes and never takes from a client, as (schema, attribute, sub-attribute).
# Group members' "display" is filled from the member's displayName/userName at read time (repository.memberships)
# and what a client sends is dropped. RFC 7643 §2.4 calls "display" READ-ONLY (its §8.7.1 Group schema has no
# members.display at all), but scim2-models publishes it readWrite, promising clients a value this server ignores.
_COMPUTED_SUB_ATTRIBUTES = frozenset({(GROUP_SCHEMA, "members", "display")})


# A user's groups are computed from the Group members table, direct memberships only (repository.memberships):
# nested groups are not expanded, so "indirect" (which scim2-models lists) is never answered.
_COMPUTED_TYPES = {(USER_SCHEMA, "groups"): ["direct"]}


def _mark_computed_read_only(schema: dict[str, Any]) -> dict[str, Any]:
    for attribute in schema["attributes"]:
        for sub in attribute.get("subAttributes") or []:
            if (schema["id"], attribute["name"], sub["name"]) in _COMPUTED_SUB_ATTRIBUTES:
                sub["mutability"] = "readOnly"
            computed = _COMPUTED_TYPES.get((schema["id"], attribute["name"]))
            if sub["name"] == "type" and computed is not None:
                sub["canonicalValues"] = computed
    return schema


def _held_only(schema: dict[str, Any], resource_type: str, minimiser: Minimiser) -> dict[str, Any]:
    """Publish only the agreed schema: attributes (and sub-attributes) the policy does not hold are left out."""
    definitions = schema_for(resource_type)
    kept = []
    for attribute in schema["attributes"]:
        name = attribute["name"]
        if resource_type == "User" and name == "groups":
            if minimiser.holds_members():  # a user's groups are the Group members attribute seen from the user
                kept.append(attribute)
            continue
        resolved = definitions.resolve(schema["id"], name, None)
        if resolved is None or not minimiser.holds(resource_type, resolved):
            continue
        subs = attribute.get("subAttributes")
        if subs:
            attribute["subAttributes"] = [
                sub
                for sub in subs
                if (found := definitions.resolve(schema["id"], name, sub["name"])) is not None
                and minimiser.holds(resource_type, found)
            ]
            types = minimiser.held_types(resource_type, name) if resolved.prefix == "" else None
            for sub in attribute["subAttributes"]:
                if sub["name"] == "type" and types is not None and sub.get("canonicalValues"):
                    _publish_held_types(name, sub, types)
        kept.append(attribute)
    schema["attributes"] = kept
    return schema


def _publish_held_types(attribute: str, sub: dict[str, Any], types: frozenset[str]) -> None:
    """A type filter (decision 0028): ``type`` of this attribute says what is held, so an IdP's schema discovery
    sees what will be kept (RFC 7643 §7). ``canonicalValues`` lists exactly the held types; and since an element
    without a type is not held either, ``type`` is required: an element without one is refused or dropped."""
    held = [kind for kind in sub["canonicalValues"] if kind.lower() in types]
    sub["canonicalValues"] = held
    sub["required"] = True
    sub["description"] = (
        f"A label indicating the attribute's function. This service holds {attribute} of type "
        f"{' or '.join(held)} only: an element of another type, or without a type, is not held."
    )


def schemas(base_url: str, minimiser: Minimiser | None = None) -> list[dict[str, Any]]:
    documents = []
    for model, resource_type in ((User, "User"), (EnterpriseUser, "User"), (Group, "Group")):
        schema = _mark_computed_read_only(model.to_schema().model_dump())
        if minimiser is not None:
            schema = _held_only(schema, resource_type, minimiser)
            if not schema["attributes"]:
                continue
        schema["meta"] = {"resourceType": "Schema", "location": f"{base_url}/Schemas/{schema['id']}"}
        documents.append(schema)
    return documents


def list_response(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


def one(resources: list[dict[str, Any]], identifier: str, kind: str) -> dict[str, Any]:
    for resource in resources:
        if resource["id"].lower() == identifier.lower():
            return resource
    raise ScimError(404, f"{kind} not found")
