"""How each kind of audit event looks to a SIEM: CEF signature, name and severity; OCSF class and activity; ECS.

From the mapping in shared/docs/gdpr-requirements.md §4.5. Some kinds depend on the event itself (a SCIM
request's method, a resource's type, an alert's rule); :func:`describe` resolves those. Kinds not listed fall
back to a generic Entity Management shape, so nothing on the trail is dropped on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.audit.trail import StoredEvent


@dataclass(frozen=True)
class Mapping:
    signature: str  # CEF Device Event Class ID, one per kind of event
    name: str  # CEF Name: what happened, never who or to whom
    severity: int  # CEF 0-10
    class_uid: int  # OCSF
    activity_id: int
    category: tuple[str, ...]  # ECS event.category
    type: tuple[str, ...]  # ECS event.type
    act: str = ""  # CEF act (deviceAction)
    action: str = ""  # ECS event.action; the kind when empty
    alert: bool = False  # ECS event.kind "alert"
    labels: tuple[str, ...] = ()  # OCSF metadata.labels beyond the kind, e.g. "gdpr-art17"
    config_key: str = ""  # CEF cs5 (configKey) for configuration changes

    @property
    def category_uid(self) -> int:
        return self.class_uid // 1000

    @property
    def type_uid(self) -> int:
        return self.class_uid * 100 + self.activity_id


_IAM_USER = ("iam",)
_CONFIG = ("configuration",)
_ERASED = ("gdpr-art17",)

_MAP: dict[str, Mapping] = {
    # SCIM resources (Users; Groups are resolved by describe())
    "scim.resource.created": Mapping("scim.user.create", "User created", 3, 3001, 1, _IAM_USER, ("user", "creation"),
                                     "create", "scim-user-created"),
    "scim.resource.replaced": Mapping("scim.user.update", "User updated", 3, 3004, 3, _IAM_USER, ("user", "change"),
                                      "update", "scim-user-updated"),
    "scim.resource.patched": Mapping("scim.user.update", "User updated", 3, 3004, 3, _IAM_USER, ("user", "change"),
                                     "update", "scim-user-updated"),
    "scim.resource.deleted": Mapping("scim.user.delete", "User deprovisioned", 4, 3001, 6, _IAM_USER,
                                     ("user", "deletion"), "delete", "scim-user-deprovisioned"),
    # the SCIM endpoint
    "scim.request": Mapping("scim.request", "SCIM request", 1, 6003, 99, ("api",), ("info",), "request"),
    "scim.auth.failed": Mapping("auth.failure", "Authentication failed", 6, 3002, 1, ("authentication",), ("start",),
                                "logon", "scim-auth-failed"),
    "scim.auth.throttled": Mapping("auth.throttled", "Failed authentications throttled", 7, 3002, 1,
                                   ("authentication",), ("denied",), "block", "scim-auth-throttled"),
    "audit.recorder.refused": Mapping("audit.refused", "Audit events refused", 8, 6003, 99, ("configuration",),
                                      ("error",), "refuse", "audit-events-refused"),
    "audit.recorder.lost": Mapping("audit.lost", "Audit events lost", 8, 6003, 99, ("configuration",), ("error",),
                                   "lose", "audit-events-lost"),
    # request entries written past the bound (decision 0034): their times trail the entries written before them
    "audit.recorder.late": Mapping("audit.late", "Audit events written late", 5, 6003, 99, ("configuration",),
                                   ("info",), "delay", "audit-events-late"),
    "scim.attributes.rejected": Mapping("scim.request.rejected", "SCIM request rejected", 4, 6003, 1, ("api",),
                                        ("creation",), "reject", "scim-request-rejected"),
    "scim.attributes.stripped": Mapping("scim.request.stripped", "Attributes outside the schema dropped", 3, 6003, 1,
                                        ("api",), ("creation",), "strip", "scim-attributes-stripped"),
    # configuration
    "policy.applied": Mapping("config.change", "Policy applied", 5, 3004, 3, _CONFIG, ("change",), "apply",
                              "policy-applied", config_key="policy"),
    "policy.purged": Mapping("policy.purge", "Data purged after a policy change", 5, 3004, 4, _CONFIG, ("deletion",),
                             "purge", "policy-purged"),
    "retention.purged": Mapping("retention.purge", "Expired data purged", 4, 3004, 4, _CONFIG, ("deletion",), "purge",
                                "retention-purged"),
    "retention.run": Mapping("retention.run", "Retention job ran", 1, 3004, 99, _CONFIG, ("info",), "run"),
    "token.created": Mapping("config.change", "Token created", 5, 3004, 1, _CONFIG, ("creation",), "create",
                             "token-created", config_key="token"),
    "token.revoked": Mapping("config.change", "Token revoked", 5, 3004, 4, _CONFIG, ("deletion",), "revoke",
                             "token-revoked", config_key="token"),
    "endpoint.configured": Mapping("config.change", "SCIM endpoint address or certificate changed", 5, 3004, 3,
                                   _CONFIG, ("change",), "change", "endpoint-configured", config_key="endpoint"),
    "target.added": Mapping("config.change", "Target added", 5, 3004, 1, _CONFIG, ("creation",), "create",
                            "target-added", config_key="target"),
    "target.removed": Mapping("config.change", "Target removed", 5, 3004, 4, _CONFIG, ("deletion",), "delete",
                              "target-removed", config_key="target"),
    # one per subject a removed target still held: a later erasure of them tells that recipient (Art. 19)
    "target.removed.held": Mapping("config.change", "Removed target still holds an account", 3, 3004, 4, _CONFIG,
                                   ("info",), "retain", "target-removed-held", config_key="target"),
    # entries past the trail's retention period removed up to a signed checkpoint (decision 0055)
    "audit.pruned": Mapping("audit.prune", "Audit trail entries pruned after their retention period", 5, 3004, 4,
                            _CONFIG, ("deletion",), "prune", "audit-pruned"),
    # a collector no longer used, its cursor dropped: entries it had not received are no longer held for it
    "siem.destination_forgotten": Mapping("config.change", "SIEM collector forgotten", 5, 3004, 4, _CONFIG,
                                          ("deletion",), "delete", "siem-destination-forgotten"),
    "audit.key.created": Mapping("audit.key.create", "Audit signing key created", 5, 3004, 1, _CONFIG,
                                 ("creation",), "create", "audit-key-created"),
    # the vault
    "vault.created": Mapping("vault.create", "Vault created", 3, 3004, 1, _CONFIG, ("creation",), "create"),
    "vault.unlocked": Mapping("vault.unlock", "Vault unlocked", 3, 3002, 1, ("authentication",), ("start",), "logon",
                              "vault-unlocked"),
    # the vault re-encrypted under a new passphrase (what was typed is never on the trail)
    "vault.passphrase_changed": Mapping("vault.rekey", "Vault passphrase changed", 5, 3004, 3, _CONFIG, ("change",),
                                        "rekey", "vault-passphrase-changed"),
    "vault.backup.created": Mapping("vault.backup", "Vault backed up", 3, 3004, 1, _CONFIG, ("creation",), "backup"),
    # backup key epochs (decision 0067): a destroyed epoch is every backup made under it put beyond use
    "vault.backup_key.began": Mapping("vault.backup_key.create", "Backup key epoch begun", 3, 3004, 1, _CONFIG,
                                      ("creation",), "create", "backup-key-began"),
    "vault.backup_key.destroyed": Mapping("vault.backup_key.destroy", "Backup key epoch destroyed", 6, 3004, 4,
                                          _CONFIG, ("deletion",), "delete", "backup-key-destroyed"),
    "vault.restored": Mapping("vault.restore", "Vault restored from a backup", 6, 3004, 3, _CONFIG, ("change",),
                              "restore", "vault-restored"),
    # exports (a file leaves the vault)
    "export.ropa": Mapping("export.ropa", "Records of processing exported", 3, 3004, 2, ("file",), ("creation",),
                           "export", "ropa-exported"),
    "export.subject": Mapping("export.subject", "Subject data exported", 5, 3004, 2, ("file",), ("creation",),
                              "export", "subject-exported"),
    "export.audit_bundle": Mapping("export.audit_bundle", "Evidence bundle exported", 3, 3004, 2, ("file",),
                                   ("creation",), "export", "audit-bundle-exported"),
    "export.audit_timeline": Mapping("export.audit_timeline", "Audit timeline exported", 3, 3004, 2, ("file",),
                                     ("creation",), "export", "audit-timeline-exported"),
    "export.breach_register": Mapping("export.breach_register", "Breach register exported", 3, 3004, 2, ("file",),
                                      ("creation",), "export", "breach-register-exported"),
    # where Art. 12(3) deadlines are counted (country, region, zone) and how long closed requests are kept
    "dsr.settings_changed": Mapping("config.change", "Request register settings changed", 3, 3004, 3, _CONFIG,
                                    ("change",), "update", "dsr-settings-changed"),
    # the Art. 33 notification draft or the Art. 34 communication, written for an incident
    "export.breach_letter": Mapping("export.breach_letter", "Breach notification draft exported", 3, 3004, 2,
                                    ("file",), ("creation",), "export", "breach-letter-exported"),
    "export.dsr_register": Mapping("export.dsr_register", "Request register exported", 3, 3004, 2, ("file",),
                                   ("creation",), "export", "dsr-register-exported"),
    "export.siem": Mapping("export.siem", "Audit trail exported for a SIEM", 3, 3004, 2, ("file",), ("creation",),
                           "export", "siem-exported"),
    # erasure (Art. 17): erasure.requested erases locally in the same transaction
    "erasure.requested": Mapping("gdpr.erasure.local", "Subject erased", 5, 3001, 6, _IAM_USER, ("user", "deletion"),
                                 "erase", "gdpr-erasure", labels=_ERASED),
    "erasure.local.scrubbed": Mapping("gdpr.erasure.scrub", "Storage scrubbed after erasure", 3, 3004, 4, _CONFIG,
                                      ("deletion",), "scrub", "gdpr-erasure-scrubbed", labels=_ERASED),
    "subject.shredded": Mapping("gdpr.erasure.shred", "Subject keys destroyed", 5, 3001, 6, _IAM_USER,
                                ("user", "deletion"), "erase", "gdpr-erasure", labels=_ERASED),
    "erasure.attested": Mapping("gdpr.erasure.attest", "Erasure attested by an operator", 3, 3004, 3, _IAM_USER,
                                ("user", "change"), "attest", "erasure-attested", labels=_ERASED),
    "erasure.retried": Mapping("gdpr.erasure.retry", "Erasure steps queued again by an operator", 3, 3004, 3,
                               _IAM_USER, ("user", "change"), "retry", "erasure-retried", labels=_ERASED),
    "erasure.receipt.issued": Mapping("gdpr.erasure.receipt", "Erasure receipt issued", 3, 3004, 1, _IAM_USER,
                                      ("user", "info"), "issue", "erasure-receipt-issued", labels=_ERASED),
    "erasure.closed": Mapping("gdpr.erasure.close", "Erasure request closed", 3, 3004, 3, _IAM_USER, ("user", "info"),
                              "close", "erasure-closed", labels=_ERASED),
    "erasure.replayed": Mapping("gdpr.erasure.replay", "Erasures replayed after a restore", 5, 3001, 6, _IAM_USER,
                                ("user", "deletion"), "erase", "erasure-replayed", labels=_ERASED),
    # provisioning to downstream applications
    "provision.created": Mapping("provision.push", "Change pushed to a target", 3, 6003, 1, ("api",), ("creation",),
                                 "create", "provision-created"),
    "provision.replaced": Mapping("provision.push", "Change pushed to a target", 3, 6003, 3, ("api",), ("change",),
                                  "update", "provision-replaced"),
    # an account the target already held (found by a search, or after a 409 on create), linked and updated
    "provision.adopted": Mapping("provision.push", "Existing account at a target adopted", 3, 6003, 3, ("api",),
                                 ("change",), "adopt", "provision-adopted"),
    "provision.deactivated": Mapping("provision.push", "Change pushed to a target", 3, 6003, 3, ("api",), ("change",),
                                     "disable", "provision-deactivated"),
    "provision.deleted": Mapping("provision.push", "Change pushed to a target", 3, 6003, 4, ("api",), ("deletion",),
                                 "delete", "provision-deleted"),
    "provision.verification_failed": Mapping("provision.failure", "Target still holds a deleted account", 6, 6003, 4,
                                             ("api",), ("deletion",), "delete", "provision-verification-failed"),
    # a User read back after a push still holds attributes beyond its recipient's mapping (a PUT merged, a removal
    # refused or ignored): data the recipient may not hold
    "provision.beyond_mapping": Mapping("provision.failure", "Target keeps attributes beyond the mapping", 6, 6003,
                                        3, ("api",), ("change",), "retain", "provision-beyond-mapping"),
    "provision.failed": Mapping("provision.failure", "Provisioning failed", 6, 6003, 99, ("api",), ("change",), "push",
                                "provision-failed"),
    "target.changed": Mapping("config.change", "Target changed", 5, 3004, 3, _CONFIG, ("change",), "change",
                              "target-changed", config_key="target"),
    "target.sync.queued": Mapping("provision.sync", "Target sync queued", 3, 3004, 3, _CONFIG, ("change",), "queue",
                                  "target-sync-queued"),
    # a reconcile read the target and compared it with the mirror: counts only (describe() raises drift)
    "target.reconciled": Mapping("provision.reconcile", "Target checked against Custos", 3, 6003, 2, ("api",),
                                 ("info",), "read", "target-reconciled"),
    "scim.resource.updated": Mapping("scim.user.update", "User updated", 3, 3004, 3, _IAM_USER, ("user", "change"),
                                     "update", "scim-user-updated"),
    # erasure at the source and the recreation guard
    "erasure.source.seen": Mapping("gdpr.erasure.source", "Erased subject removed at the identity provider", 3, 3004,
                                   3, _IAM_USER, ("user", "change"), "confirm", "erasure-source-seen", labels=_ERASED),
    "erasure.source.attested": Mapping("gdpr.erasure.source", "Removal at the identity provider attested", 3, 3004, 3,
                                       _IAM_USER, ("user", "change"), "attest", "erasure-source-attested",
                                       labels=_ERASED),
    "erasure.recreation.refused": Mapping("gdpr.erasure.recreation", "Erased subject's recreation refused", 5, 3001,
                                          1, _IAM_USER, ("user", "denied"), "block", "erasure-recreation-refused",
                                          labels=_ERASED),
    "erasure.tombstone.released": Mapping("gdpr.erasure.release", "Erased subject released for recreation", 6, 3004,
                                          3, _IAM_USER, ("user", "change"), "release", "erasure-tombstone-released",
                                          labels=_ERASED),
    # detections and the breach register
    "alert.raised": Mapping("anomaly", "Anomaly detected", 8, 2004, 1, ("intrusion_detection",), ("info",), "alert",
                            alert=True),
    "incident.opened": Mapping("breach.incident.create", "Incident recorded", 7, 2005, 1, ("intrusion_detection",),
                               ("info",), "create", "incident-opened", alert=True),
    "incident.closed": Mapping("breach.incident.close", "Incident closed", 7, 2005, 3, ("intrusion_detection",),
                               ("info",), "close", "incident-closed", alert=True),
}  # fmt: skip
_MAP.update({f"dsr.{step}": Mapping(f"gdpr.dsr.{step}", name, 3, 3004, activity, _IAM_USER, ("user", ecs), act,
                                      f"dsr-{step.replace('_', '-')}", labels=("gdpr-dsr",))
             for step, name, activity, ecs, act in (
                 ("opened", "Data subject request recorded", 1, "creation", "create"),
                 ("matched", "Data subject request matched to an identity", 3, "change", "match"),
                 ("verification", "Requester's identity verified", 3, "change", "verify"),
                 ("extended", "Data subject request deadline extended", 3, "change", "extend"),
                 ("task_done", "Data subject request task done", 3, "change", "complete"),
                 ("restricted", "Processing restriction changed", 3, "change", "restrict"),
                 ("refused", "Data subject request refused", 3, "change", "refuse"),
                 ("none_held", "Data subject request: no personal data held", 3, "change", "confirm"),
                 ("attached", "File attached to a data subject request", 3, "change", "attach"),
                 ("exported", "Data subject request answered with an export", 3, "change", "export"),
                 ("erasure_started", "Erasure started for a data subject request", 3, "change", "erase"),
                 ("erasure_finished", "Erasure finished for a data subject request", 3, "change", "erase"),
                 ("answer_drafted", "Data subject request answer drafted", 3, "change", "draft"),
                 ("answered", "Data subject request answered", 3, "change", "answer"),
                 ("closed", "Data subject request closed", 3, "change", "close"),
                 ("purged", "Expired data subject requests purged", 4, "deletion", "purge"),
             )})  # fmt: skip
_INCIDENT_UPDATE = Mapping("breach.incident.update", "Incident updated", 7, 2005, 2, ("intrusion_detection",),
                           ("info",), "update", alert=True)  # fmt: skip
_ERASURE_PROPAGATED = Mapping("gdpr.erasure.propagate", "Erasure propagated", 3, 6003, 4, _IAM_USER,
                              ("user", "deletion"), "delete", "erasure-propagated", labels=_ERASED)  # fmt: skip
_GENERIC = Mapping("custos.event", "Custos event", 3, 3004, 99, _CONFIG, ("info",))

# Groups: OCSF Group Management (3006; 6 Create and 5 Delete in OCSF 1.1.0), ECS type "group".
_GROUP = {
    "scim.resource.created": Mapping("scim.group.create", "Group created", 3, 3006, 6, _IAM_USER, ("group", "creation"),
                                     "create", "scim-group-created"),
    "scim.resource.replaced": Mapping("scim.group.update", "Group updated", 3, 3004, 3, _IAM_USER, ("group", "change"),
                                      "update", "scim-group-updated"),
    "scim.resource.patched": Mapping("scim.group.update", "Group updated", 3, 3004, 3, _IAM_USER, ("group", "change"),
                                     "update", "scim-group-updated"),
    "scim.resource.updated": Mapping("scim.group.update", "Group updated", 3, 3004, 3, _IAM_USER, ("group", "change"),
                                     "update", "scim-group-updated"),
    "scim.resource.deleted": Mapping("scim.group.delete", "Group deleted", 4, 3006, 5, _IAM_USER, ("group", "deletion"),
                                     "delete", "scim-group-deleted"),
}  # fmt: skip

# SCIM request method -> OCSF API Activity activity and ECS event.type
_METHODS = {
    "POST": (1, "creation"),
    "GET": (2, "access"),
    "PUT": (3, "change"),
    "PATCH": (3, "change"),
    "DELETE": (4, "deletion"),
}

# Alerts: per rule a signature ``anomaly.<rule>``, a name, a severity (7-9) and an ECS category.
ALERT_RULES: dict[str, tuple[str, int, str]] = {
    "mass_deprovisioning": ("Anomalous bulk deprovisioning", 9, "iam"),
    "auth_failures": ("Burst of authentication failures", 8, "authentication"),
    "auth_throttled": ("Failed authentications throttled", 8, "authentication"),
    "audit_recorder": ("Audit events refused or lost", 9, "intrusion_detection"),
    "new_token_source": ("Token used from a new source address", 7, "authentication"),
    "schema_rejections": ("Spike of schema-violation rejections", 7, "intrusion_detection"),
    "bulk_exports": ("Bulk export of subject data", 8, "intrusion_detection"),
    "bulk_reads": ("Bulk read of identities", 8, "intrusion_detection"),
    "after_hours": ("Activity outside working hours", 7, "intrusion_detection"),
    "dsr_deadline": ("Data subject request deadline near or passed (Art. 12(3))", 5, "iam"),
    "token_expiry": ("SCIM client token near or past its expiry", 6, "iam"),
    "certificate_expiry": ("SCIM endpoint TLS certificate near or past its expiry", 6, "configuration"),
}


def mapping_for(kind: str) -> Mapping:
    """The mapping of a kind as such (Users, no method or rule known)."""
    found = _MAP.get(kind)
    if found is not None:
        return found
    if kind.startswith("incident."):
        return replace(_INCIDENT_UPDATE, action=kind.replace(".", "-"))
    if kind.startswith("erasure.target."):
        return _ERASURE_PROPAGATED
    name = kind.replace(".", " ").replace("_", " ").capitalize()
    return replace(_GENERIC, signature=kind[:100] or _GENERIC.signature, name=name[:100] or _GENERIC.name)


def describe(event: StoredEvent) -> Mapping:
    """The mapping of one event: resolves what depends on its details (method, resource type, rule, outcome)."""
    kind, details = event.kind, event.details
    if kind in _GROUP and details.get("resource_type") == "Group":
        return _GROUP[kind]
    base = mapping_for(kind)
    if kind == "scim.request":
        activity, ecs_type = _METHODS.get(str(details.get("method", "")).upper(), (99, "info"))
        return replace(base, activity_id=activity, type=(ecs_type,))
    if kind in ("scim.attributes.rejected", "scim.attributes.stripped") and details.get("operation") in (
        "replace",
        "patch",
        "update",
    ):
        return replace(base, activity_id=3, type=("change",))
    if kind == "alert.raised":
        rule = str(details.get("rule", ""))
        name, severity, category = ALERT_RULES.get(rule, (base.name, base.severity, base.category[0]))
        signature, action = (f"anomaly.{rule}", f"anomaly-{rule.replace('_', '-')}") if rule else ("anomaly", "anomaly")
        return replace(base, signature=signature, name=name, severity=severity, category=(category,), action=action)
    if kind == "target.reconciled" and _unrepaired(details):
        return replace(base, name="Target differs from Custos", severity=5)
    if kind.startswith("erasure.target.") and event.outcome != "success":
        return replace(base, severity=6)
    return base


def _unrepaired(details: dict[str, object]) -> bool:
    """Whether a reconcile left differences standing (app/targets/verification.py: Check.unrepaired)."""
    unknown, repairable = details.get("unknown"), details.get("repairable")
    return bool(unknown) or (bool(repairable) and not details.get("repaired"))


def known_kinds() -> list[str]:
    return sorted(_MAP)


def has_mapping(kind: str) -> bool:
    """Whether a kind has a mapping of its own rather than the generic fallback."""
    return kind in _MAP or kind.startswith(("incident.", "erasure.target."))
