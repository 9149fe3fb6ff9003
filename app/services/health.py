"""``custos health``: every state an operator must act on, checked now, one line each (decision 0060).

A monitoring system (cron, Nagios, a systemd timer) can run one command and read one exit status, instead of an IT
team opening the app to look: the audit trail verified, the 72-hour clocks and the Art. 12(3) deadlines, the
targets, the credentials identity providers depend on (tokens, the TLS certificate), the last backup and the disk.
Each check says ``ok``, ``warn`` (act soon) or ``fail`` (act now: a deadline passed, the trail does not verify,
IdPs are refused). Nothing here changes the vault except the opening every command records; no line names a
person (counts, ids, token and target names).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.audit.vault_lifecycle import reviewed_folder
from app.audit.verify import verify_trail
from app.core.utc import utc_text
from app.dsr.register import DsrRegister
from app.erasure.backup import RestoreRecord, last_recorded, restore_since, seal_key_for_statements, unusable_because
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.services.overview import days_ago, restored_phrase
from app.setup.certificate_expiry import read_expiry
from app.setup.tls import CERT_FILENAME
from app.setup.token_expiry import expiring
from app.setup.token_expiry import overview_line as tokens_line
from app.siem import spool
from app.store.vault import Vault
from app.targets.status import TargetHealth
from app.targets.status import health as target_health
from app.targets.verify_job import MAX_AGE

OK, WARN, FAIL = "ok", "warn", "fail"
BACKUP_AGE = timedelta(days=30)  # a vault not copied for a month: said, the rhythm stays the operator's
SIEM_STALL = timedelta(hours=1)  # serve forwards every few seconds: an hour behind is a collector down or gone
FREE_SPACE = 1024**3  # below 1 GiB free the vault may fill the disk: SQLite then refuses every write
NEARLY_FULL = 64 * 1024**2  # below this the next burst of writes, a checkpoint or a backup can fill the disk
ATTENTION = ("needs attention", "not provisioned", "incomplete", "drift")
STALE_CHECK = 2 * MAX_AGE  # a target not checked for this long was missed by the daily check (it could not run)


@dataclass(frozen=True)
class Check:
    level: str  # ok | warn | fail
    name: str
    text: str


def check_all(vault: Vault, now: datetime | None = None) -> list[Check]:
    """Every check, in the order they are printed."""
    moment = now or datetime.now(UTC)
    folder = vault.path.parent
    checks: list[Callable[[], Check]] = [
        lambda: trail(vault),
        lambda: incidents(vault, moment),
        lambda: requests(vault, moment),
        lambda: targets(vault, moment),
        lambda: tokens(vault, moment),
        lambda: certificate(folder / CERT_FILENAME, moment),
        lambda: siem(vault, moment),
        lambda: backups(vault, moment),
        lambda: disk(reviewed_folder.get() or folder),  # a review copy's own temporary folder is not the question
    ]
    return [check() for check in checks]


def worst(checks: list[Check]) -> str:
    levels = {check.level for check in checks}
    return FAIL if FAIL in levels else WARN if WARN in levels else OK


def trail(vault: Vault) -> Check:
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    return Check(OK if report.ok else FAIL, "trail", report.summary())


def incidents(vault: Vault, now: datetime) -> Check:
    views = [view for view in IncidentRegister(vault, now=lambda: now).list() if view.state != "closed"]
    overdue = [f"#{view.id}" for view in views if view.clock(now).state == "overdue"]
    running = [f"#{view.id}" for view in views if view.clock(now).state == "running"]
    candidates = [f"#{view.id}" for view in views if view.clock(now).state == "not_started"]
    if overdue:
        return Check(FAIL, "incidents", f"72-hour clock run out, authority not notified: {', '.join(overdue)}")
    if running or candidates:
        parts = [f"clock running: {', '.join(running)}"] if running else []
        parts += [f"awaiting a decision: {', '.join(candidates)}"] if candidates else []
        return Check(WARN, "incidents", "; ".join(parts))
    return Check(OK, "incidents", f"{len(views)} open, none with a clock running")


def requests(vault: Vault, now: datetime) -> Check:
    waiting = [v for v in DsrRegister(vault, now=lambda: now).list(open_only=True) if v.answered_on is None]
    overdue = [v.id for v in waiting if v.clock(now).state == "overdue"]
    soon = [v.id for v in waiting if v.clock(now).state == "due_soon"]
    if overdue:
        return Check(FAIL, "requests", f"Art. 12(3) deadline passed: {', '.join(overdue)}")
    if soon:
        return Check(WARN, "requests", f"due within 7 days: {', '.join(soon)}")
    return Check(OK, "requests", f"{len(waiting)} awaiting an answer, none due within 7 days")


def targets(vault: Vault, now: datetime | None = None) -> Check:
    moment = now or datetime.now(UTC)
    with vault.read_connection() as conn:
        found = target_health(conn, PolicyInForce(vault).get().policy)
    attention = [f"{t.config.name} ({_state(t)}{_unchecked(t, moment)})" for t in found
                 if t.state in ATTENTION or _retrying(t) or _unchecked(t, moment)]  # fmt: skip
    if attention:
        return Check(WARN, "targets", f"to look at: {', '.join(attention)}")
    states = ", ".join(f"{t.config.name} {t.state}" for t in found) or "none configured"
    return Check(OK, "targets", states)


def _retrying(target: TargetHealth) -> bool:
    """Changes queued whose last attempt failed (the target unreachable, timing out, answering 5xx or 429): said
    "ok, catching up" before, for the quarter of an hour of retries until the first change gave up, while nothing
    got through."""
    return target.state == "catching up" and target.last_error is not None


def _unchecked(target: TargetHealth, now: datetime) -> str:
    """ ", last checked … ago" when the daily check of the target itself (app/targets/verify_job.py) has missed a
    day: a target unreachable to it kept "in sync" and "ok" here for as long as it stayed down and quiet, while
    decision 0036 holds that claim to about a day old. Empty otherwise."""
    last = target.verification.last
    if last is None or target.problem or not target.config.enabled or now - last.started < STALE_CHECK:
        return ""
    return f", last checked at the target {(now - last.started).days} days ago: the daily check has not run since"


def _state(target: TargetHealth) -> str:
    if _retrying(target):  # the error names a method and what the target did, never a value (app/targets/client.py)
        return f"{target.state}, retrying: {target.last_error}"
    if target.failed and target.last_error is not None:
        # Given up on: said "needs attention" alone, while the cause (a 401: the credential revoked) was known.
        return f"{target.state}, last error: {target.last_error}"
    return target.state


def tokens(vault: Vault, now: datetime) -> Check:
    with vault.read_connection() as conn:
        line = tokens_line(conn, now).replace("\n", "; ")
        warned = expiring(conn, now)
    if line.startswith("none active"):
        return Check(WARN, "tokens", line)
    return Check(WARN if warned else OK, "tokens", line)


def certificate(path: Path, now: datetime) -> Check:
    found = read_expiry(path, now)
    if found is None:
        return Check(OK, "certificate", "no certificate in the data folder (plain HTTP, or serve --tls-cert)")
    if found.marker is None:
        return Check(OK, "certificate", f"{found.describe()}")
    return Check(FAIL if found.marker == "expired" else WARN, "certificate", f"{found.describe()}. {found.advice()}")


def siem(vault: Vault, now: datetime) -> Check:
    """A collector that has not taken the trail for an hour while entries wait: a SOC's feed stopped, and its
    cursor holds the trail against its retention period (``siem forget`` for one no longer used)."""
    with vault.read_connection() as conn:
        waiting = spool.lagging(conn)
        known = len(spool.cursors(conn))
    stalled = [f"{name} ({pending:,} waiting since {utc_text(moved)})" for name, pending, moved in waiting
               if now - moved > SIEM_STALL]  # fmt: skip
    if stalled:
        return Check(WARN, "siem", f"not taking the trail: {', '.join(stalled)}")
    return Check(OK, "siem", f"{known} collector(s), none stalled" if known else "no collector has taken the trail")


def backups(vault: Vault, now: datetime) -> Check:
    seal_key = seal_key_for_statements(vault)
    with vault.read_connection() as conn:
        last = last_recorded(conn)
        restored = restore_since(conn, last.made if last else None)
        if restored is not None:
            caveat = unusable_because(conn, restored.at, restored.epoch, vault.path.parent, seal_key)
        else:
            caveat = unusable_because(conn, last.made, last.epoch, vault.path.parent, seal_key) if last else None
    if restored is not None:
        return _since_restore(restored, caveat, now)
    if last is None:
        return Check(WARN, "backups", "none recorded (custos vault backup, or the app's Vault menu)")
    said = f"last recorded {utc_text(last.made)} ({days_ago(now - last.made)})"
    if caveat is not None:  # the newest backup cannot be restored as things are: none is usable
        return Check(WARN, "backups", f"{said}, {caveat}")
    return Check(WARN if now - last.made > BACKUP_AGE else OK, "backups", said)


def _since_restore(restored: RestoreRecord, caveat: str | None, now: datetime) -> Check:
    """The backup restored from is the newest known: as old as the vault it holds. Whether it can still be opened
    is ``caveat`` (a destroyed epoch; from before epochs, a passphrase change since); with no time recorded for it
    (an older restore) its age is not known."""
    said = restored_phrase(restored, now)
    if caveat is not None:
        return Check(WARN, "backups", f"{said}, {caveat}")
    if restored.as_of is None or now - restored.as_of > BACKUP_AGE:
        return Check(WARN, "backups", f"{said} (custos vault backup, or the app's Vault menu)")
    return Check(OK, "backups", said)


def disk(folder: Path) -> Check:
    free = shutil.disk_usage(folder).free
    amount = f"{free / 1024**3:.1f} GiB" if free >= FREE_SPACE else f"{free / 1024**2:.1f} MiB"
    if free < NEARLY_FULL:  # "warn" said "act soon" of a disk on which the endpoint already answered 507
        return Check(FAIL, "disk", f"{amount} free in {folder}: the vault can barely grow; free space now")
    return Check(WARN if free < FREE_SPACE else OK, "disk", f"{amount} free in {folder}")
