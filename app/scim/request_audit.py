"""What the request entries on the audit trail may say about a request: fixed names, never the client's text.

A request entry names the route the path matched (one of a fixed set, or ``unknown``), the method if it is one
HTTP defines, and a resource id only as a subject that the trail records as a pseudonym when it knows the subject
already (``Event.subject_if_held``). Before issue 11 the first path segment went into the entry as sent: an
e-mail-shaped one was refused by the trail's personal-data guard and took the whole batch with it.
"""

from __future__ import annotations

from datetime import datetime

from app.audit.trail import Event
from app.scim.auth import ThrottleEngaged

_TYPES = ("Users", "Groups")
# What a request event may name as its endpoint: the routes this server has, never what the client sent.
_ROUTES = frozenset({"Users", "Groups", "Bulk", ".search", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Me"})
UNKNOWN_ROUTE = "unknown"


def matched_route(relative_path: str) -> tuple[str, str | None]:
    """(the route's name, the resource id it names if any) for a path below the base path.

    The id is only ever used as an audit subject, which the trail turns into a pseudonym of an id it already
    knows (``Event.subject_if_held``) and otherwise drops: a client's path never reaches an event as text.
    """
    segments = [part for part in relative_path.split("/") if part]
    if not segments or segments[0] not in _ROUTES:
        return UNKNOWN_ROUTE, None
    route = segments[0]
    if route in _TYPES and len(segments) == 2 and segments[1] != ".search":
        return route, segments[1]
    if len(segments) > (2 if route in _TYPES or route in ("ResourceTypes", "Schemas") else 1):
        return UNKNOWN_ROUTE, None
    return route, None


KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def throttled_event(engaged: ThrottleEngaged, at: datetime) -> Event:
    """The operator's evidence that a failure limit engaged (``at``: when it did): counts and the source key, never
    a token."""
    details = {"scope": engaged.scope, "failures": engaged.failures, "limit": engaged.limit,
               "window_seconds": engaged.window_seconds}  # fmt: skip
    if engaged.scope == "source":
        details["source"] = engaged.source
    return Event("scim.auth.throttled", "system:scim", "failure", details=details, at=at)
