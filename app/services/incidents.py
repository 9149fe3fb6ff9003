"""The breach register (Art. 33 and 34), the use cases behind ``custos breach`` and the app's Incidents page.

``IncidentRegister`` (app/incidents/register.py) is the register's use-case API: each of its methods checks the
change, records it with its trail entry in one transaction and returns the incident as it now stands. Here it is
built with the clock the caller gives; the figures of Art. 33(3)(a) are read through the policy in force; the
authority draft and the letter to the subjects are written from the incident as the register holds it when they
are written. Also how an incident's state is told to a DPO wherever it is shown (Incidents page, Overview).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.core.errors import ConfigError
from app.core.utc import utc_text
from app.core.zones import offset_text
from app.incidents import clock, communication, draft
from app.incidents.clock import local_text, zoned_text
from app.incidents.completeness import still_to_record
from app.incidents.refusals import AnswerMissing, Missing, NoSuchNotification, Order, TimeOrderRefused
from app.incidents.register import (
    BREACH_TYPES,
    EDITABLE_TIMES,
    EXEMPTIONS,
    RISKS,
    SPECIAL,
    TITLE_LIMIT,
    IncidentError,
    IncidentRegister,
    IncidentView,
    checked_times,
    checked_title,
    state_text,
    utc_now,
)
from app.incidents.scope import Scope, approximate
from app.incidents.times import LABELS, SKEW, TIMES
from app.policy.in_force import PolicyInForce
from app.services.dsr import settings_for
from app.store.vault import Vault

__all__ = ["BREACH_TYPES", "EDITABLE_TIMES", "EXEMPTIONS", "LABELS", "RISKS", "SKEW", "SPECIAL", "TIMES",
           "TITLE_LIMIT", "AnswerMissing", "IncidentError", "IncidentRegister", "IncidentView", "Missing",
           "NoSuchNotification", "Order", "Scope", "TimeOrderRefused", "Written",
           "checked_times", "checked_title",
           "clock_short", "clock_text", "controller_zone", "deadline_of", "local_text", "offset_text",
           "record_delay_reason", "register", "scope", "state_text", "still_to_record", "store_scope", "utc_now",
           "utc_text", "write_letter", "zoned_text"]  # fmt: skip

AUDIENCES = ("authority", "subjects")  # the Art. 33 notification draft, the Art. 34 communication


def register(vault: Vault, now: Callable[[], datetime] = utc_now) -> IncidentRegister:
    """The register over this vault, its times checked against ``now`` (never in the future)."""
    return IncidentRegister(vault, now)


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
                        "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "Etc/Greenwich",
                        "Greenwich"})  # fmt: skip


def controller_zone(vault: Vault) -> str | None:
    """The controller's time zone, as the request register counts in it (requests.toml's ``time_zone``, else the
    principal zone of the country in the policy's controller address): a DPO reads the 72-hour deadline there,
    beside UTC. None where only UTC is known (the time would be said twice) or the settings cannot be read (the
    breach register does not stop on the request register's file: it says less)."""
    try:
        zone = settings_for(vault, vault.path.parent).zone
    except ConfigError:
        return None
    return None if zone in _UTC_NAMES else zone


def deadline_of(aware_at: datetime) -> datetime:
    """72 hours after awareness (Art. 33(1))."""
    return clock.deadline_of(aware_at)


# -- who and what is concerned (Art. 33(3)(a)) -------------------------------------------------------------------
def scope(
    vault: Vault,
    policy: PolicyInForce,
    since: datetime | None,
    until: datetime | None,
    attributes: tuple[str, ...],
) -> Scope:
    """Approximately how many Users and records, which categories: Users changed in the window that hold the
    attributes, read from the mirror and the trail under the policy in force."""
    with vault.read_connection() as conn:
        return approximate(conn, policy.get().policy, since, until, ("User",), attributes)


def store_scope(incidents: IncidentRegister, incident_id: int, operator: str, found: Scope) -> IncidentView:
    """Keep the figures on the incident (labelled approximate where it is shown)."""
    return incidents.update(incident_id, operator, approx_subjects=found.subjects, approx_records=found.records,
                            categories=found.categories)  # fmt: skip


def record_delay_reason(incidents: IncidentRegister, incident_id: int, operator: str, reason: str) -> IncidentView:
    """The reasons for notifying later than 72 hours after awareness (Art. 33(1)), recorded before the notification
    is sent (``breach update --delay-reason``): the draft's 'Reasons for delay' then carries them."""
    if not reason.strip():
        raise ValueError("Give the reasons for the delay.")
    return incidents.update(incident_id, operator, delay_reason=reason.strip())


# -- the letters -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str


def write_letter(
    incidents: IncidentRegister, policy: PolicyInForce, incident_id: int, audience: str, out_dir: Path
) -> list[Written]:
    """The notification draft for the authority (Markdown and PDF), or the communication to the data subjects,
    from the incident as the register holds it now, under the policy in force (its version stamped on them)."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience is one of {AUDIENCES}")
    active = policy.get()
    write = communication.write if audience == "subjects" else draft.write
    incident = incidents.get(incident_id)
    zone = controller_zone(incidents.vault)  # the letter's times and the draft's deadline also where the controller is
    try:
        paths = write(incident, active.policy, incidents.now(), active.record.stamp, out_dir, zone)
    except OSError as exc:  # a file (or a dangling link) where the folder should be, no permission, a full disk
        raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or type(exc).__name__}.") from exc
    written = [Written(path, draft.sha256_of(path)) for path in paths]
    _record_letter(incidents.vault, incident_id, audience, active.record.version, written)
    return written


def _record_letter(vault: Vault, incident_id: int, audience: str, version: int, written: list[Written]) -> None:
    """A draft about a breach leaves the vault like every other export: on the trail with each file's hash (the
    names are the letter's own; the folder chosen is not recorded). It was the one export that left no entry."""
    files = {item.path.suffix.lstrip(".").lower() or item.path.name: item.sha256 for item in written}
    details = {"incident": incident_id, "audience": audience, "policy_version": version, "sha256": files}
    with vault.write_transaction() as conn:
        append(conn, Event("export.breach_letter", current_actor.get(), details=details))


# -- how a state is told -----------------------------------------------------------------------------------------
def clock_text(view: IncidentView, now: datetime) -> str:
    """The clock column; a dismissed candidate has no deadline (it was judged not to be a breach)."""
    if state_text(view) == "dismissed":
        return "no deadline: dismissed as not a personal-data breach"
    return view.clock(now).describe()


def clock_short(view: IncidentView, now: datetime) -> str:
    """The clock column: the state in a few words (the deadlines have their own columns)."""
    if state_text(view) == "dismissed":
        return "no deadline (dismissed)"
    return view.clock(now).short()
