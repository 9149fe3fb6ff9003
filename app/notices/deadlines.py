"""Which deadlines deserve a notice: a breach's 72-hour clock, a request's Art. 12(3) deadline, a token's
or the endpoint certificate's expiry.

Qt-free and clock-injected: ``read_deadlines(vault, now)`` says where every open clock stands, ``DeadlineWatch``
turns that into notices, each level once per item (approaching, then the last day, then overdue), so a check
every minute does not repeat itself. What it remembers lives in memory: after a restart an item still overdue
is said once more, which is the reminder a DPO wants. An item that leaves the list (notified, answered, closed,
extended) is forgotten, so its next deadline gets its own notices.

Texts name incidents by number and requests by id, with the clock's own words (app.incidents.clock,
app.dsr.deadline): never an incident's title (free text) nor anything about the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from app.dsr import deadline
from app.dsr.waiting import waiting
from app.incidents.register import IncidentRegister, IncidentView
from app.notices.notice import BREACH_CLOCK, CERTIFICATE_EXPIRY, REQUEST_DEADLINE, TOKEN_EXPIRY, Notice
from app.setup.certificate_expiry import CertificateExpiry, read_expiry
from app.setup.token_expiry import Expiring, expiring
from app.store.vault import Vault

BREACH_SOON = timedelta(hours=24)  # a breach clock "approaching": a day left of the 72 hours
REQUEST_LAST_DAY = 1  # days left at which a request's deadline is "tomorrow or today"


@dataclass(frozen=True)
class Reached:
    """One open clock at a level worth a notice: higher ``rank`` is more urgent."""

    key: tuple[str, str, str]  # (kind, reference, deadline): a moved deadline is a new item
    rank: int
    notice: Notice


def breach_levels(views: Iterable[IncidentView], now: datetime) -> list[Reached]:
    """Incidents whose 72-hour clock has a day or less left, or has run out, with nobody notified."""
    reached = []
    for view in views:
        if view.state == "closed":
            continue
        status = view.clock(now)
        if status.state not in ("running", "overdue") or status.remaining is None or status.deadline is None:
            continue
        key = (BREACH_CLOCK, str(view.id), status.deadline.isoformat())
        if status.state == "overdue":
            text = (f"Incident #{view.id}: the 72-hour clock has run out, {status.describe()}. Notify the supervisory "
                    "authority with the reasons for the delay (Art. 33(1)).")  # fmt: skip
            reached.append(Reached(key, 2, Notice(BREACH_CLOCK, "Custos: breach notification overdue", text,
                                                  str(view.id), urgent=True)))  # fmt: skip
        elif status.remaining <= BREACH_SOON:
            text = f"Incident #{view.id}: {status.describe()} to notify the supervisory authority (Art. 33(1))."
            reached.append(Reached(key, 1, Notice(BREACH_CLOCK, "Custos: 72-hour clock running out", text,
                                                  str(view.id))))  # fmt: skip
    return reached


def request_levels(rows: Iterable[tuple[str, date, str]], now: datetime) -> list[Reached]:
    """Requests awaiting an answer whose deadline is within a week, tomorrow or today, or passed.

    ``rows``: (request id, deadline in force, the controller's time zone)."""
    reached = []
    for request_id, due, zone in rows:
        state = deadline.clock(due, zone, now)
        key = (REQUEST_DEADLINE, request_id, due.isoformat())
        said = state.describe()
        if state.state == "overdue":
            text = f"Request {request_id}: {said}. Answer it, or record why not (Art. 12(3))."
            notice = Notice(REQUEST_DEADLINE, "Custos: request deadline passed", text, request_id, urgent=True)
            reached.append(Reached(key, 3, notice))
        elif state.state == "due_soon":
            last_day = state.days_left <= REQUEST_LAST_DAY
            title = "Custos: request due " + ("today" if state.days_left == 0 else "tomorrow" if last_day else "soon")
            notice = Notice(REQUEST_DEADLINE, title, f"Request {request_id}: {said} (Art. 12(3)).", request_id)
            reached.append(Reached(key, 2 if last_day else 1, notice))
    return reached


def token_levels(items: Iterable[Expiring]) -> list[Reached]:
    """Tokens within 14 days of their expiry, within the last day, or expired (app/setup/token_expiry.py): the
    identity provider using one is refused from that moment, and its changes (leavers too) stop arriving."""
    reached = []
    for item in items:
        key = (TOKEN_EXPIRY, item.name, item.expires.isoformat())
        if item.marker == "expired":
            text = (f"Token '{item.name}' {item.describe()}: the identity provider using it is refused. Create a "
                    "token and enter it at the identity provider.")  # fmt: skip
            notice = Notice(TOKEN_EXPIRY, "Custos: token expired", text, item.name, urgent=True)
        else:
            text = (f"Token '{item.name}' {item.describe()}. Create a token and enter it at the identity provider "
                    "before then.")  # fmt: skip
            notice = Notice(TOKEN_EXPIRY, "Custos: token expires soon", text, item.name)
        reached.append(Reached(key, item.rank, notice))
    return reached


def certificate_levels(found: CertificateExpiry | None) -> list[Reached]:
    """The endpoint's certificate within 30 or 7 days of its expiry, or expired: identity providers refuse it then."""
    if found is None or found.marker is None:
        return []
    key = (CERTIFICATE_EXPIRY, found.fingerprint, found.not_after.isoformat())
    expired = found.marker == "expired"
    consequence = ": identity providers refuse it" if expired else ""
    text = f"The SCIM endpoint's TLS certificate {found.describe()}{consequence}. {found.advice()}"
    title = "Custos: certificate expired" if expired else "Custos: certificate expires soon"
    return [Reached(key, found.rank, Notice(CERTIFICATE_EXPIRY, title, text, urgent=expired))]


def read_deadlines(vault: Vault, now: datetime, certificate: Path | None = None) -> list[Reached]:
    """Every open clock at a level worth a notice, read from the registers (run it off the GUI thread);
    ``certificate``: the one the endpoint serves (None: plain HTTP, or not known)."""
    incidents = [view for view in IncidentRegister(vault).list() if view.state != "closed"]
    with vault.read_connection() as conn:
        rows = waiting(conn)  # no Art. 12(6) wait, no request that is not a GDPR request; a refusal's own month
        tokens = expiring(conn, now)
    requests = request_levels(((r.id, r.due, r.zone) for r in rows), now)
    served = read_expiry(certificate, now) if certificate is not None else None
    return breach_levels(incidents, now) + requests + token_levels(tokens) + certificate_levels(served)


class DeadlineWatch:
    """Remembers the level each item was last announced at; says only what is new or more urgent."""

    def __init__(self) -> None:
        self._said: dict[tuple[str, str, str], int] = {}

    def news(self, reached: Iterable[Reached]) -> list[Notice]:
        fresh, current = [], set()
        for item in sorted(reached, key=lambda r: -r.rank):
            current.add(item.key)
            if self._said.get(item.key, 0) < item.rank:
                self._said[item.key] = item.rank
                fresh.append(item.notice)
        for key in set(self._said) - current:  # notified, answered, closed or moved: its next clock is new
            del self._said[key]
        return fresh
