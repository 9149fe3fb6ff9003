"""OCSF JSON (with ECS field names alongside where they fit) for each audit event.

The OCSF attributes come first (class_uid, activity_id, type_uid, …), and only those OCSF 1.1.0, the version in
``metadata.version``, defines for the record's class (and its objects): a consumer that validates on ingest refuses
a record with attributes of later versions or of none (tests/siem/test_ocsf_schema.py checks every kind against
the schema's own attribute lists). The ECS objects (``event``, ``rule``, ``source``, ``http``, ``@timestamp``) sit
beside them at the top, where OCSF has no attribute of that name, so one record serves both kinds of SIEM; ECS
names inside an OCSF object (``user.target.id``) do not fit and are not sent. What has no OCSF place goes under
``unmapped``. The sealed (encrypted) private part of an entry is never forwarded.
"""

from __future__ import annotations

from typing import Any

from app import __version__
from app.audit.trail import StoredEvent
from app.siem.cef import epoch_ms, ip_or_none
from app.siem.forwarded import forwarded_details
from app.siem.mapping import Mapping, describe

OCSF_VERSION = "1.1.0"
_CATEGORIES = {1: "System Activity", 2: "Findings", 3: "Identity & Access Management", 6: "Application Activity"}
# Classes whose OCSF 1.1.0 attributes include ``user`` (the subject); those that have an ``actor`` only through the
# host profile (declared in metadata.profiles, as OCSF asks of a profile's attributes); and Incident Finding, which
# takes no such profile in 1.1.0: who opened the incident stays in unmapped.actor.
_USER_CLASSES = (3001, 3002, 3006)
_ACTOR_BY_HOST_PROFILE = (2004, 3006)
_NO_ACTOR = (2005,)
_CLASSES = {3001: "Account Change", 3002: "Authentication", 3004: "Entity Management", 3006: "Group Management",
            6003: "API Activity", 2004: "Detection Finding", 2005: "Incident Finding"}  # fmt: skip


def severity_id(cef_severity: int) -> int:
    """CEF 0-10 to OCSF 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical."""
    for floor, value in ((9, 5), (7, 4), (4, 3), (2, 2)):
        if cef_severity >= floor:
            return value
    return 1


def _actor(actor: str) -> dict[str, Any]:
    kind, _, name = actor.partition(":")
    if kind == "operator":
        return {"user": {"name": name or actor, "type": "User"}}
    # a SCIM client (the identity provider) by its token's name, or a system job: OCSF 1.1.0's actor has no
    # app_name (1.2 added it), so the actor's name says which
    return {"user": {"name": actor, "type": "System"}}


def _class_specific(
    record: dict[str, Any], event: StoredEvent, class_uid: int, key: str, details: dict[str, Any]
) -> None:
    """Attributes the class requires: ``user`` (Account Change, Authentication), ``entity`` (Entity Management)."""
    if class_uid == 3002:
        record["user"] = {**record.get("user", {}), "name": event.actor}
    elif class_uid == 3001 and "user" not in record:
        record["user"] = {"type": "User"}  # several subjects (an erasure request): counted in unmapped.details
    elif class_uid == 3004 and "entity" not in record:
        name = str(details.get("token") or details.get("target") or "")
        record["entity"] = {"type": key or event.kind.split(".", 1)[0], **({"name": name} if name else {})}


def to_ocsf(event: StoredEvent) -> dict[str, Any]:
    """One event as an OCSF record with ECS names alongside; each step below adds its attributes in turn."""
    m = describe(event)
    details = forwarded_details(event)  # a list read's people bounded (app/siem/forwarded.py)
    record = _common(event, m, details)
    if m.class_uid in _ACTOR_BY_HOST_PROFILE:
        record["metadata"]["profiles"] = ["host"]
    if m.class_uid in _NO_ACTOR:
        record["unmapped"]["actor"] = record.pop("actor")
    _subject_and_source(record, event, m, details)
    _http(record, event, m, details)
    _class_specific(record, event, m.class_uid, m.config_key, details)
    _finding(record, event, m, details)
    return record


def _common(event: StoredEvent, m: Mapping, details: dict[str, Any]) -> dict[str, Any]:
    """What every record has: its class, time, status, metadata, actor, the unmapped rest, and the ECS event."""
    success = event.outcome == "success"
    return {
        "class_uid": m.class_uid,
        "class_name": _CLASSES.get(m.class_uid, ""),
        "category_uid": m.category_uid,
        "category_name": _CATEGORIES.get(m.category_uid, ""),
        "activity_id": m.activity_id,
        "type_uid": m.type_uid,
        "severity_id": severity_id(m.severity),
        "time": epoch_ms(event.at),
        "status_id": 1 if success else 2,
        "status": "Success" if success else "Failure",
        "message": m.name,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": str(event.seq),  # the trail's sequence number: a collector can drop duplicates by it
            "sequence": event.seq,
            "log_name": "custos-audit",
            "product": {"name": "Custos", "vendor_name": "Custos", "version": __version__},
            "labels": [event.kind, *m.labels],
        },
        "actor": _actor(event.actor),
        "unmapped": {"audit_seq": event.seq, "chain_hash": event.chain_hash, "kind": event.kind, "details": details},
        # ECS names, for Elastic and friends
        "@timestamp": event.at,
        "event": {
            "kind": "alert" if m.alert else "event",
            "category": list(m.category),
            "type": list(m.type),
            "action": m.action or event.kind,
            "outcome": "success" if success else "failure",
            "sequence": event.seq,
            "code": m.signature,
        },
    }


def _subject_and_source(record: dict[str, Any], event: StoredEvent, m: Mapping, details: dict[str, Any]) -> None:
    subject = event.subject or (details["pseudonym"] if isinstance(details.get("pseudonym"), str) else None)
    if subject:  # a keyed pseudonym, where the class has a place for it
        _subject(record, m.class_uid, subject, str(details.get("resource_type", "user")).lower())
    source = ip_or_none(details.get("source"))
    if source:
        record["src_endpoint"] = {"ip": source}
        record["source"] = {"ip": source}  # ECS


def _subject(record: dict[str, Any], class_uid: int, subject: str, resource_type: str) -> None:
    """The entry's subject in the attribute its OCSF class has for it; a class with none keeps it in unmapped."""
    if class_uid == 3006 and resource_type == "group":
        record["group"] = {"uid": subject}  # the group created or deleted, not a user
    elif class_uid in _USER_CLASSES:
        record["user"] = {"uid": subject}
    elif class_uid == 3004:
        record["entity"] = {"uid": subject, "type": resource_type}
    elif class_uid == 6003:
        record["resources"] = [{"uid": subject, "type": resource_type}]
    else:
        record["unmapped"]["subject"] = subject


def _http(record: dict[str, Any], event: StoredEvent, m: Mapping, details: dict[str, Any]) -> None:
    """The API call, its response and request; a refused token's tally (count and span)."""
    if m.class_uid == 6003:  # API Activity requires api and src_endpoint
        record["api"] = {"operation": str(details.get("method") or details.get("operation") or m.act),
                         "service": {"name": str(details.get("target") or "scim")}}  # fmt: skip
        record.setdefault("src_endpoint", _caller(event.actor))
    status = details["status"] if isinstance(details.get("status"), int) else None
    if status is None and event.kind == "scim.attributes.rejected":
        status = 400
    if status is not None:  # OCSF 1.1.0's API Activity has no http_response (1.4 added it): the status code
        record["status_code"] = str(status)
        record["http"] = {"response": {"status_code": status}}  # ECS
    if event.kind == "scim.request":
        record["http_request"] = {"http_method": str(details.get("method", "")),
                                  "url": {"path": "/scim/v2/" + str(details.get("endpoint", ""))}}  # fmt: skip
    if event.kind == "scim.auth.failed":
        record["status_detail"] = "INVALID_CREDENTIALS"
        if isinstance(details.get("count"), int):  # a per-minute tally: OCSF's aggregated-event count and span
            record["count"] = details["count"]
            if isinstance(details.get("first"), str) and isinstance(details.get("last"), str):
                record["start_time"], record["end_time"] = epoch_ms(details["first"]), epoch_ms(details["last"])


def _caller(actor: str) -> dict[str, Any]:
    """API Activity's required source when the entry holds no address: a system job calls the API as Custos
    itself (a downstream target, an erasure step); a client whose address was not recorded is said to be so."""
    if actor.startswith("system:"):
        return {"svc_name": "custos"}
    return {"name": "unknown"}


def _finding(record: dict[str, Any], event: StoredEvent, m: Mapping, details: dict[str, Any]) -> None:
    """Detection Finding (an alert) and Incident Finding (the breach register): the finding and its status."""
    finding = {"title": m.name, "uid": str(event.seq), "types": [m.signature]}
    if m.class_uid == 2004:
        record["finding_info"] = finding
    if m.class_uid == 2005:  # Incident Finding: status is the incident's (1 New, 2 In Progress, 5 Closed)
        record["finding_info_list"] = [finding]  # its only finding attribute in 1.1.0
        record["status_id"], record["status"] = {1: (1, "New"), 3: (5, "Closed")}.get(m.activity_id, (2, "In Progress"))
    if m.class_uid == 2004:
        _detection(record, m, details)


def _detection(record: dict[str, Any], m: Mapping, details: dict[str, Any]) -> None:
    """What the rule observed: ``count``, its window as start and end; the threshold and the rest stay in
    unmapped.details (OCSF 1.1.0 has neither is_alert nor anomaly_analyses; ECS event.kind says "alert")."""
    if isinstance(details.get("observed"), int):
        record["count"] = details["observed"]
    record["status_id"], record["status"] = 1, "New"  # the finding's status; a person decides what follows
    rule = str(details.get("rule", ""))
    record["rule"] = {"name": rule, "uid": m.signature}  # ECS rule.name (OCSF Detection Finding has none)
    if isinstance(details.get("window_start"), str) and isinstance(details.get("window_end"), str):
        record["start_time"], record["end_time"] = (
            epoch_ms(details["window_start"]),
            epoch_ms(details["window_end"]),
        )
