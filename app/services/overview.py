"""The reads behind the app's Overview page, in one read transaction where they come from the vault: identities,
each target's queue, today's alerts, erased people the IdP sent again, the "Outside the policy" line, open
incidents with their clock, open requests, the tokens and the policy in force. Qt-free, run in a worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from app.audit.query import EventFilter, count
from app.core.utc import utc_text
from app.dsr.register import DsrRegister
from app.erasure.backup import RestoreRecord, last_recorded, restore_since, seal_key_for_statements, unusable_because
from app.erasure.tombstones import TombstoneState, refused_recently
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.policy.outside import not_held_by, summary
from app.services.dsr import overview_line
from app.services.incidents import state_text
from app.setup import token_expiry
from app.setup.certificate_expiry import read_expiry
from app.store import browse
from app.store.vault import Vault
from app.targets.status import health


@dataclass(frozen=True)
class Overview:
    users: int
    groups: int
    targets: list[str]
    alerts_today: int
    incidents: list[str]
    policy: str
    returned: list[str] = field(default_factory=list)  # erased people the IdP sent again (refused), newest first
    outside: str = ""  # the "Outside the policy" line: attributes, clients, requests refused or stripped
    requests: str = ""  # open data subject requests and the nearest deadline
    tokens: str = ""  # tokens that work, and those within 14 days of their expiry or past it (decision 0057)
    certificate: str = ""  # the endpoint's TLS certificate within 30 days of its expiry or past it (decision 0058)
    backups: str = ""  # the last backup recorded on the trail (decision 0059)


def read_overview(
    vault: Vault, policy: PolicyInForce, now: datetime | None = None, certificate: Path | None = None
) -> Overview:
    """``certificate``: the one the endpoint serves (None: plain HTTP or not known), said when it nears its expiry."""
    active = policy.get()
    now = now or datetime.now(UTC)  # one moment for every line of the page
    with vault.read_connection() as conn:
        counts = browse.per_type(conn)
        targets = [
            f"{t.config.name}: {t.state}, {t.pending:,} queued, {t.failed:,} failed, {t.held:,} held"
            for t in health(conn, active.policy)
        ]
        since = now.replace(hour=0, minute=0, second=0, microsecond=0)
        alerts = count(conn, EventFilter(kind_prefix="alert.", since=since))
        returned = [returned_line(state) for state in refused_recently(conn, limit=5)]
        outside = summary(conn, not_held_by(active.minimiser)).sentence()
        tokens = token_expiry.overview_line(conn, now)
        backups = backups_line(conn, now, vault.path.parent, seal_key_for_statements(vault))
    incidents = [
        f"#{v.id} {v.title}: {state_text(v)}; {v.clock(now).describe()}"  # as the Incidents page says it
        for v in IncidentRegister(vault, now=lambda: now).list()
        if v.state != "closed"
    ]
    record = active.record
    policy_text = (
        f"v{record.version} ({record.sha256[:12]}), applied {record.applied_at:%Y-%m-%d %H:%M} UTC by {record.operator}"
    )
    requests = overview_line(DsrRegister(vault, now=lambda: now).list(open_only=True), now)
    return Overview(
        counts.get("User", 0), counts.get("Group", 0), targets, alerts, incidents, policy_text, returned, outside,
        requests, tokens=tokens, certificate=_certificate_line(certificate, now), backups=backups,
    )  # fmt: skip


def backups_line(conn: Connection, now: datetime, folder: Path, seal_key: bytes | None = None) -> str:
    """When the last backup of this vault was made, from its trail entry: a copy made by hand (a file copy of the
    vault) is not on the trail and not counted, so the line says "recorded"."""
    last = last_recorded(conn)
    restored = restore_since(conn, last.made if last else None)
    if restored is not None:
        said = restored_phrase(restored, now)
        caveat = unusable_because(conn, restored.at, restored.epoch, folder, seal_key)
        return f"{said}, {caveat}" if caveat else f"{said}: Vault → Back up the vault… (or `custos vault backup`)"
    if last is None:
        return "none recorded: Vault → Back up the vault… (or `custos vault backup`)"
    said = f"last recorded {utc_text(last.made)} ({days_ago(now - last.made)}), {last.size:,} bytes"
    caveat = unusable_because(conn, last.made, last.epoch, folder, seal_key)
    return f"{said}, {caveat}" if caveat else said


def restored_phrase(restored: RestoreRecord, now: datetime) -> str:
    """No backup recorded since the last restore, and the backup restored from, which is one: by its digest, and by
    the time of the newest entry it held (it was made after that; its own making is on the replaced vault's trail)."""
    as_of = f"{utc_text(restored.as_of)} ({days_ago(now - restored.as_of)})" if restored.as_of else "an unrecorded time"
    return (f"none recorded since the restore of {utc_text(restored.at)} from a backup (sha256 "
            f"{restored.sha256[:12]}…) holding the vault as of {as_of}")  # fmt: skip


def days_ago(age: timedelta) -> str:
    return "today" if age.days < 1 else f"{age.days} day{'s' if age.days != 1 else ''} ago"


def _certificate_line(path: Path | None, now: datetime) -> str:
    found = read_expiry(path, now) if path is not None else None
    if found is None or found.marker is None:
        return ""
    return f"TLS certificate {found.describe()}. {found.advice()}"


def returned_line(state: TombstoneState) -> str:
    """One erased person the IdP tried to send again: by request id only (the person is never named)."""
    last = utc_text(state.last_refused) if state.last_refused else "unknown"
    if state.released is not None:
        return f"{state.request_id}: {state.refused} refused, released by {state.released_by}"
    return (
        f"{state.request_id}: {state.refused} re-creation(s) refused, last {last}; remove or block the person at "
        "the identity provider, or release a rehire with `custos erase release`"
    )
