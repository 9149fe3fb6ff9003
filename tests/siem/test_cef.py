"""CEF: escaping exactly as the specification asks, and the §4.5 mapping of our events."""

from __future__ import annotations

import json
from typing import Any

from app.audit.trail import StoredEvent
from app.siem.cef import escape_extension, escape_header, to_cef

AT = "2026-11-27T09:00:00.000000Z"  # 1795770000000 ms since the epoch


def event(kind: str = "scim.resource.deleted", subject: str | None = "ps_ABC", actor: str = "token:okta",
          outcome: str = "success", **details: Any) -> StoredEvent:  # fmt: skip
    return StoredEvent(7, AT, kind, actor, outcome, subject, dict(details), "a" * 64, "b" * 64)


_UNESCAPE = {"\\": "\\", "=": "=", "|": "|", "n": "\n", "r": "\r"}


def split_cef(line: str) -> tuple[list[str], dict[str, str]]:
    """A small CEF reader: header fields split on unescaped pipes, extension pairs on unescaped ``key=``."""
    fields: list[str] = []
    current, i = "", 0
    while len(fields) < 7:
        if line[i] == "\\":
            current, i = current + line[i + 1], i + 2
        elif line[i] == "|":
            fields, current, i = [*fields, current], "", i + 1
        else:
            current, i = current + line[i], i + 1
    pairs: list[list[str]] = []
    # tokens: split on unescaped "="; the key is the word before it
    parts, chunk, j, body = [], "", 0, line[i:]
    while j < len(body):
        if body[j] == "\\":
            chunk += _UNESCAPE[body[j + 1]]
            j += 2
        elif body[j] == "=":
            parts.append(chunk)
            chunk, j = "", j + 1
        else:
            chunk, j = chunk + body[j], j + 1
    parts.append(chunk)
    key = parts[0]
    for part in parts[1:-1]:
        value, _, next_key = part.rpartition(" ")
        pairs.append([key, value])
        key = next_key
    pairs.append([key, parts[-1]])
    return fields, {k: v for k, v in pairs}


def test_header_escapes_backslash_and_pipe_only() -> None:
    assert escape_header("a|b\\c") == "a\\|b\\\\c"
    assert escape_header("x=y") == "x=y"  # equals signs are not escaped in the header
    assert escape_header("two\nlines") == "two lines"  # no line breaks in a header


def test_extension_escapes_backslash_equals_and_line_breaks_but_not_pipes() -> None:
    assert escape_extension("a=b") == "a\\=b"
    assert escape_extension("C:\\dir\\\\share") == "C:\\\\dir\\\\\\\\share"  # each backslash doubled
    assert escape_extension("pipe|stays") == "pipe|stays"
    assert escape_extension("one\ntwo\r\nthree\rfour") == "one\\ntwo\\nthree\\rfour"
    assert escape_extension("blocked \\, | and =") == "blocked \\\\, | and \\="  # the cefp round-trip example


def test_user_deprovisioned_line() -> None:
    line = to_cef(event(resource_type="User"))
    header, ext = split_cef(line)
    assert header == ["CEF:0", "Custos", "Custos", header[3], "scim.user.delete", "User deprovisioned", "4"]
    assert ext["rt"] == "1795770000000" and ext["act"] == "delete" and ext["outcome"] == "success"
    assert ext["suser"] == "token:okta" and ext["duid"] == "ps_ABC" and ext["externalId"] == "7"
    assert ext["cs6Label"] == "chainHash" and ext["cs6"] == "b" * 64


def test_round_trip_of_awkward_values() -> None:
    actor = "operator:a|b=c\\d\ne"
    _, ext = split_cef(to_cef(event("policy.applied", None, actor, note="x=1|y\\z")))
    assert ext["suser"] == actor
    assert '"note":"x=1|y\\\\z"' in ext["msg"]  # the JSON text of the details, escaped and read back


def test_scim_request_and_attribute_names() -> None:
    _, ext = split_cef(to_cef(event("scim.request", None, method="POST", endpoint="Users", status=201,
                                    duration_ms=12.4, source="10.0.0.1")))  # fmt: skip
    assert ext["requestMethod"] == "POST" and ext["request"] == "/scim/v2/Users"
    assert ext["src"] == "10.0.0.1" and ext["cn1"] == "201" and ext["cn1Label"] == "httpStatus" and ext["cn2"] == "12"
    _, rejected = split_cef(to_cef(event("scim.attributes.rejected", None, outcome="failure", operation="create",
                                         attributes=["employeeNumber", "emails"], count=2)))  # fmt: skip
    assert rejected["cs2Label"] == "attributes" and rejected["cs2"] == "employeeNumber,emails"
    assert rejected["outcome"] == "failure"


def test_only_what_the_entry_holds_and_never_the_sealed_part() -> None:
    line = to_cef(event("scim.resource.patched", sealed="CIPHERTEXT", resource_type="User"))
    assert "CIPHERTEXT" not in line and "sealed" not in line
    assert "src=" not in to_cef(event("scim.auth.failed", None, "anonymous", "failure", source="unknown"))
    header, ext = split_cef(to_cef(event("scim.auth.failed", None, "anonymous", "failure", source="192.0.2.7")))
    assert header[4:] == ["auth.failure", "Authentication failed", "6"]
    assert ext["reason"] == "invalid_token" and ext["src"] == "192.0.2.7"


def test_alert_line() -> None:
    details = {"rule": "mass_deprovisioning", "observed": 51, "threshold": 50, "window_minutes": 10,
               "window_start": "2026-11-27T08:55:00.000000Z", "window_end": AT}  # fmt: skip
    header, ext = split_cef(to_cef(event("alert.raised", None, "system:alerts", **details)))
    assert header[4:] == ["anomaly.mass_deprovisioning", "Anomalous bulk deprovisioning", "9"]
    assert ext["cnt"] == "51" and ext["cn3"] == "50" and ext["cs4"] == "mass_deprovisioning"
    assert ext["start"] == "1795769700000" and ext["end"] == "1795770000000"


def test_erasure_and_groups() -> None:
    header, ext = split_cef(to_cef(event("erasure.requested", None, "operator:dpo", request="er_1", ground="17(1)(b)")))
    assert header[4:6] == ["gdpr.erasure.local", "Subject erased"]
    assert ext["cs1Label"] == "erasureRequestId" and ext["cs1"] == "er_1" and ext["cs3"] == "17(1)(b)"
    header, _ = split_cef(to_cef(event("scim.resource.created", resource_type="Group")))
    assert header[4:6] == ["scim.group.create", "Group created"]


BREAKS = "\u2028\u2029\x85"  # where a Unicode line reader (str.splitlines, .NET ReadLine) ends a line too


def test_no_character_a_line_reader_breaks_at_or_a_terminal_obeys_reaches_a_cef_line() -> None:
    """CEF escaped only \\n and \\r: a bundle file name or an actor recorded with U+2028, U+2029 or NEL split the
    entry in two for a Unicode line reader, the rest free to read as an entry of its own; ESC and C1 controls
    reached the analyst's terminal. In JSON (msg) they are \\u escapes, so the value comes back whole."""
    name = f"bundle{BREAKS}CEF:0|Custos|Custos|0|forged|Forged|10|\x1b[2J.zip"
    line = to_cef(event("export.audit_bundle", actor=f"operator:dpo{BREAKS}\x1b\x9b", file=name))
    assert line.splitlines() == [line]  # before: four lines
    assert not any(ch in line for ch in f"{BREAKS}\x1b\x9b")
    _, ext = split_cef(line)
    assert ext["suser"] == "operator:dpo" + "\ufffd" * 5
    assert json.loads(ext["msg"])["file"] == name  # nothing lost in the JSON
