"""Data outside the policy, as a DPO needs it: which attribute, from which client, how often, since when.

Built from the audit trail's ``scim.attributes.rejected`` and ``scim.attributes.stripped`` entries (one per
request; app.scim.service records them with attribute names and counts, never values). One row per resource
type, attribute path (with the multi-valued element's type, ``phoneNumbers[type eq "mobile"]``) and client
token: requests refused, requests stripped, first and last seen. Qt-free; the desktop view and any report read
the same rows.

pandas does the grouping: the entries are exploded to one row per (request, path) and aggregated in one
``groupby``; the trail has an index on (kind, seq), so only these two kinds are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, select

from app.audit.tables import AuditEvent
from app.policy.minimise import Minimiser
from app.policy.paths import resolve_path
from app.policy.type_filter import split_typed

REFUSED = "scim.attributes.rejected"
STRIPPED = "scim.attributes.stripped"
_A = AuditEvent.__table__
COLUMNS = ["resource_type", "path", "client", "refused", "stripped", "first_seen", "last_seen"]


@dataclass(frozen=True)
class OutsideRow:
    resource_type: str  # "User" / "Group"
    path: str  # as recorded: "preferredLanguage", 'phoneNumbers[type eq "mobile"]', "name.formatted"
    client: str  # the token's name ("token:" taken off), or the actor as recorded
    refused: int  # requests refused because of it
    stripped: int  # requests stored without it
    first_seen: datetime
    last_seen: datetime

    @property
    def requests(self) -> int:
        return self.refused + self.stripped

    @property
    def attribute(self) -> str:
        """The catalogue path that would admit it: the type qualifier taken out (``phoneNumbers``)."""
        return base_path(self.path)


def base_path(path: str) -> str:
    return split_typed(path)[0]


def client_name(actor: str) -> str:
    return actor.removeprefix("token:")


def _entries(conn: Connection, since_seq: int = 0) -> Iterable[tuple[int, str, str, str, str]]:
    statement = (
        select(_A.c.seq, _A.c.at, _A.c.kind, _A.c.actor, _A.c.details)
        .where(_A.c.kind.in_((REFUSED, STRIPPED)), _A.c.seq > since_seq)
        .order_by(_A.c.seq)
    )
    yield from conn.execute(statement)


def frame(rows: Iterable[tuple[int, str, str, str, str]]) -> pd.DataFrame:
    """One row per (request, path) from the trail's entries: seq, at, kind, client, resource_type, path."""
    records = []
    for seq, at, kind, actor, details_text in rows:
        details = json.loads(details_text)
        # Entries written before the typed paths were recorded name the attributes only.
        paths = details.get("paths") or details.get("attributes") or []
        for path in dict.fromkeys(paths):  # a request counts once per path
            resource_type = str(details.get("resource_type", "User"))
            records.append((seq, at, kind, client_name(actor), resource_type, str(path)))
    return pd.DataFrame.from_records(records, columns=["seq", "at", "kind", "client", "resource_type", "path"])


def aggregate(data: pd.DataFrame) -> list[OutsideRow]:
    """Most requests first, then by path; first and last seen as aware UTC datetimes."""
    if data.empty:
        return []
    data = data.assign(
        at=pd.to_datetime(data["at"], utc=True, format="ISO8601"),
        refused=(data["kind"] == REFUSED).astype(int),
        stripped=(data["kind"] == STRIPPED).astype(int),
    )
    grouped = (
        data.groupby(["resource_type", "path", "client"], as_index=False)
        .agg(
            refused=("refused", "sum"),
            stripped=("stripped", "sum"),
            first_seen=("at", "min"),
            last_seen=("at", "max"),
        )
        .assign(requests=lambda g: g["refused"] + g["stripped"])
        .sort_values(["requests", "path", "client"], ascending=[False, True, True])
    )
    return [
        OutsideRow(
            str(row.resource_type),
            str(row.path),
            str(row.client),
            int(row.refused),
            int(row.stripped),
            row.first_seen.to_pydatetime(),
            row.last_seen.to_pydatetime(),
        )
        for row in grouped.itertuples(index=False)
    ]


def outside_policy(conn: Connection, still_outside: Callable[[OutsideRow], bool] | None = None) -> list[OutsideRow]:
    """Every attribute refused or stripped so far, per client. ``still_outside`` (e.g. "the policy in force does
    not hold it") drops what a later version admitted, so the list shows what still needs a decision."""
    return _kept(aggregate(frame(_entries(conn))), still_outside)


def _kept(rows: list[OutsideRow], still_outside: Callable[[OutsideRow], bool] | None) -> list[OutsideRow]:
    return [row for row in rows if still_outside is None or still_outside(row)]


@dataclass(frozen=True)
class OutsideSummary:
    attributes: int  # distinct attribute paths
    clients: int
    refused: int  # requests, not attributes: one refused request naming three attributes counts once
    stripped: int
    last_seen: datetime | None

    def sentence(self) -> str:
        if not self.attributes:
            return "No request carried personal data outside the policy."
        parts = []
        if self.refused:
            parts.append(f"{self.refused} request{'s' if self.refused != 1 else ''} refused")
        if self.stripped:
            parts.append(f"{self.stripped} stored without {'them' if self.attributes > 1 else 'it'}")
        noun = "attribute" if self.attributes == 1 else "attributes"
        clients = f"{self.clients} client{'s' if self.clients != 1 else ''}"
        return f"{self.attributes} {noun} outside the policy from {clients}: {', '.join(parts)}."


def summary(conn: Connection, still_outside: Callable[[OutsideRow], bool] | None = None) -> OutsideSummary:
    """The Overview's line. Requests are counted per trail entry (seq), so one request is one request."""
    data = frame(_entries(conn))
    rows = _kept(aggregate(data), still_outside)
    if not rows:
        return OutsideSummary(0, 0, 0, 0, None)
    kept = {(row.resource_type, row.path) for row in rows}
    wanted = data[[(t, p) in kept for t, p in zip(data["resource_type"], data["path"], strict=True)]]
    per_request = wanted.drop_duplicates(subset=["seq"])
    return OutsideSummary(
        attributes=len(kept),
        clients=len({row.client for row in rows}),
        refused=int((per_request["kind"] == REFUSED).sum()),
        stripped=int((per_request["kind"] == STRIPPED).sum()),
        last_seen=max(row.last_seen for row in rows),
    )


def not_held_by(minimiser: Minimiser) -> Callable[[OutsideRow], bool]:
    """``still_outside`` for the policy in force: the row's path, with its type, would not be kept (a catalogue
    entry for work phone numbers leaves ``phoneNumbers[type eq "mobile"]`` outside)."""

    def still_outside(row: OutsideRow) -> bool:
        return row.resource_type not in ("User", "Group") or not minimiser.admits(row.resource_type, row.path)

    return still_outside


def catalogue_path(row: OutsideRow) -> str:
    """The catalogue entry that would admit the row: ``phoneNumbers.value`` for a multi-valued attribute with
    values (its type and primary come with it), else the path without its type qualifier."""
    path = row.attribute
    resolved = resolve_path(row.resource_type, path) if row.resource_type in ("User", "Group") else None
    if resolved is not None and resolved.sub_name is None and resolved.top.multi_valued and "value" in resolved.top.sub:
        return f"{path}.value"
    return path


def catalogue_types(row: OutsideRow) -> tuple[str, ...]:
    """The type filter that admits the row and no other type: ``("mobile",)`` for
    ``phoneNumbers[type eq "mobile"]``; () for a row without a canonical type (an entry then holds every type)."""
    _base, kind, _qualified = split_typed(row.path)
    return (kind,) if kind else ()
