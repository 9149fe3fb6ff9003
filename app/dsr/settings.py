"""Where the controller is (country, region, time zone) and how long the register keeps a closed request.

Read from ``requests.toml`` in the data folder when the operator set them (``custos dsr settings``), else the
country is taken from the last line of the policy's controller address (an ISO code or an English country name)
and the time zone from the IANA table of that country's zones (its first, principal zone). Each request stores
the values it was opened with, so changing them later never moves an existing deadline.

Example::

    country = "FR"            # ISO 3166-1 alpha-2: public holidays from the `holidays` package
    subdivision = ""          # a region whose holidays also apply (e.g. "BY" in Germany), optional
    time_zone = "Europe/Paris"
    retention = "P3Y"         # a closed request is deleted this long after closure (ISO 8601 period)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import tomlkit
from holidays import registry

from app.core.errors import ConfigError
from app.dsr import deadline
from app.policy.durations import Period
from app.policy.model import Policy

FILE = "requests.toml"
DEFAULT_RETENTION = Period(years=3)  # evidence of compliance (Art. 5(2)); limitation periods run about that long
_ALIASES = {"uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB",
            "usa": "US", "holland": "NL", "czech republic": "CZ"}  # fmt: skip


@dataclass(frozen=True)
class RegisterSettings:
    country: str  # "" when unknown: weekends only, and the app says so
    subdivision: str
    zone: str
    retention: Period
    source: str  # what the values come from, for the operator: "requests.toml", "policy", "default"
    retention_source: str = "default"  # "requests.toml", "policy" ([own_processing] dsr_register) or "default"

    def describe(self) -> str:
        country = self.country or "unknown (weekends only: set the country)"
        region = f", region {self.subdivision}" if self.subdivision else ""
        return f"country {country}{region}, time zone {self.zone}, kept {self.retention.describe()} after closure"

    def localise(self, moment: datetime) -> datetime:
        """A time without a zone is the controller's local time (as ``dsr open`` reads it)."""
        return deadline.controller_time(moment, self.zone)

    def answer_by(self, received: datetime) -> deadline.DueDay:
        """The Art. 12(3) due day where the controller is, counted as the register counts it: one export, one
        deadline."""
        working = deadline.WorkingDays(self.country, self.subdivision)
        return deadline.DueDay(deadline.due_date(self.localise(received), self.zone, working), self.zone)


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for module, entry in registry.COUNTRIES.items():
        code = entry[1]
        names[module.replace("_", " ")] = code
        names[entry[0].lower()] = code
        names[code.lower()] = code
        if len(entry) > 2:
            names[entry[2].lower()] = code
    names.update(_ALIASES)
    return names


def country_from_address(address: str) -> str:
    """The country of an address whose last part (line or comma-separated) names it; "" when it does not."""
    parts = [p.strip(" .").lower() for p in re.split(r"[,\n]", address) if p.strip(" .")]
    if not parts:
        return ""
    return _country_names().get(parts[-1], "")


def zone_of_country(country: str) -> str | None:
    """The country's principal IANA zone (first in tzdata's zone.tab), or None."""
    table = ""
    for read in (lambda: resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8"),
                 lambda: Path("/usr/share/zoneinfo/zone.tab").read_text(encoding="utf-8")):  # fmt: skip
        try:
            table = read()
            break
        except (ModuleNotFoundError, OSError):
            continue
    for line in table.splitlines():
        fields = line.split("\t")
        if not line.startswith("#") and len(fields) >= 3 and fields[0] == country:
            return fields[2]
    return None


def check_country(country: str, subdivision: str = "") -> tuple[str, str]:
    code = country.strip().upper()
    if code and code not in holidays.list_supported_countries():
        raise ConfigError(f"{country!r} is not an ISO 3166-1 country code the holidays calendar knows (e.g. FR, DE).")
    region = subdivision.strip().upper()
    if region and code:
        known = holidays.list_supported_countries()[code]
        if region not in known:
            raise ConfigError(f"{subdivision!r} is not a region of {code}; one of {', '.join(known[:12])}…")
    return code, region


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{zone!r} is not an IANA time zone such as Europe/Paris.") from exc
    return zone


def from_policy(policy: Policy) -> RegisterSettings:
    """The settings inferred from the policy alone (no requests.toml): for callers without a data folder."""
    return load(None, policy)


def load(data_dir: Path | None, policy: Policy | None) -> RegisterSettings:
    saved: dict[str, object] = {}
    path = data_dir / FILE if data_dir is not None else Path(FILE)
    if data_dir is not None and path.exists():
        try:
            saved = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    inferred = country_from_address(policy.controller.address) if policy is not None else ""
    country, region = check_country(str(saved.get("country", inferred)), str(saved.get("subdivision", "")))
    zone = check_zone(str(saved.get("time_zone") or zone_of_country(country) or "UTC"))
    retention, retention_source = _retention(saved, path, policy)
    source = FILE if saved else ("policy" if inferred else "default")
    return RegisterSettings(country, region, zone, retention, source, retention_source)


def _retention(saved: dict[str, object], path: Path, policy: Policy | None) -> tuple[Period, str]:
    """requests.toml's ``retention``, else the policy's ``[own_processing] dsr_register`` (the period the Art. 30
    record states for this register), else three years."""
    if "retention" in saved:
        try:
            return Period.parse(str(saved["retention"])), FILE
        except ValueError as exc:
            raise ConfigError(f"{path}: retention: {exc}") from exc
    declared = policy.own_retention("dsr_register") if policy is not None else None
    if declared is not None and declared.period is not None:
        return declared.period, "policy"
    return DEFAULT_RETENTION, "default"


def save(data_dir: Path, country: str | None = None, subdivision: str | None = None, zone: str | None = None,
         retention: str | None = None) -> None:  # fmt: skip
    """Write the given values into ``requests.toml`` (others kept), after checking each."""
    path = data_dir / FILE
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    if country is not None or subdivision is not None:
        code, region = check_country(
            country if country is not None else str(document.get("country", "")),
            subdivision if subdivision is not None else str(document.get("subdivision", "")),
        )
        document["country"], document["subdivision"] = code, region
    if zone is not None:
        document["time_zone"] = check_zone(zone)
    if retention is not None:
        try:
            document["retention"] = Period.parse(retention).iso()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
