"""How each kind of audit event looks to a SIEM: CEF signature, name, severity; OCSF class and activity; ECS.

From the mapping in shared/docs/gdpr-requirements.md §4.5. Kinds not listed fall back to a generic OCSF
Entity Management / API Activity shape, so nothing on the trail is dropped on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mapping:
    signature: str
    name: str
    severity: int  # CEF 0-10
    class_uid: int  # OCSF
    activity_id: int
    category: tuple[str, ...]  # ECS event.category
    type: tuple[str, ...]  # ECS event.type
    alert: bool = False

    @property
    def category_uid(self) -> int:
        return self.class_uid // 1000

    @property
    def type_uid(self) -> int:
        return self.class_uid * 100 + self.activity_id


_MAP: dict[str, Mapping] = {
    "scim.resource.created": Mapping("scim.user.create", "User created", 3, 3001, 1, ("iam",), ("user", "creation")),
    "scim.resource.replaced": Mapping("scim.user.update", "User updated", 3, 3004, 3, ("iam",), ("user", "change")),
    "scim.resource.patched": Mapping("scim.user.update", "User updated", 3, 3004, 3, ("iam",), ("user", "change")),
    "scim.resource.deleted": Mapping(
        "scim.user.delete", "User deprovisioned", 4, 3001, 6, ("iam",), ("user", "deletion")
    ),
    "scim.auth.failed": Mapping("auth.failure", "Authentication failed", 6, 3002, 1, ("authentication",), ("start",)),
    "scim.attributes.rejected": Mapping(
        "scim.request.rejected", "SCIM request rejected", 4, 6003, 1, ("api",), ("creation",)
    ),
    "scim.attributes.stripped": Mapping(
        "scim.request.stripped", "Attributes outside the schema dropped", 3, 6003, 1, ("api",), ("creation",)
    ),
    "scim.request": Mapping("scim.request", "SCIM request", 1, 6003, 2, ("api",), ("access",)),
    "policy.applied": Mapping("config.change", "Policy applied", 5, 3004, 3, ("configuration",), ("change",)),
    "policy.purged": Mapping("policy.purge", "Data purged by policy", 5, 3004, 4, ("configuration",), ("deletion",)),
    "retention.purged": Mapping(
        "retention.purge", "Expired data purged", 4, 3004, 4, ("configuration",), ("deletion",)
    ),
    "token.created": Mapping("config.change", "Token created", 5, 3004, 1, ("configuration",), ("creation",)),
    "token.revoked": Mapping("config.change", "Token revoked", 5, 3004, 4, ("configuration",), ("deletion",)),
    "target.added": Mapping("config.change", "Target added", 5, 3004, 1, ("configuration",), ("creation",)),
    "target.removed": Mapping("config.change", "Target removed", 5, 3004, 4, ("configuration",), ("deletion",)),
    "erasure.requested": Mapping("gdpr.erasure.local", "Subject erased", 5, 3001, 6, ("iam",), ("user", "deletion")),
    "provision.deleted": Mapping(
        "gdpr.erasure.propagate", "Deletion propagated", 3, 6003, 4, ("iam",), ("user", "deletion")
    ),
    "provision.failed": Mapping("provision.failure", "Provisioning failed", 6, 6003, 3, ("api",), ("change",)),
    "alert.raised": Mapping("anomaly", "Anomaly detected", 8, 2004, 1, ("intrusion_detection",), ("info",), alert=True),
    "incident.opened": Mapping(
        "breach.incident.create", "Incident recorded", 7, 2005, 1, ("intrusion_detection",), ("info",), alert=True
    ),
    "vault.unlocked": Mapping("vault.unlock", "Vault unlocked", 3, 3002, 1, ("authentication",), ("start",)),
}
_GENERIC = Mapping("custos.event", "Custos event", 3, 3004, 99, ("configuration",), ("info",))


def mapping_for(kind: str) -> Mapping:
    found = _MAP.get(kind)
    if found is not None:
        return found
    return Mapping(kind[:100], kind.replace(".", " ").capitalize()[:100], _GENERIC.severity, _GENERIC.class_uid,
                   _GENERIC.activity_id, _GENERIC.category, _GENERIC.type)  # fmt: skip


def known_kinds() -> list[str]:
    return sorted(_MAP)
