"""The Overview's tiles and charts: counts with a one-line detail and a level each, and the trail's time series.

Each tile's figure comes from the register or the store that owns it, read at ``now`` (injected): the targets'
state as the Targets page computes it (app.targets.status), the requests' Art. 12(3) clocks, the incidents'
72-hour clocks, the requests refused in the last 24 hours (app.audit.timeseries). No figure names a person.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.audit import timeseries
from app.audit.query import total
from app.dsr.register import DsrRegister
from app.incidents.register import IncidentRegister, IncidentView
from app.policy.model import Policy
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.status import TargetHealth, health

OK, WARN, BAD = "", "warn", "bad"  # how a tile is marked: nothing to do, look soon, act now


@dataclass(frozen=True)
class Tile:
    key: str
    title: str
    value: str  # the figure, large
    detail: str  # one line under it
    level: str = OK
    page: str = ""  # the page a click opens ("" for none)


@dataclass(frozen=True)
class Dashboard:
    tiles: list[Tile]
    requests: timeseries.TimeSeries  # served / refused per hour, 7 days
    erasures: timeseries.TimeSeries  # requested / closed per day, 30 days
    entries: int  # entries in the audit trail when read
    read_at: datetime  # when read: the tiles refresh less often than the pages, so they say how old they are


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def targets_tile(targets: list[TargetHealth]) -> Tile:
    if not targets:
        return Tile("targets", "Targets", "0", "none configured", OK, "targets")
    states = Counter(t.state for t in targets)
    in_sync = states.pop("in sync", 0)
    others = "; ".join(f"{n} {state}" for state, n in sorted(states.items()))
    level = BAD if states.keys() & {"needs attention", "not provisioned", "drift"} else (WARN if states else OK)
    detail = f"all in sync as of {_oldest_check(targets)}" if not states else f"{in_sync} in sync; {others}"
    return Tile("targets", "Targets", f"{in_sync}/{len(targets)}", detail, level, "targets")


def _oldest_check(targets: list[TargetHealth]) -> str:
    """Targets in sync were each checked against the target itself; the oldest of those checks bounds the claim."""
    return min((t.verification.verified() for t in targets), default="never")


def requests_tile(register: DsrRegister, now: datetime) -> Tile:
    waiting = [v for v in register.list(open_only=True) if v.answered_on is None and v.state != "closed"]
    if not waiting:
        return Tile("requests", "Open subject requests", "0", "none awaiting an answer", OK, "requests")
    clocks = [v.clock(now) for v in waiting]
    overdue = sum(1 for c in clocks if c.state == "overdue")
    nearest = min(clocks, key=lambda c: c.due)
    detail = f"nearest: {nearest.describe()}" + (f"; {overdue} overdue" if overdue else "")
    level = BAD if overdue else (WARN if nearest.state == "due_soon" else OK)
    return Tile("requests", "Open subject requests", f"{len(waiting):,}", detail, level, "requests")


def incidents_tile(views: list[IncidentView], now: datetime) -> Tile:
    open_ = [v for v in views if v.state != "closed"]
    if not open_:
        return Tile("incidents", "Open incidents", "0", "none open", OK, "incidents")
    clocks = [(v, v.clock(now)) for v in open_]
    running = [(v, c) for v, c in clocks if c.state in ("running", "overdue")]
    waiting = sum(1 for _v, c in clocks if c.state == "not_started")
    if running:
        view, clock = min(running, key=lambda pair: pair[1].remaining or timedelta(0))
        detail = f"#{view.id}: {clock.describe().split(' (')[0]}"
        level = BAD if clock.state == "overdue" else WARN
    else:
        detail, level = "no 72-hour clock running", OK
    if waiting:
        detail += f"; {waiting} awaiting awareness"
    return Tile("incidents", "Open incidents", f"{len(open_):,}", detail, level, "incidents")


def refusals_tile(refused: int) -> Tile:
    detail = "SCIM requests answered 4xx/5xx or not authenticated"
    return Tile("refusals", "Refused, last 24 h", f"{refused:,}", detail, WARN if refused else OK, "audit")


def read_dashboard(vault: Vault, policy: Policy, now: datetime) -> Dashboard:
    """Everything the dashboard shows, in one pass (run it in a worker). The store's figures come from one read
    transaction, so the refusals tile and the requests chart never disagree about a request recorded between two
    of their statements (each statement of ``read_connection`` reads its own snapshot)."""
    with vault.read_session() as session:
        conn = session.connection()
        counts = dict(
            conn.execute(select(ScimResource.resource_type, func.count()).group_by(ScimResource.resource_type)).all()
        )
        targets = health(conn, policy)
        refused = timeseries.refusals_since(conn, now - timedelta(hours=24))
        requests = timeseries.requests_per_hour(conn, now)
        erasures = timeseries.erasures_per_day(conn, now)
        entries = total(conn)
    users, groups = counts.get("User", 0), counts.get("Group", 0)
    tiles = [
        Tile("users", "Users", f"{users:,}", "in the encrypted mirror", OK, "identities"),
        Tile("groups", "Groups", f"{groups:,}", "in the encrypted mirror", OK, "identities"),
        targets_tile(targets),
        requests_tile(DsrRegister(vault, now=lambda: now), now),
        incidents_tile(IncidentRegister(vault, now=lambda: now).list(), now),
        refusals_tile(refused),
    ]
    return Dashboard(tiles, requests, erasures, entries, now)


def trail_length(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return total(conn)
