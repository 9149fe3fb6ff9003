"""The attribute catalogue of each resource type, built from scim2-models' RFC 7643 schemas.

It answers the questions the filter translator, the indexer and the projection need: does this path exist,
is it multi-valued, complex, case-exact, of which type, and how is it returned.

The catalogue is read from ``resources/schemas/scim-schemas.json``, the schemas exactly as scim2-models writes
them (tests/scim/test_schema_snapshot.py fails when the installed scim2-models says otherwise, and says how to
write the file again). Importing scim2-models builds every pydantic model it has, about a third of a second:
the policy loader and every command that reads the policy in force need the catalogue, not the models, so the
models are imported only by what validates a resource (:func:`model_for`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from app.core.paths import resources_dir

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SNAPSHOT = resources_dir() / "schemas" / "scim-schemas.json"


@dataclass(frozen=True)
class AttrDef:
    name: str
    type: str  # string, boolean, decimal, integer, dateTime, reference, complex, binary
    multi_valued: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    required: bool = False
    sub: dict[str, AttrDef] = field(default_factory=dict)  # keys lower-cased
    canonical_values: tuple[str, ...] = ()  # RFC 7643's, e.g. phoneNumbers.type: work, home, mobile, fax…

    @classmethod
    def from_schema(cls, raw: dict[str, Any]) -> AttrDef:
        subs = {s["name"].lower(): cls.from_schema(s) for s in raw.get("subAttributes") or []}
        return cls(
            name=raw["name"],
            type=raw["type"],
            multi_valued=bool(raw.get("multiValued")),
            case_exact=bool(raw.get("caseExact")),
            mutability=raw.get("mutability") or "readWrite",
            returned=raw.get("returned") or "default",
            uniqueness=raw.get("uniqueness") or "none",
            required=bool(raw.get("required")),
            sub=subs,
            canonical_values=tuple(raw.get("canonicalValues") or ()),
        )


@dataclass(frozen=True)
class Resolved:
    """An attribute path resolved against a resource type.

    ``index_path`` is the key under which the indexer stores leaf values (lower-cased, extension attributes
    prefixed with their lower-cased schema URN).
    """

    schema: str
    top: AttrDef
    leaf: AttrDef
    sub_name: str | None

    @property
    def prefix(self) -> str:
        return "" if self.schema in CORE_SCHEMAS else self.schema.lower() + ":"

    @property
    def index_path(self) -> str:
        base = self.prefix + self.top.name.lower()
        return f"{base}.{self.sub_name}" if self.sub_name else base


# Common attributes (RFC 7643 §3.1) are not part of any schema document but may be filtered and sorted on.
COMMON: dict[str, AttrDef] = {
    "id": AttrDef("id", "string", case_exact=True, mutability="readOnly", returned="always", uniqueness="server"),
    "externalid": AttrDef("externalId", "string", case_exact=True),
    "meta": AttrDef(
        "meta",
        "complex",
        mutability="readOnly",
        sub={
            "resourcetype": AttrDef("resourceType", "string", case_exact=True, mutability="readOnly"),
            "created": AttrDef("created", "dateTime", mutability="readOnly"),
            "lastmodified": AttrDef("lastModified", "dateTime", mutability="readOnly"),
            "location": AttrDef("location", "reference", case_exact=True, mutability="readOnly"),
            "version": AttrDef("version", "string", case_exact=True, mutability="readOnly"),
        },
    ),
}
CORE_SCHEMAS = frozenset({USER_SCHEMA, GROUP_SCHEMA, ""})


@dataclass(frozen=True)
class ResourceSchema:
    name: str  # "User" / "Group"
    endpoint: str
    core: str
    extensions: tuple[str, ...]
    attributes: dict[str, dict[str, AttrDef]]  # schema URN -> lower name -> definition

    def resolve(self, uri: str | None, attr: str, sub_attr: str | None) -> Resolved | None:
        """Find an attribute; None when this resource type has no such attribute."""
        attr_l = attr.lower()
        schema = self._schema_for(uri, attr_l)
        if schema is None:
            return None
        top = COMMON.get(attr_l) if schema == "" else self.attributes[schema].get(attr_l)
        if top is None:
            return None
        if sub_attr is None:
            return Resolved(schema, top, top, None)
        leaf = top.sub.get(sub_attr.lower())
        if leaf is None:
            return None
        return Resolved(schema, top, leaf, leaf.name.lower())

    def _schema_for(self, uri: str | None, attr_l: str) -> str | None:
        if uri:
            for known in (self.core, *self.extensions):
                if known.lower() == uri.lower():
                    return known
            return None
        if attr_l in COMMON:
            return ""
        if attr_l in self.attributes[self.core]:
            return self.core
        # Tolerance: some clients omit the extension URN for unambiguous extension attributes.
        matches = [ext for ext in self.extensions if attr_l in self.attributes[ext]]
        return matches[0] if len(matches) == 1 else None

    def all_schemas(self) -> tuple[str, ...]:
        return (self.core, *self.extensions)


def models_schemas() -> dict[str, dict[str, Any]]:
    """The RFC 7643 schema documents as the installed scim2-models writes them, by URN (what SNAPSHOT holds)."""
    from scim2_models import EnterpriseUser, Group, User

    return {model.__schema__: model.to_schema().model_dump(mode="json") for model in (User, EnterpriseUser, Group)}


@cache
def _snapshot() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return documents


def _attrs(urn: str) -> dict[str, AttrDef]:
    return {a["name"].lower(): AttrDef.from_schema(a) for a in _snapshot()[urn]["attributes"]}


@cache
def resource_schemas() -> dict[str, ResourceSchema]:
    return {
        "User": ResourceSchema(
            name="User",
            endpoint="/Users",
            core=USER_SCHEMA,
            extensions=(ENTERPRISE_SCHEMA,),
            attributes={USER_SCHEMA: _attrs(USER_SCHEMA), ENTERPRISE_SCHEMA: _attrs(ENTERPRISE_SCHEMA)},
        ),
        "Group": ResourceSchema(
            name="Group",
            endpoint="/Groups",
            core=GROUP_SCHEMA,
            extensions=(),
            attributes={GROUP_SCHEMA: _attrs(GROUP_SCHEMA)},
        ),
    }


def schema_for(resource_type: str) -> ResourceSchema:
    return resource_schemas()[resource_type]


def model_for(resource_type: str) -> Any:
    """The scim2-models class that validates this resource type."""
    return _models()[resource_type]


@cache
def _models() -> dict[str, Any]:
    import email_validator
    from scim2_models import EnterpriseUser, Group, User

    # A directory mirror must hold the addresses the IdP's directory holds. Tenants use special-use domains
    # (okta.local, *.test in staging tenants); email-validator refuses them by default, which would make
    # provisioning of those users fail. Syntax is still checked. (email-validator documents this list as
    # settable.) Set here, before the first resource is validated.
    email_validator.SPECIAL_USE_DOMAIN_NAMES = []
    return {"User": User[EnterpriseUser], "Group": Group}
