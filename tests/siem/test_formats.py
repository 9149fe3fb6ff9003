"""CEF and syslog escaping, octet-count framing, and the OCSF shape of every mapped event."""

from __future__ import annotations

from app.audit.trail import StoredEvent
from app.siem.cef import escape_extension, escape_header, to_cef
from app.siem.mapping import known_kinds, mapping_for
from app.siem.ocsf import to_ocsf
from app.siem.syslog import escape_param, frame, message


def event(kind: str = "scim.resource.deleted", **details: object) -> StoredEvent:
    return StoredEvent(7, "2026-11-27T09:00:00.000000Z", kind, "token:okta|prod", "success", "ps_ABC",
                       dict(details), "a" * 64, "b" * 64)  # fmt: skip


def test_cef_escaping() -> None:
    assert escape_header("a|b\\c") == "a\\|b\\\\c"
    assert escape_extension("a=b\\c|d\nnext") == "a\\=b\\\\c|d\\nnext"  # pipes are not escaped in extensions
    line = to_cef(event(attributes=["emails.value"], source="10.0.0.1"))
    assert line.startswith("CEF:0|Custos|Custos|")
    assert "|scim.user.delete|User deprovisioned|4|" in line
    assert "suser=token:okta|prod" in line and "externalId=7" in line and "duid=ps_ABC" in line
    assert "cs2Label=attributes cs2=emails.value" in line and "src=10.0.0.1" in line
    assert "rt=1795770000000" in line


def test_syslog_structured_data_and_frames() -> None:
    assert escape_param('a"b\\c]d') == 'a\\"b\\\\c\\]d'
    text = message(event(), hostname="custos-host")  # PRI 109 = facility 13 (log audit) x 8 + 5 (notice)
    assert text.startswith("<109>1 2026-11-27T09:00:00.000000Z custos-host custos - scim.user.delete ")
    assert '[custos@32473 seq="7" chain="' in text
    unicode_message = "é€ message"  # 2 + 3 bytes
    assert frame(unicode_message) == f"{len(unicode_message.encode())} ".encode() + unicode_message.encode()
    assert frame(unicode_message).startswith(b"13 ")  # 13 octets for 10 characters


def test_ocsf_type_uid_for_every_mapped_kind() -> None:
    for kind in known_kinds():
        mapping = mapping_for(kind)
        record = to_ocsf(event(kind))
        assert record["type_uid"] == record["class_uid"] * 100 + record["activity_id"], kind
        assert record["category_uid"] == record["class_uid"] // 1000
        assert record["metadata"]["uid"] == "7" and record["user"] == {"uid": "ps_ABC"}
        assert record["event"]["kind"] == ("alert" if mapping.alert else "event")
    alert = to_ocsf(event("alert.raised", rule="mass_deprovisioning"))
    assert alert["class_uid"] == 2004 and alert["is_alert"] is True and alert["event"]["kind"] == "alert"
