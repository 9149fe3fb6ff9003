"""ArcSight CEF lines, escaped exactly as the CEF specification asks (header and extension differ).

Only what the audit entry holds goes out: the actor, the pseudonymous subject, attribute names, counts, status
codes. The sealed (encrypted) private part of an entry is never forwarded.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from app import __version__
from app.audit.trail import READ_SUBJECTS, StoredEvent
from app.siem.forwarded import forwarded_details
from app.siem.lines import cef_safe, json_line
from app.siem.mapping import Mapping, describe

VENDOR, PRODUCT = "Custos", "Custos"
# CEF field limits (characters) from the CEF specification
_HEADER_LIMITS = {"vendor": 63, "product": 63, "version": 31, "signature": 1023, "name": 512}
_CS_LIMIT, _MSG_LIMIT = 4000, 1023
DSR_ID_PREFIX = "dsr-"  # app/dsr/register.py's ids


def escape_header(value: str) -> str:
    """In the header: backslash and pipe are escaped; line breaks cannot appear there (they become spaces)."""
    return cef_safe(value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " "))


def escape_extension(value: str) -> str:
    """In extension values: backslash, equals sign and line breaks are escaped; pipes are not."""
    return cef_safe(
        value.replace("\\", "\\\\").replace("=", "\\=").replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
    )


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def ip_or_none(value: Any) -> str | None:
    """A source address only when it is one (the trail may say "unknown")."""
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return None


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def request_label(request_id: str) -> str:
    """The CEF label of a request id: the register of data subject requests mints ``dsr-…`` ids, the erasure
    requests every other. Every id was labelled ``erasureRequestId`` before, so a SIEM rule on erasures also
    matched each access or portability request, and a request opened but never erased looked like an erasure."""
    return "dsrRequestId" if request_id.startswith(DSR_ID_PREFIX) else "erasureRequestId"


def _msg(details: dict[str, Any]) -> str:
    return json_line(details, sort_keys=True, separators=(",", ":"))


def _details(event: StoredEvent) -> dict[str, Any]:
    """The details to forward; a list read's people only when the whole list fits in ``msg`` (1,023 characters,
    ~14 pseudonyms), else their count: cut at the limit, ``msg`` held part of the list, as if it were all of it, and
    lost the details sorted after it (``results``, ``total_results``)."""
    details = forwarded_details(event)
    if READ_SUBJECTS in details and len(_msg(details)) > _MSG_LIMIT:
        details = forwarded_details(event, most=0)
    return details


def extension(event: StoredEvent, m: Mapping) -> dict[str, str]:
    """The CEF extension keys of one event (unescaped), in a stable order: each step below adds its keys in turn."""
    details = _details(event)
    ext: dict[str, str] = {
        "rt": str(epoch_ms(event.at)),
        "act": m.act or event.kind,
        "outcome": event.outcome,
        "suser": event.actor,  # a token, an operator account or a system job
        "externalId": str(event.seq),
        "cat": "/" + "/".join(part.upper() if len(part) <= 3 else part.capitalize() for part in (*m.category, *m.type)),
    }
    _subject_and_source(ext, event, details)
    _request(ext, event, details)
    _numbers(ext, details)
    _labelled_strings(ext, details)
    if m.alert and isinstance(details.get("rule"), str):
        _alert(ext, details)
    if m.config_key:
        ext["cs5Label"], ext["cs5"] = "configKey", m.config_key
    ext["cs6Label"], ext["cs6"] = "chainHash", event.chain_hash  # matches the SIEM copy to the local chain
    if details:  # everything else the entry says, last: a final value loses trailing spaces in CEF
        ext["msg"] = _cut(_msg(details), _MSG_LIMIT)
    return ext


def _subject_and_source(ext: dict[str, str], event: StoredEvent, details: dict[str, Any]) -> None:
    if event.subject:
        ext["duid"] = event.subject  # a keyed pseudonym, never an identifier
    elif isinstance(details.get("pseudonym"), str):
        ext["duid"] = details["pseudonym"]  # erasure steps name the shredded subject by its pseudonym
    source = ip_or_none(details.get("source"))
    if source:
        ext["src"] = source


def _request(ext: dict[str, str], event: StoredEvent, details: dict[str, Any]) -> None:
    """A SCIM request's method and endpoint; a refused token's reason, and a per-minute tally's count and span."""
    if event.kind == "scim.request":
        ext["requestMethod"] = str(details.get("method", ""))
        ext["request"] = "/scim/v2/" + str(details.get("endpoint", ""))
    if event.kind == "scim.auth.failed":
        ext["reason"] = "invalid_token"
        if isinstance(details.get("count"), int):  # a per-minute tally: CEF's aggregated-event count and span
            ext["cnt"] = str(details["count"])
            _span(ext, details, "first", "last")


def _span(ext: dict[str, str], details: dict[str, Any], first: str, last: str) -> None:
    """CEF's ``start`` and ``end`` (epoch ms) from the details' two times named ``first`` and ``last``."""
    for key, name in (("start", first), ("end", last)):
        if isinstance(details.get(name), str):
            ext[key] = str(epoch_ms(details[name]))


def _numbers(ext: dict[str, str], details: dict[str, Any]) -> None:
    if isinstance(details.get("status"), int):
        ext["cn1Label"], ext["cn1"] = "httpStatus", str(details["status"])
    if isinstance(details.get("duration_ms"), int | float):
        ext["cn2Label"], ext["cn2"] = "durationMs", str(round(details["duration_ms"]))


def _labelled_strings(ext: dict[str, str], details: dict[str, Any]) -> None:
    if isinstance(details.get("request"), str):  # an erasure request, or a data subject request (its own label)
        ext["cs1Label"], ext["cs1"] = request_label(details["request"]), details["request"]
    names = details.get("attributes")
    if isinstance(names, list | dict):
        ext["cs2Label"], ext["cs2"] = "attributes", _cut(",".join(str(n) for n in names), _CS_LIMIT)
    elif isinstance(details.get("target"), str):
        ext["cs2Label"], ext["cs2"] = "target", details["target"]
    if isinstance(details.get("ground"), str):
        ext["cs3Label"], ext["cs3"] = "legalGround", details["ground"]


def _alert(ext: dict[str, str], details: dict[str, Any]) -> None:
    """An alert's rule, what it observed against its threshold, and the window it looked at."""
    ext["cs4Label"], ext["cs4"] = "rule", details["rule"]
    for key, name in (("cnt", "observed"), ("cn3", "threshold")):
        if isinstance(details.get(name), int):
            ext[key] = str(details[name])
    if "cn3" in ext:
        ext["cn3Label"] = "threshold"
    _span(ext, details, "window_start", "window_end")

def to_cef(event: StoredEvent) -> str:
    m = describe(event)
    header = [
        "CEF:0",
        escape_header(VENDOR[: _HEADER_LIMITS["vendor"]]),
        escape_header(PRODUCT[: _HEADER_LIMITS["product"]]),
        escape_header(__version__[: _HEADER_LIMITS["version"]]),
        escape_header(m.signature[: _HEADER_LIMITS["signature"]]),
        escape_header(m.name[: _HEADER_LIMITS["name"]]),
        str(max(0, min(10, m.severity))),
    ]
    body = " ".join(f"{key}={escape_extension(value)}" for key, value in extension(event, m).items())
    return "|".join(header) + "|" + body
