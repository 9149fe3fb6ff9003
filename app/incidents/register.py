"""The breach register: every incident, notified or not, with its separate times and its evidence (Art. 33(5)).

Each change is one transaction that also appends an audit event naming the incident and the fields changed —
never their free text, which may itself be sensitive and stays in the (encrypted) register.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.incidents import clock
from app.incidents.tables import Incident, IncidentNotification
from app.store.vault import Vault

_I = Incident.__table__
_N = IncidentNotification.__table__
RISKS = ("none", "risk", "high_risk")
EXEMPTIONS = {
    "a": "Art. 34(3)(a): the data were unintelligible to anyone not authorised (e.g. encrypted)",
    "b": "Art. 34(3)(b): later measures ensure the high risk is no longer likely to materialise",
    "c": "Art. 34(3)(c): it would involve disproportionate effort; a public communication instead",
}
EDITABLE = frozenset(
    {
        "title", "description", "occurred_from", "occurred_to", "detected_at", "investigation_at", "contained_at",
        "nature", "categories", "approx_subjects", "approx_records", "dpo_contact", "consequences", "measures",
    }
)  # fmt: skip
_TIMES = ("occurred_from", "occurred_to", "detected_at", "investigation_at", "aware_at", "contained_at")


class IncidentError(ConfigError):
    """A change the register refuses, with what to do instead."""


@dataclass(frozen=True)
class Notification:
    at: datetime
    kind: str
    reference: str
    summary: str


@dataclass(frozen=True)
class IncidentView:
    id: int
    fields: dict[str, Any]
    notifications: list[Notification] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def first_notified(self) -> datetime | None:
        initial = [n.at for n in self.notifications if n.kind == "initial"]
        return min(initial) if initial else None

    def clock(self, now: datetime) -> clock.ClockStatus:
        return clock.status(self.fields["aware_at"], self.first_notified, now)

    @property
    def state(self) -> str:
        if self.fields["closed_at"]:
            return "closed"
        if self.first_notified:
            return "notified"
        return "open" if self.fields["aware_at"] else "candidate"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None, what: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise IncidentError(f"The {what} time needs a time zone (e.g. 2026-11-27T09:00+01:00 or …Z).")
    return moment.astimezone(UTC)


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


class IncidentRegister:
    def __init__(self, vault: Vault, now: Callable[[], datetime] = utc_now) -> None:
        self.vault = vault
        self.now = now

    # -- reading -----------------------------------------------------------------------------------------
    def _view(self, conn: Connection, incident_id: int) -> IncidentView:
        row = conn.execute(select(_I).where(_I.c.id == incident_id)).first()
        if row is None:
            raise IncidentError(f"There is no incident {incident_id}.")
        fields = {key: _utc(value) for key, value in row._mapping.items()}
        fields["categories"] = json.loads(fields["categories"] or "[]")
        notes = conn.execute(select(_N).where(_N.c.incident_id == incident_id).order_by(_N.c.at, _N.c.id)).all()
        return IncidentView(
            incident_id, fields, [Notification(_utc(n.at), n.kind, n.reference, n.summary) for n in notes]
        )

    def get(self, incident_id: int) -> IncidentView:
        with self.vault.read_connection() as conn:
            return self._view(conn, incident_id)

    def list(self) -> list[IncidentView]:
        """Every incident ever recorded, newest first, including closed and never-notified ones."""
        with self.vault.read_connection() as conn:
            ids = [row[0] for row in conn.execute(select(_I.c.id).order_by(_I.c.id.desc()))]
            return [self._view(conn, incident_id) for incident_id in ids]

    # -- writing -----------------------------------------------------------------------------------------
    def _change(
        self, incident_id: int, operator: str, kind: str, values: dict[str, Any], check: Callable[..., None]
    ) -> IncidentView:
        with self.vault.write_transaction() as conn:
            current = self._view(conn, incident_id)
            if current.fields["closed_at"] is not None and kind != "incident.reopened":
                raise IncidentError(f"Incident {incident_id} is closed; its record can no longer change.")
            merged = {**current.fields, **values}
            check(merged, current)
            stored = {k: json.dumps(v) if k == "categories" else v for k, v in values.items()}
            conn.execute(update(_I).where(_I.c.id == incident_id).values(**stored))
            details = {"incident": incident_id, "fields": sorted(values)}
            append(conn, Event(kind, f"operator:{operator}", details=details))
            return self._view(conn, incident_id)

    def open_incident(
        self,
        title: str,
        operator: str,
        description: str = "",
        detected_at: datetime | None = None,
        occurred_from: datetime | None = None,
        occurred_to: datetime | None = None,
        source: str = "manual",
        alert_seq: int | None = None,
    ) -> int:
        if not title.strip():
            raise IncidentError("An incident needs a title.")
        values = {
            "title": title.strip()[:200],
            "description": description,
            "source": source,
            "alert_seq": alert_seq,
            "created": self.now(),
            "detected_at": _aware(detected_at, "detection") or self.now(),
            "occurred_from": _aware(occurred_from, "occurred-from"),
            "occurred_to": _aware(occurred_to, "occurred-to"),
        }
        _check_times(values)
        with self.vault.write_transaction() as conn:
            incident_id = int(
                conn.execute(
                    insert(_I).values(
                        **values, nature="", categories="[]", dpo_contact="", consequences="", measures=""
                    )
                ).inserted_primary_key[0]
            )
            details = {"incident": incident_id, "source": source}
            if alert_seq is not None:
                details["alert_seq"] = alert_seq
            append(conn, Event("incident.opened", f"operator:{operator}", details=details))
        return incident_id

    def open_candidate_from_alert(self, alert_seq: int, rule: str, observed: str = "") -> int:
        """An alert becomes a candidate incident: detected now, and deliberately with no 'aware' time."""
        return self.open_incident(
            f"Candidate from alert: {rule}", "system:alerts", description=observed, source=f"alert:{rule}",
            alert_seq=alert_seq,
        )  # fmt: skip

    def update(self, incident_id: int, operator: str, **values: Any) -> IncidentView:
        unknown = set(values) - EDITABLE
        if unknown:
            raise IncidentError(f"These cannot be edited here: {', '.join(sorted(unknown))}.")
        for name in _TIMES:
            if name in values:
                values[name] = _aware(values[name], name.replace("_", " "))
        return self._change(incident_id, operator, "incident.updated", values, lambda merged, _: _check_times(merged))

    def set_aware(self, incident_id: int, operator: str, reason: str, at: datetime | None = None) -> IncidentView:
        """The controller is 'aware' when reasonably certain a breach occurred — a judgement, recorded with why."""
        if not reason.strip():
            raise IncidentError("Say why the controller is now aware (EDPB 9/2022: reasonable certainty).")
        values = {"aware_at": _aware(at, "aware") or self.now(), "aware_by": operator, "aware_reason": reason.strip()}
        return self._change(incident_id, operator, "incident.aware_set", values, lambda m, _: _check_times(m))

    def assess(self, incident_id: int, operator: str, risk: str, reason: str) -> IncidentView:
        if risk not in RISKS:
            raise IncidentError(f"The risk is one of {', '.join(RISKS)}.")
        if not reason.strip():
            raise IncidentError("Give the reasoning of the risk assessment.")
        values = {"risk": risk, "risk_reason": reason.strip(), "risk_at": self.now()}
        return self._change(incident_id, operator, "incident.assessed", values, lambda *_: None)

    def notify(
        self,
        incident_id: int,
        operator: str,
        reference: str,
        at: datetime | None = None,
        summary: str = "",
        delay_reason: str | None = None,
        follow_up: bool = False,
    ) -> IncidentView:
        moment = _aware(at, "notification") or self.now()
        if not reference.strip():
            raise IncidentError("Give the supervisory authority's reference (or your own) for this notification.")
        with self.vault.write_transaction() as conn:
            current = self._view(conn, incident_id)
            if current.fields["closed_at"] is not None:
                raise IncidentError(f"Incident {incident_id} is closed.")
            aware = current.fields["aware_at"]
            if aware is None:
                raise IncidentError("Record when the controller became aware before notifying.")
            kind = "follow-up" if follow_up or current.first_notified else "initial"
            reason = (delay_reason or "").strip() or current.fields["delay_reason"]
            if kind == "initial" and moment > clock.deadline_of(aware) and not reason:
                raise IncidentError("This notification is past the 72-hour deadline: Art. 33(1) requires the reasons "
                                    "for the delay (--delay-reason).")  # fmt: skip
            if delay_reason:
                conn.execute(update(_I).where(_I.c.id == incident_id).values(delay_reason=delay_reason.strip()))
            conn.execute(
                insert(_N).values(incident_id=incident_id, at=moment, kind=kind, reference=reference.strip()[:200],
                                  summary=summary)
            )  # fmt: skip
            late = kind == "initial" and moment > clock.deadline_of(aware)
            details = {"incident": incident_id, "kind": kind, "late": late}
            append(conn, Event("incident.notified", f"operator:{operator}", details=details))
            return self._view(conn, incident_id)

    def inform_subjects(self, incident_id: int, operator: str, at: datetime | None = None) -> IncidentView:
        values = {"subjects_informed_at": _aware(at, "communication") or self.now()}
        return self._change(incident_id, operator, "incident.subjects_informed", values, lambda *_: None)

    def exempt_from_communication(self, incident_id: int, operator: str, exemption: str, reason: str) -> IncidentView:
        if exemption not in EXEMPTIONS or not reason.strip():
            raise IncidentError("Name the Art. 34(3) exemption (a, b or c) and the reasoning.")
        values = {"art34_exemption": exemption, "art34_reason": reason.strip()}
        return self._change(incident_id, operator, "incident.art34_exemption", values, lambda *_: None)

    def close(self, incident_id: int, operator: str, rationale: str | None = None) -> IncidentView:
        values: dict[str, Any] = {"closed_at": self.now()}
        if rationale:
            values["not_notified_rationale"] = rationale.strip()
        return self._change(incident_id, operator, "incident.closed", values, _check_closable)


def _check_times(values: dict[str, Any]) -> None:
    occurred_from, occurred_to = values.get("occurred_from"), values.get("occurred_to")
    detected, aware, contained = values.get("detected_at"), values.get("aware_at"), values.get("contained_at")
    if occurred_from and occurred_to and occurred_to < occurred_from:
        raise IncidentError("The occurrence window ends before it starts.")
    if detected and aware and aware < detected:
        raise IncidentError("The controller cannot be aware before the incident was detected.")
    if occurred_from and contained and contained < occurred_from:
        raise IncidentError("The incident cannot be contained before it occurred.")


def _check_closable(merged: dict[str, Any], current: IncidentView) -> None:
    risk = merged.get("risk")
    if risk is None:
        raise IncidentError("Assess the risk (none, risk or high_risk) before closing.")
    if risk == "none":
        if not current.first_notified and not merged.get("not_notified_rationale"):
            raise IncidentError("Not notified: record why the breach is unlikely to result in a risk (--rationale).")
        return
    missing = [
        label
        for label, present in (
            ("nature of the breach (Art. 33(3)(a))", merged.get("nature")),
            ("categories of data (Art. 33(3)(a))", merged.get("categories")),
            ("approximate number of subjects (Art. 33(3)(a))", merged.get("approx_subjects") is not None),
            ("approximate number of records (Art. 33(3)(a))", merged.get("approx_records") is not None),
            ("DPO contact (Art. 33(3)(b))", merged.get("dpo_contact")),
            ("likely consequences (Art. 33(3)(c))", merged.get("consequences")),
            ("measures taken or proposed (Art. 33(3)(d))", merged.get("measures")),
        )
        if not present
    ]
    if missing:
        raise IncidentError("Before closing, record: " + "; ".join(missing) + ".")
    if not current.first_notified:
        raise IncidentError("A breach with a risk must be notified to the supervisory authority before closing.")
    if risk == "high_risk" and not (merged.get("subjects_informed_at") or merged.get("art34_exemption")):
        raise IncidentError("High risk: inform the data subjects (Art. 34) or record the Art. 34(3) exemption.")
