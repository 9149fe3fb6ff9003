"""ArcSight CEF lines, escaped exactly as the CEF specification asks (header and extension differ)."""

from __future__ import annotations

import json
from datetime import datetime

from app import __version__
from app.audit.trail import StoredEvent
from app.siem.mapping import mapping_for

VENDOR, PRODUCT = "Custos", "Custos"


def escape_header(value: str) -> str:
    """In the header: backslash and pipe are escaped; newlines cannot appear (they become spaces)."""
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def escape_extension(value: str) -> str:
    """In extension values: backslash, equals sign and line breaks are escaped; pipes are not."""
    return (
        value.replace("\\", "\\\\").replace("=", "\\=").replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
    )


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def to_cef(event: StoredEvent) -> str:
    m = mapping_for(event.kind)
    header = [
        "CEF:0",
        escape_header(VENDOR),
        escape_header(PRODUCT),
        escape_header(__version__),
        escape_header(m.signature),
        escape_header(m.name),
        str(m.severity),
    ]
    details = event.details
    extension = {
        "rt": str(_epoch_ms(event.at)),
        "act": event.kind,
        "outcome": event.outcome,
        "suser": event.actor,
        "externalId": str(event.seq),
        "cs1Label": "chainHash",
        "cs1": event.chain_hash,
    }
    if event.subject:
        extension["duid"] = event.subject  # a keyed pseudonym, never an identifier
    if isinstance(details.get("source"), str):
        extension["src"] = details["source"]
    if isinstance(details.get("status"), int):
        extension["cn1Label"], extension["cn1"] = "httpStatus", str(details["status"])
    names = details.get("attributes")
    if isinstance(names, list):
        extension["cs2Label"], extension["cs2"] = "attributes", ",".join(str(n) for n in names)
    extension["cs3Label"], extension["cs3"] = "details", json.dumps(details, sort_keys=True, separators=(",", ":"))
    body = " ".join(f"{key}={escape_extension(value)}" for key, value in extension.items())
    return "|".join(header) + "|" + body
