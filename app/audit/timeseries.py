"""Time series of the audit trail for charts, computed with pandas: requests per hour, erasures per day, events by
type over a range.

SQLite narrows and pre-counts (per slot of the axis, kind and outcome, inside the time range found by seq:
app.audit.query); pandas puts the counts on a regular time axis (every slot present, zeros included), folds the
rare types into "other", and sums. Only kinds, outcomes, times and counts are read: never a detail that could
hold a person's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Integer, and_, cast, func, select, true

from app.audit.query import EventFilter, _time_bounds
from app.audit.tables import AuditEvent

_A = AuditEvent.__table__
SERVED, REFUSED = "served", "refused"
TOP_TYPES = 5  # event families drawn on their own; the rest is "other"


@dataclass(frozen=True)
class TimeSeries:
    """Counts on a regular axis: slot i covers [start + i·step, start + (i+1)·step)."""

    start: datetime
    step: timedelta
    series: dict[str, list[int]]  # name → one count per slot, every list the same length

    @property
    def slots(self) -> int:
        return len(next(iter(self.series.values()), []))

    @property
    def end(self) -> datetime:
        return self.start + self.step * self.slots

    def total(self, name: str | None = None) -> int:
        return sum(sum(values) for key, values in self.series.items() if name is None or key == name)


def _rows(conn: Connection, where: EventFilter, start: datetime, step: timedelta, *extra: object) -> pd.DataFrame:
    """(slot index, kind, outcome, entries, weight) counted by SQLite: slot i covers [start + i·step, …).

    The slot is computed in SQL from the entry's whole second (its ISO text cut to seconds, so never rounded up
    into the next slot), which keeps the groups to slots × kinds rather than one per second of the range."""
    origin = int(start.timestamp())
    seconds = cast(func.strftime("%s", func.substr(_A.c.at, 1, 19)), Integer) - origin
    slot = (seconds // _whole_seconds(step)).label("slot")
    conditions = [*where.conditions(), *_time_bounds(conn, where), *extra]
    statement = (
        select(slot, _A.c.kind, _A.c.outcome, func.count().label("n"), func.sum(_weight()).label("weight"))
        .where(and_(true(), *conditions))  # type: ignore[arg-type]  # mixed ColumnElement kinds; SQLAlchemy accepts them
        .group_by(slot, _A.c.kind, _A.c.outcome)
    )
    return pd.DataFrame.from_records(conn.execute(statement).all(), columns=["slot", "kind", "outcome", "n", "weight"])


def _whole_seconds(step: timedelta) -> int:
    return max(1, math.ceil(step.total_seconds()))


def _weight() -> object:
    """How many occurrences an entry stands for: a failed-authentication entry is a tally with its ``count``
    (as the alert rules weigh it, app.siem.rules.weight_of); every other entry is one."""
    tally = func.json_extract(_A.c.details, "$.count")
    return func.iif(and_(_A.c.kind == "scim.auth.failed", func.typeof(tally) == "integer", tally > 0), tally, 1)


def _axis(start: datetime, step: timedelta, slots: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start), periods=slots, freq=pd.Timedelta(step))


def _on_axis(frame: pd.DataFrame, column: str, start: datetime, step: timedelta, slots: int) -> dict[str, list[int]]:
    """Sum ``weight`` per (slot, ``column``) with every slot of the axis present, in time order."""
    if frame.empty:
        return {}
    table = frame.assign(slot=frame["slot"].clip(0, slots - 1)).pivot_table(
        index="slot", columns=column, values="weight", aggfunc="sum", fill_value=0
    )
    table = table.reindex(range(slots), fill_value=0)
    table.index = _axis(start, step, slots)
    return {str(name): [int(v) for v in table[name]] for name in table.columns}


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def requests_per_hour(conn: Connection, now: datetime, days: int = 7) -> TimeSeries:
    """SCIM requests served and refused per hour over the last ``days`` (the current hour last).

    Served: authenticated requests answered below 400. Refused: those answered 400 or above (a policy refusal,
    a conflict, a bad filter) plus failed authentications (tallied per source and minute, each tally weighed by
    its count). The two never count one request twice.
    """
    step = timedelta(hours=1)
    slots = days * 24
    start = floor_hour(now) - step * (slots - 1)
    where = EventFilter(since=start, until=floor_hour(now) + step)
    frame = _rows(conn, where, start, step, _A.c.kind.in_(("scim.request", "scim.auth.failed")))
    if not frame.empty:
        served = (frame["kind"] == "scim.request") & (frame["outcome"] == "success")
        frame["what"] = served.map({True: SERVED, False: REFUSED})
    series = _on_axis(frame, "what", start, step, slots)
    return TimeSeries(start, step, {name: series.get(name, [0] * slots) for name in (SERVED, REFUSED)})


def erasures_per_day(conn: Connection, now: datetime, days: int = 30) -> TimeSeries:
    """Erasure requests made and erasures closed (every step done or attested) per day, UTC."""
    step = timedelta(days=1)
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - step * (days - 1)
    where = EventFilter(since=start, until=today + step)
    frame = _rows(conn, where, start, step, _A.c.kind.in_(("erasure.requested", "erasure.closed")))
    if not frame.empty:
        frame["what"] = frame["kind"].map({"erasure.requested": "requested", "erasure.closed": "closed"})
    series = _on_axis(frame, "what", start, step, days)
    return TimeSeries(start, step, {name: series.get(name, [0] * days) for name in ("requested", "closed")})


def refusals_since(conn: Connection, since: datetime) -> int:
    """Requests refused since ``since`` (as ``requests_per_hour`` counts them)."""
    where = EventFilter(since=since)
    frame = _rows(conn, where, since, timedelta(days=1), _A.c.kind.in_(("scim.request", "scim.auth.failed")))
    if frame.empty:
        return 0
    refused = ~((frame["kind"] == "scim.request") & (frame["outcome"] == "success"))
    return int(frame.loc[refused, "weight"].sum())


def family(kind: str) -> str:
    return kind.split(".")[0]


def events_by_type(conn: Connection, where: EventFilter, start: datetime, end: datetime, slots: int) -> TimeSeries:
    """Entries matching ``where`` in ``slots`` equal slices of [start, end), per event family ("scim", "policy"…):
    the ``TOP_TYPES`` busiest on their own, the others summed as "other". Every entry counts once."""
    slots = max(1, min(slots, math.ceil((end - start).total_seconds())))  # a slot is a whole second at least
    step = timedelta(seconds=_whole_seconds((end - start) / slots))  # whole seconds, covering [start, end)
    bounded = EventFilter(**{**where.__dict__, "since": start, "until": end})
    frame = _rows(conn, bounded, start, step)
    if frame.empty:
        return TimeSeries(start, step, {})
    frame["weight"] = frame["n"]  # the audit page counts entries, not the occurrences a tally stands for
    frame["family"] = frame["kind"].map(family)
    busiest = frame.groupby("family")["n"].sum().sort_values(ascending=False, kind="stable")
    keep = set(busiest.index[:TOP_TYPES]) if len(busiest) > TOP_TYPES + 1 else set(busiest.index)
    frame["family"] = frame["family"].where(frame["family"].isin(keep), "other")
    series = _on_axis(frame, "family", start, step, slots)
    order = [name for name in busiest.index if name in keep] + (["other"] if "other" in series else [])
    return TimeSeries(start, step, {name: series[name] for name in order})
