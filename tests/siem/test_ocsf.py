"""OCSF records: type_uid = class_uid x 100 + activity_id for every mapped kind, required attributes, ECS names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.siem.mapping import ALERT_RULES, known_kinds
from app.siem.ocsf import to_ocsf
from tests.siem.test_cef import event

# Attributes each OCSF class requires beyond the base event's (OCSF 1.1.0).
REQUIRED = {3001: ("user",), 3002: ("user",), 3004: ("entity",), 6003: ("api",), 2004: ("finding_info",),
            2005: ("finding_info_list",)}  # fmt: skip
BASE = ("class_uid", "category_uid", "activity_id", "type_uid", "severity_id", "time", "metadata")


def check(record: dict[str, Any]) -> None:
    assert record["type_uid"] == record["class_uid"] * 100 + record["activity_id"]
    assert record["category_uid"] == record["class_uid"] // 1000
    for name in BASE + REQUIRED.get(record["class_uid"], ()):
        assert name in record, (record["class_uid"], name)
    assert 1 <= record["severity_id"] <= 5
    json.dumps(record)  # serialisable as one JSON line


def subject_of(record: dict[str, Any]) -> str | None:
    """The pseudonym, in the attribute its class has for it (OCSF 1.1.0), else in unmapped."""
    for name in ("user", "entity", "group"):
        if isinstance(record.get(name), dict) and "uid" in record[name]:
            return str(record[name]["uid"])
    if record.get("resources"):
        return str(record["resources"][0]["uid"])
    subject = record["unmapped"].get("subject")
    return str(subject) if subject is not None else None


def test_every_mapped_kind() -> None:
    for kind in known_kinds():
        record = to_ocsf(event(kind))
        check(record)
        assert record["metadata"]["uid"] == "7" and record["metadata"]["sequence"] == 7
        assert record["unmapped"]["chain_hash"] == "b" * 64
        assert subject_of(record) == "ps_ABC", kind
        expected_kind = "alert" if kind.startswith(("alert.", "incident.")) else "event"
        assert record["event"]["kind"] == expected_kind, kind


@pytest.mark.parametrize(("method", "activity"), [("POST", 1), ("GET", 2), ("PUT", 3), ("PATCH", 3), ("DELETE", 4)])
def test_scim_requests_by_method(method: str, activity: int) -> None:
    record = to_ocsf(event("scim.request", None, method=method, endpoint="Users", status=200, source="10.1.2.3"))
    check(record)
    assert (record["class_uid"], record["activity_id"]) == (6003, activity)
    assert record["http_request"]["http_method"] == method and record["status_code"] == "200"
    assert record["http"] == {"response": {"status_code": 200}}  # ECS
    assert record["src_endpoint"] == {"ip": "10.1.2.3"} and record["source"] == {"ip": "10.1.2.3"}


def test_dynamic_kinds() -> None:
    cases = [
        (event("scim.resource.created", resource_type="Group"), 3006, 6),
        (event("scim.resource.deleted", resource_type="Group"), 3006, 5),
        (event("scim.attributes.rejected", None, outcome="failure", operation="patch", attributes=["x"]), 6003, 3),
        (event("erasure.target.succeeded", None, "system:erasure", pseudonym="ps_Q", target="hr"), 6003, 4),
        (event("incident.aware_set", None, "operator:dpo"), 2005, 2),
        (event("something.new", None), 3004, 99),
    ]
    for item, class_uid, activity in cases:
        record = to_ocsf(item)
        check(record)
        assert (record["class_uid"], record["activity_id"]) == (class_uid, activity), item.kind
    for rule in ALERT_RULES:
        check(to_ocsf(event("alert.raised", None, "system:alerts", rule=rule, observed=3)))


def test_authentication_failure() -> None:
    record = to_ocsf(event("scim.auth.failed", None, "anonymous", "failure", source="192.0.2.1"))
    assert record["type_uid"] == 300201 and record["status_id"] == 2 and record["status"] == "Failure"
    assert record["status_detail"] == "INVALID_CREDENTIALS"
    assert record["event"] == {"kind": "event", "category": ["authentication"], "type": ["start"],
                               "action": "scim-auth-failed", "outcome": "failure", "sequence": 7,
                               "code": "auth.failure"}  # fmt: skip


def test_detection_finding_for_alerts() -> None:
    details = {"rule": "mass_deprovisioning", "observed": 500, "threshold": 50, "window_minutes": 10,
               "window_start": "2026-11-27T08:59:00.000000Z", "window_end": "2026-11-27T09:00:00.000000Z"}  # fmt: skip
    record = to_ocsf(event("alert.raised", None, "system:alerts", **details))
    assert record["class_uid"] == 2004 and record["type_uid"] == 200401
    assert record["finding_info"]["types"] == ["anomaly.mass_deprovisioning"]
    assert record["event"]["kind"] == "alert" and record["event"]["category"] == ["iam"]
    assert record["rule"]["name"] == "mass_deprovisioning" and record["count"] == 500
    assert record["start_time"] == record["end_time"] - 60_000
    assert record["severity_id"] == 5


def test_no_sealed_part_and_erasure_label() -> None:
    record = to_ocsf(event("erasure.requested", None, "operator:dpo", request="er_1", sealed="CIPHERTEXT"))
    assert "CIPHERTEXT" not in json.dumps(record)
    assert "gdpr-art17" in record["metadata"]["labels"]
    assert record["event"]["action"] == "gdpr-erasure"


def test_no_character_a_line_reader_breaks_at_reaches_an_ocsf_record() -> None:
    """json.dumps(ensure_ascii=False) leaves U+2028, U+2029, NEL and the C1 controls raw: one record read as two
    lines by a Unicode line reader. They are \\u escapes now; the values come back whole."""
    from app.siem.syslog import body

    name = "bundle\u2028\u2029\x85\x9b.zip"
    record = body(event("export.audit_bundle", actor="operator:dpo\u2028x", file=name), "ocsf")
    assert record.splitlines() == [record] and not any(ch in record for ch in "\u2028\u2029\x85\x9b")
    parsed = json.loads(record)
    assert parsed["unmapped"]["details"]["file"] == name and parsed["actor"]["user"]["name"] == "dpo\u2028x"
