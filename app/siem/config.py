"""Alert thresholds: defaults that suit a workforce directory, overridden by ``siem.toml`` in the data folder.

Example (every key optional)::

    [alerts.mass_deprovisioning]   # more than 50 SCIM deletes within 10 minutes
    count = 50
    minutes = 10
    [alerts.auth_failures]
    count = 20
    minutes = 5
    [alerts.schema_rejections]
    count = 20
    minutes = 10
    [alerts.bulk_exports]          # subject-access exports
    count = 5
    minutes = 10
    [alerts.bulk_reads]            # more resources listed or searched by one client within the minutes
    results = 5000
    minutes = 10
    [alerts.new_token_source]
    enabled = true
    [alerts.working_hours]         # off unless enabled
    enabled = true
    start = "07:00"
    end = "19:00"                  # before start: a night shift (22:00 to 06:00), on the days it starts
    days = ["mon", "tue", "wed", "thu", "fri"]
    timezone = "Europe/Paris"      # default: this computer's

An older ``alerts.toml`` with the same tables at top level is still read when there is no ``siem.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import time, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.errors import ConfigError

FILE, LEGACY_FILE = "siem.toml", "alerts.toml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# What counts as activity for the working-hours rule: changes and operator actions, not reads or system jobs.
ACTIVITY = ("scim.resource.", "export.", "token.", "policy.applied", "target.", "erasure.requested", "vault.unlocked",
            "vault.restored", "vault.passphrase_changed", "vault.backup_key.destroyed",
            "dsr.settings_changed")  # fmt: skip


@dataclass(frozen=True)
class Threshold:
    count: int  # fires when MORE than this many happen …
    minutes: int  # … within this sliding window


@dataclass(frozen=True)
class WorkingHours:
    """The working window: from ``start`` to ``end`` on each of ``days``. An end before the start is a shift that
    crosses midnight (22:00 to 06:00): it belongs to the day it starts on and ends the next morning."""

    start: time = time(7)
    end: time = time(19)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0; for a night shift, the days it starts on
    timezone: str | None = None  # IANA name; None: the computer's local time
    kinds: tuple[str, ...] = ACTIVITY  # kind prefixes that count as activity
    cooldown_minutes: int = 60

    def zone(self) -> tzinfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    def within(self, weekday: int, at: time) -> bool:
        """Whether a local time on a local weekday (Monday = 0) falls inside the working window."""
        if self.start < self.end:
            return weekday in self.days and self.start <= at < self.end
        started_today = weekday in self.days and at >= self.start
        started_yesterday = (weekday - 1) % 7 in self.days and at < self.end
        return started_today or started_yesterday


@dataclass(frozen=True)
class AlertConfig:
    mass_deprovisioning: Threshold = Threshold(50, 10)  # SCIM deletes
    auth_failures: Threshold = Threshold(20, 5)
    schema_rejections: Threshold = Threshold(20, 10)
    bulk_exports: Threshold = Threshold(5, 10)  # subject-access exports
    # an erased person sent again by the IdP (refused): the first in an hour alerts
    erased_subject_returned: Threshold = Threshold(0, 60)
    bulk_read_results: int = 5000  # resources listed or searched by one client…
    bulk_read_minutes: int = 10  # …within this many minutes
    new_token_source: bool = True
    working_hours: WorkingHours | None = None  # None: the rule is off
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # unknown keys, kept for a warning


def _int(table: dict[str, Any], key: str, default: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}.{key} must be a whole number ≥ 0.")
    return value


def _time(value: Any, where: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 24:
        return time(value % 24) if value < 24 else time(23, 59, 59, 999999)
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f'{where} must be a time such as "07:30" (or an hour 0-24).')


def _day(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value[:3].lower() in DAYS:
        return DAYS.index(value[:3].lower())
    raise ConfigError(f"{where} lists days as mon … sun (or 0 = Monday … 6 = Sunday).")


def _working_hours(table: dict[str, Any], legacy: bool) -> WorkingHours | None:
    where = "working_hours" if legacy else "alerts.working_hours"
    if not table.get("enabled", legacy):  # a legacy table meant "on"
        return None
    default = WorkingHours()
    hours = WorkingHours(
        start=_time(table.get("start", 7), f"{where}.start"),
        end=_time(table.get("end", 19), f"{where}.end"),
        days=tuple(sorted({_day(d, f"{where}.days") for d in table.get("days", default.days)})),
        timezone=table.get("timezone") or None,
        kinds=tuple(str(k) for k in table.get("kinds", default.kinds)),
        cooldown_minutes=_int(table, "cooldown_minutes", default.cooldown_minutes, where),
    )
    if hours.start == hours.end:
        raise ConfigError(f"{where}: start and end are the same time; give the working window (it may cross "
                          "midnight for a night shift: start = \"22:00\", end = \"06:00\").")  # fmt: skip
    try:
        hours.zone()
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}.timezone is not a known IANA time zone.") from exc
    return hours


def parse_alerts(table: dict[str, Any], legacy: bool = False) -> AlertConfig:
    """An ``[alerts]`` table (or a legacy ``alerts.toml``) over the defaults."""
    config = AlertConfig()
    prefix = "" if legacy else "alerts."
    values: dict[str, Any] = {}
    counted = ("mass_deprovisioning", "auth_failures", "schema_rejections", "bulk_exports", "erased_subject_returned")
    for rule in counted:
        sub = table.get(rule)
        if isinstance(sub, dict):
            default: Threshold = getattr(config, rule)
            where = prefix + rule
            values[rule] = Threshold(_int(sub, "count", default.count, where), _int(sub, "minutes", default.minutes,
                                                                                    where) or 1)  # fmt: skip
    reads = table.get("bulk_reads")
    if isinstance(reads, dict):
        values["bulk_read_results"] = _int(reads, "results", config.bulk_read_results, prefix + "bulk_reads")
        values["bulk_read_minutes"] = _int(reads, "minutes", config.bulk_read_minutes, prefix + "bulk_reads") or 1
    source = table.get("new_token_source")
    if isinstance(source, dict):
        values["new_token_source"] = bool(source.get("enabled", True))
    elif isinstance(source, bool):
        values["new_token_source"] = source
    hours = table.get("working_hours")
    if isinstance(hours, dict):
        values["working_hours"] = _working_hours(hours, legacy)
    known = {"mass_deprovisioning", "auth_failures", "schema_rejections", "bulk_exports", "bulk_reads",
             "new_token_source", "working_hours", "erased_subject_returned"}  # fmt: skip
    values["extra"] = {key: value for key, value in table.items() if key not in known}
    return replace(config, **values)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # a TOML error says where (line, column), never the text; other errors by their type only
        detail = str(exc) if isinstance(exc, tomllib.TOMLDecodeError) else type(exc).__name__
        raise ConfigError(f"{path.name} cannot be read: {detail}") from exc


def load_alert_config(data_dir: Path) -> AlertConfig:
    """The thresholds for the vault in ``data_dir``: ``siem.toml`` [alerts], else a legacy ``alerts.toml``."""
    path = data_dir / FILE
    if path.is_file():
        alerts = _read(path).get("alerts", {})
        if not isinstance(alerts, dict):
            raise ConfigError(f"{FILE}: [alerts] must be a table.")
        return parse_alerts(alerts)
    legacy = data_dir / LEGACY_FILE
    if legacy.is_file():
        return parse_alerts(_read(legacy), legacy=True)
    return AlertConfig()
