"""OCSF JSON (with ECS field names alongside where they fit) for each audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import __version__
from app.audit.trail import StoredEvent
from app.siem.mapping import mapping_for

OCSF_VERSION = "1.1.0"


def to_ocsf(event: StoredEvent) -> dict[str, Any]:
    m = mapping_for(event.kind)
    epoch_ms = int(datetime.fromisoformat(event.at.replace("Z", "+00:00")).timestamp() * 1000)
    success = event.outcome == "success"
    record: dict[str, Any] = {
        "class_uid": m.class_uid,
        "category_uid": m.category_uid,
        "activity_id": m.activity_id,
        "type_uid": m.type_uid,
        "severity_id": min(6, max(1, (m.severity + 1) // 2)),
        "time": epoch_ms,
        "status_id": 1 if success else 2,
        "status": "Success" if success else "Failure",
        "message": m.name,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": str(event.seq),  # the trail's sequence number: a collector can drop duplicates by it
            "product": {"name": "Custos", "vendor_name": "Custos", "version": __version__},
            "labels": [event.kind],
        },
        "actor": {"user": {"name": event.actor}},
        "unmapped": {"chain_hash": event.chain_hash, "details": event.details},
        # ECS names for Elastic and friends
        "event": {
            "kind": "alert" if m.alert else "event",
            "category": list(m.category),
            "type": list(m.type),
            "action": event.kind,
            "outcome": event.outcome,
            "sequence": event.seq,
        },
    }
    if event.subject:
        record["user"] = {"uid": event.subject}  # pseudonym
    if m.alert:
        record["is_alert"] = True
        record["finding_info"] = {"title": m.name, "uid": str(event.seq)}
    if isinstance(event.details.get("source"), str):
        record["src_endpoint"] = {"ip": event.details["source"]}
    return record
