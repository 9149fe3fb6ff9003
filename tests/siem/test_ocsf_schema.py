"""Every OCSF record names only attributes that OCSF 1.1.0, the version it claims in metadata.version, defines.

The attribute lists come from the OCSF schema source itself (github.com/ocsf/ocsf-schema, tag v1.1.0), not from
Custos's code: ``data/ocsf-1.1.0-attributes.json`` holds, for each class Custos maps to and each object reachable
from one, its attribute names, the object type of each object-valued one and which are required. A strict
consumer (a data lake validating OCSF on ingest) refuses or drops a record with attributes its version lacks:
records said 1.1.0 and carried ``actor.app_name`` (1.2), ``is_alert``, ``anomaly_analyses`` and API Activity's
``http_response`` (1.4), ``user.target`` (ECS, inside an OCSF object), ``user`` in Entity Management, ``actor``
(1.4) and ``finding_info`` (in none of 1.1 to 1.4) in Incident Finding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.audit.trail import StoredEvent
from app.siem.mapping import ALERT_RULES, known_kinds
from app.siem.ocsf import OCSF_VERSION, to_ocsf
from tests.siem.test_cef import event

SCHEMA = json.loads((Path(__file__).parent / "data" / "ocsf-1.1.0-attributes.json").read_text(encoding="utf-8"))
# ECS objects at the top level, beside OCSF's (app/siem/ocsf.py): names OCSF 1.1.0 does not use at the top
ECS_TOP = {"@timestamp", "event", "source", "http", "rule"}


def problems(value: dict[str, Any], shape: dict[str, list[str]], where: str) -> list[str]:
    """What in ``value`` the schema does not define, and what it requires that is missing."""
    found = [f"{where}: {name} is required" for name, spec in shape.items() if "required" in spec and name not in value]
    for name, item in value.items():
        if name not in shape:
            found.append(f"{where}: {name} is not an OCSF {SCHEMA['version']} attribute")
            continue
        kind = shape[name][0]
        if not kind or name == "unmapped":  # a scalar, or OCSF's place for everything else
            continue
        items = item if "array" in shape[name] else [item]
        for one in items:
            found += problems(one, SCHEMA["objects"][kind], f"{where}.{name}") if isinstance(one, dict) else [
                f"{where}.{name}: an object is expected"]  # fmt: skip
    return found


def record_problems(record: dict[str, Any]) -> list[str]:
    shape = dict(SCHEMA["classes"][str(record["class_uid"])])
    for profile in record["metadata"].get("profiles", []):  # a declared profile the class takes adds its attributes
        assert profile in SCHEMA["class_profiles"][str(record["class_uid"])], (record["class_uid"], profile)
        shape.update(SCHEMA["profiles"][profile])
    ocsf_part = {name: item for name, item in record.items() if name not in ECS_TOP or name in shape}
    return problems(ocsf_part, shape, str(record["class_uid"]))


FIRST, LAST = "2026-11-27T08:59:00.000000Z", "2026-11-27T08:59:01.000000Z"


def samples() -> list[StoredEvent]:
    """One entry of every mapped kind, and the shapes whose details change the record."""
    alert = {"observed": 60, "threshold": 50, "window_minutes": 10, "window_start": "2026-11-27T08:59:00.000000Z",
             "window_end": "2026-11-27T09:00:00.000000Z", "trigger_seq": 5}  # fmt: skip
    return [
        *(event(kind) for kind in known_kinds()),
        *(event("alert.raised", None, "system:alerts", rule=rule, **alert) for rule in ALERT_RULES),
        event("incident.opened", None, "system:alerts", incident=1, alert_seq=6, source="alert:bulk_reads"),
        event("incident.opened", None, "operator:soc", incident=2, source="manual"),
        event("scim.request", None, method="GET", endpoint="Users", status=200, source="10.1.2.3", duration_ms=3),
        event("scim.request", "ps_ABC", method="DELETE", endpoint="Users/x", status=204, source="10.1.2.3"),
        event("scim.auth.failed", None, "anonymous", "failure", source="192.0.2.1", count=3, first=FIRST, last=LAST),
        event("scim.attributes.rejected", None, outcome="failure", operation="patch", attributes=["x"]),
        event("scim.resource.created", resource_type="Group"),
        event("erasure.target.succeeded", None, "system:erasure", pseudonym="ps_Q", target="hr"),
        event("export.subject", "ps_ABC", "operator:dpo", format="json"),
        event("token.created", None, "operator:admin", token="okta-new"),
        event("something.new", None),
    ]


@pytest.mark.parametrize("item", samples(), ids=lambda item: item.kind)
def test_a_record_names_only_what_its_ocsf_version_defines(item: StoredEvent) -> None:
    record = to_ocsf(item)
    assert record["metadata"]["version"] == OCSF_VERSION == SCHEMA["version"]
    assert record_problems(record) == []
