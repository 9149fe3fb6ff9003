"""Warnings before a SCIM client's token expires, and when it has (decision 0057).

From the moment a token expires, its identity provider is refused (401) and its changes stop arriving: leavers
stay provisioned everywhere, which is the failure an operator least notices, since nothing errors on Custos' side.
So the levels a DPO and an IT team act on are said ahead of time, as the request deadlines are (app/dsr/alerts.py):
14 days before, within the last day, and once expired.

Each level is an ``alert.raised`` entry on the audit trail (rule ``token_expiry``: the token's name, its expiry,
the time left; never the secret or its hint), so it is verified, exported and forwarded to the SIEM with the other
alerts, and is raised once per token and expiry: the marker is the trail entry itself, read back (no column to
keep). After a pause only the most urgent level reached is raised, never a late burst of stale warnings. A revoked
token, or one without an expiry, raises none. Clock-injected and Qt-free; the app's tray notices read
:func:`expiring` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from app.audit.tables import AuditEvent
from app.audit.trail import Event, append, iso_utc
from app.core.periodic import PeriodicJob
from app.setup.tokens import TokenInfo
from app.siem.alerts import ACTOR, KIND
from app.store.models import ApiToken
from app.store.vault import Vault

RULE = "token_expiry"
SOON = timedelta(days=14)  # time to create a token and have the IdP's administrator enter it
LAST_DAY = timedelta(days=1)
# (marker, raised when the time left is at most this): most urgent first
LEVELS: tuple[tuple[str, timedelta], ...] = (("expired", timedelta(0)), ("1d", LAST_DAY), ("14d", SOON))
MARKERS = tuple(marker for marker, _limit in LEVELS)
DEFAULT_INTERVAL_SECONDS = 3600.0
_A = AuditEvent.__table__
_T = ApiToken.__table__


@dataclass(frozen=True)
class Expiring:
    """A token at a warning level: ``rank`` 3 expired, 2 within a day, 1 within 14 days."""

    name: str
    expires: datetime
    left: timedelta  # negative once expired
    marker: str

    @property
    def rank(self) -> int:
        return len(MARKERS) - MARKERS.index(self.marker)

    def describe(self) -> str:
        """The time left (or since) in words, with the moment in UTC."""
        moment = self.expires.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        separator = " " if self.left <= timedelta(0) else ", "  # "expired at …", "expires in 5 days, at …"
        return f"{_left_words(self.left)}{separator}at {moment}"


def _left_words(left: timedelta) -> str:
    return "expired" if left <= timedelta(0) else f"expires in {_duration(left)}"


def expiry_note(info: TokenInfo, now: datetime) -> str:
    """ "expires in 5 days" or "expired" for a live token at a warning level, else "" (the Tokens page, `token
    list`): the same levels and words as the warnings."""
    if info.revoked is not None or info.expires is None:
        return ""
    left = _aware(info.expires) - now
    return _left_words(left) if _marker(left) is not None else ""


def _duration(left: timedelta) -> str:
    if left >= timedelta(days=2):
        return f"{round(left / timedelta(days=1))} days"  # 4 days 23 h is "5 days", the moment said beside it
    hours = max(1, int(left.total_seconds() // 3600))
    return f"{hours} hour" + ("" if hours == 1 else "s")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _marker(left: timedelta) -> str | None:
    return next((marker for marker, limit in LEVELS if left <= limit), None)


def expiring(conn: Connection, now: datetime) -> list[Expiring]:
    """Every token that is not revoked and expires within 14 days or has expired, soonest first."""
    rows = conn.execute(
        select(_T.c.name, _T.c.expires).where(_T.c.revoked.is_(None), _T.c.expires.is_not(None)).order_by(_T.c.expires)
    ).all()
    found = []
    for name, expires in rows:
        moment = _aware(expires)
        left = moment - now
        marker = _marker(left)
        if marker is not None:
            found.append(Expiring(name, moment, left, marker))
    return found


def _raised(conn: Connection) -> set[tuple[str, str, str]]:
    """(token, expiry, marker) of every token_expiry alert on the trail."""
    details = _A.c.details
    rows = conn.execute(
        select(
            func.json_extract(details, "$.token"), func.json_extract(details, "$.expires"),
            func.json_extract(details, "$.marker"),
        ).where(_A.c.kind == KIND, func.json_extract(details, "$.rule") == RULE)
    ).all()  # fmt: skip
    return {(str(token), str(expires), str(marker)) for token, expires, marker in rows}


def _moot(item: Expiring, raised: set[tuple[str, str, str]]) -> bool:
    """This level, or a more urgent one, was raised already for this token and expiry."""
    stamp = iso_utc(item.expires)
    return any((item.name, stamp, marker) in raised for marker in MARKERS[: MARKERS.index(item.marker) + 1])


def _details(item: Expiring, now: datetime) -> dict[str, object]:
    return {
        "rule": RULE, "threshold": int(dict(LEVELS)[item.marker].total_seconds() // 3600),
        "observed": int(item.left.total_seconds() // 3600), "window_minutes": 0, "window_start": iso_utc(now),
        "window_end": iso_utc(now), "trigger_seq": 0, "summary": f"SCIM token {item.name!r} {item.describe()}",
        "token": item.name, "expires": iso_utc(item.expires), "marker": item.marker,
    }  # fmt: skip


def check_token_expiry(vault: Vault, now: datetime | None = None) -> list[Expiring]:
    """Raise the warnings due at ``now`` (one transaction); returns the tokens they were raised for."""
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        raised = _raised(conn)
        due = [item for item in expiring(conn, moment) if not _moot(item, raised)]
        for item in due:
            append(conn, Event(KIND, ACTOR, "success", details=_details(item, moment), at=moment))
    return due


class TokenExpiryJob(PeriodicJob):
    """Checks shortly after start and then hourly: a level is never more than an hour late."""

    def __init__(
        self,
        vault: Vault,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        first_delay: float = 15.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__("token-expiry", lambda: check_token_expiry(vault, clock()), interval, first_delay,
                         ready=lambda: vault.is_open)  # fmt: skip


def overview_line(conn: Connection, now: datetime) -> str:
    """The Overview's Tokens line: how many work now, and each one within 14 days of its expiry or past it."""
    unrevoked = conn.execute(select(_T.c.expires).where(_T.c.revoked.is_(None))).scalars().all()  # a few rows
    live = sum(1 for expires in unrevoked if expires is None or _aware(expires) > now)
    warned = [f"{item.name} {item.describe()}" for item in expiring(conn, now)]
    if not live and not warned:
        return "none active: no identity provider can connect (create one on the Tokens page)"
    head = f"{live} active" + ("" if warned else ", none expiring within 14 days")
    return "\n".join([head, *warned])
