"""Warnings before a SCIM client's token expires, and when it has (decision 0057).

From the moment a token expires, its identity provider is refused (401) and its changes stop arriving: leavers
stay provisioned everywhere, which is the failure an operator least notices, since nothing errors on Custos' side.
So the levels a DPO and an IT team act on are said ahead of time, as the request deadlines are (app/dsr/alerts.py):
14 days before, within the last day, and once expired.

Each level is an ``alert.raised`` entry on the audit trail (rule ``token_expiry``: the token's name, its expiry,
the time left; never the secret or its hint), raised once per token and expiry (app/setup/expiry.py). After a
pause only the most urgent level reached is raised, never a late burst of stale warnings. A revoked token, or one
without an expiry, raises none. Clock-injected and Qt-free; the app's notices read :func:`expiring` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from app.audit.trail import iso_utc
from app.core.periodic import PeriodicJob
from app.setup import expiry
from app.setup.tokens import TokenInfo
from app.store.models import ApiToken
from app.store.vault import Vault

RULE = "token_expiry"
SOON = timedelta(days=14)  # time to create a token and have the IdP's administrator enter it
LEVELS = expiry.Levels((("expired", timedelta(0)), ("1d", timedelta(days=1)), ("14d", SOON)))
DEFAULT_INTERVAL_SECONDS = 3600.0
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
        return LEVELS.rank(self.marker)

    def describe(self) -> str:
        """The time left (or since) in words, with the moment in UTC."""
        return expiry.describe(self.left, self.expires)


def expiry_note(info: TokenInfo, now: datetime) -> str:
    """ "expires in 5 days" or "expired" for a live token at a warning level, else "" (the Tokens page, `token
    list`): the same levels and words as the warnings."""
    if info.revoked is not None or info.expires is None:
        return ""
    left = expiry.aware(info.expires) - now
    return expiry.left_words(left) if LEVELS.marker(left) is not None else ""


def expiring(conn: Connection, now: datetime) -> list[Expiring]:
    """Every token that is not revoked and expires within 14 days or has expired, soonest first."""
    rows = conn.execute(
        select(_T.c.name, _T.c.expires).where(_T.c.revoked.is_(None), _T.c.expires.is_not(None)).order_by(_T.c.expires)
    ).all()
    found = []
    for name, expires in rows:
        moment = expiry.aware(expires)
        marker = LEVELS.marker(moment - now)
        if marker is not None:
            found.append(Expiring(name, moment, moment - now, marker))
    return found


def check_token_expiry(vault: Vault, now: datetime | None = None) -> list[Expiring]:
    """Raise the warnings due at ``now`` (one transaction); returns the tokens they were raised for."""
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        said = expiry.raised(conn, RULE, "token")
        due = [
            item for item in expiring(conn, moment)
            if not any((item.name, iso_utc(item.expires), m) in said for m in LEVELS.as_urgent(item.marker))
        ]  # fmt: skip
        for item in due:
            summary = f"SCIM token {item.name!r} {item.describe()}"
            expiry.raise_alert(conn, RULE, LEVELS, item.marker, item.left, summary, {"token": item.name},
                               item.expires, moment)  # fmt: skip
    return due


def overview_line(conn: Connection, now: datetime) -> str:
    """The Overview's Tokens line: how many work now, and each one within 14 days of its expiry or past it."""
    unrevoked = conn.execute(select(_T.c.expires).where(_T.c.revoked.is_(None))).scalars().all()  # a few rows
    live = sum(1 for moment in unrevoked if moment is None or expiry.aware(moment) > now)
    warned = [f"{item.name} {item.describe()}" for item in expiring(conn, now)]
    if not live and not warned:
        return "none active: no identity provider can connect (create one on the Tokens page)"
    head = f"{live} active" + ("" if warned else ", none expiring within 14 days")
    return "\n".join([head, *warned])


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
