"""RFC 5424 messages (PRI, header, STRUCTURED-DATA escaping, BOM) and RFC 5425 octet-counting frames."""

from __future__ import annotations

import json
import re

import pytest

from app.siem.syslog import BOM, Collector, escape_param, frame, message
from tests.siem.test_cef import event

HEADER = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]) (.*)$", re.DOTALL)


def test_param_value_escapes_quote_backslash_and_bracket() -> None:
    assert escape_param('a"b') == 'a\\"b'
    assert escape_param("a\\b") == "a\\\\b"
    assert escape_param("a]b") == "a\\]b"
    assert escape_param('say "x\\y]"') == 'say \\"x\\\\y\\]\\"'
    assert escape_param("[=' ok") == "[=' ok"  # nothing else is escaped


def test_message_layout() -> None:
    text = message(event(resource_type="User"), hostname="custos-host", procid="4242")
    match = HEADER.match(text)
    assert match is not None
    pri, timestamp, host, app, proc, msgid, sd, msg = match.groups()
    assert int(pri) == 13 * 8 + 5  # facility 13 (log audit), notice for CEF severity 4
    assert timestamp == "2026-11-27T09:00:00.000000Z" and host == "custos-host" and app == "custos"
    assert proc == "4242" and msgid == "scim.user.delete"
    assert sd == f'[custos@32473 seq="7" chain="{"b" * 64}" kind="scim.resource.deleted"]'
    assert msg.startswith("CEF:0|Custos|Custos|")  # ASCII: no BOM in front of the CEF line


def test_alerts_are_more_severe_and_header_fields_are_printable_ascii() -> None:
    text = message(event("alert.raised", None, rule="mass_deprovisioning"), hostname="my host é")
    assert text.startswith("<106>1 ")  # 13 x 8 + 2 (critical) for CEF severity 9
    assert " my_host__ custos " in text  # spaces and non-ASCII cannot appear in HOSTNAME


def test_non_ascii_msg_carries_a_bom_and_ocsf_json() -> None:
    text = message(event("token.created", None, "operator:zoë", token="entra"), hostname="h", fmt="ocsf")
    sd_end = text.index('"] ') + 3
    assert text[sd_end] == BOM
    record = json.loads(text[sd_end + 1 :])
    assert record["metadata"]["uid"] == "7" and record["actor"]["user"]["name"] == "zoë"
    with pytest.raises(ValueError):
        message(event(), fmt="leef")


def test_octet_count_is_in_bytes_not_characters() -> None:
    unicode_message = "é€ message"  # 10 characters, 2 + 3 bytes for the first two
    assert frame(unicode_message) == b"13 " + unicode_message.encode()
    text = message(event("policy.applied", None, "operator:Zoë Ångström"), hostname="h")
    framed = frame(text)
    length, _, payload = framed.partition(b" ")
    assert int(length) == len(payload) == len(text.encode("utf-8")) > len(text)
    assert payload.decode("utf-8") == text


def test_fingerprint_forms() -> None:
    digest = "AB" * 32
    colons = ":".join(["AB"] * 32)
    assert Collector("h", fingerprint=digest).pin() == Collector("h", fingerprint=f"sha256:{colons}").pin()
    assert Collector("h").pin() is None
    with pytest.raises(ValueError):
        Collector("h", fingerprint="abcd").pin()
