"""The breach register: every incident, notified or not, with its separate times and its evidence (Art. 33(5)).

Each change is one transaction that also appends an audit event naming the incident and the fields changed —
never their free text, which may itself be sensitive and stays in the (encrypted) register. Times are not
personal data: the events carry them, and a correction carries the old and the new time. Times are append-only
(``app.incidents.times``): a correction needs a reason and the 72-hour clock runs from the earliest awareness.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from app.audit.trail import Event, append
from app.incidents import clock, times
from app.incidents import summary as summary_
from app.incidents.checks import (
    BREACH_TYPES,
    DETAILS,
    EDITABLE,
    EDITABLE_TIMES,
    EXEMPTIONS,
    LISTS,
    MAX_COUNT,
    RISKS,
    SPECIAL,
    TITLE_LIMIT,
    check_closable,
    check_counts,
    check_dismissable,
    check_order,
    check_times,
    checked_details,
    checked_times,
    checked_title,
)
from app.incidents.origin import Origin, origin_of
from app.incidents.refusals import (
    AnswerMissing,
    IncidentError,
    Missing,
    NoSuchNotification,
    said,
)
from app.incidents.tables import Incident, IncidentNotification
from app.incidents.view import IncidentView, Notification, state_text
from app.store.results import inserted_id
from app.store.vault import Vault

# Re-exported: the services, exports, drafts and tests import these from here.
__all__ = [
    "BREACH_TYPES",
    "DETAILS",
    "EDITABLE",
    "EDITABLE_TIMES",
    "EXEMPTIONS",
    "MAX_COUNT",
    "RISKS",
    "SPECIAL",
    "TITLE_LIMIT",
    "IncidentError",
    "IncidentRegister",
    "IncidentView",
    "Notification",
    "actor_of",
    "checked_times",
    "checked_title",
    "state_text",
    "utc_now",
]

_I = Incident.__table__
_N = IncidentNotification.__table__


def actor_of(operator: str) -> str:
    """The trail's actor: a person as ``operator:NAME``; a job that acts by itself (``system:alerts`` opening a
    candidate from an alert) keeps its own name, so that a SIEM does not read it as a person's act."""
    return operator if operator.startswith("system:") else f"operator:{operator}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def _text(moment: datetime | None) -> str:
    """A time in a refusal: to the second, as the register compares them."""
    return said(moment)


class IncidentRegister:
    def __init__(self, vault: Vault, now: Callable[[], datetime] = utc_now) -> None:
        self.vault = vault
        self.now = now

    def _moment(self, moment: datetime | None, what: str) -> datetime | None:
        """A time as given by a person: with its zone, in UTC, and not in the future (beyond the skew allowance)."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            raise IncidentError(f"The {what} time needs a time zone (e.g. 2026-11-27T09:00+01:00 or …Z).")
        now = self.now()
        if times.too_late(moment, now):
            raise IncidentError(
                f"The {what} time {_text(moment)} is in the future (it is now {_text(now)}); "
                "record a time once it has happened."
            )
        return moment.astimezone(UTC)

    # -- reading -----------------------------------------------------------------------------------------
    def _view(self, conn: Connection, incident_id: int) -> IncidentView:
        row = conn.execute(select(_I).where(_I.c.id == incident_id)).first()
        if row is None:
            raise IncidentError(f"There is no incident {incident_id}.")
        fields = {key: _utc(value) for key, value in row._mapping.items()}
        for name in LISTS:
            fields[name] = json.loads(fields[name] or "[]")
        notes = conn.execute(select(_N).where(_N.c.incident_id == incident_id).order_by(_N.c.id)).all()
        return IncidentView(
            incident_id,
            fields,
            [Notification(_utc(n.at), n.kind, n.reference, n.summary, number, n.id)
             for number, n in enumerate(notes, start=1)],
            times.history(conn, incident_id),
        )  # fmt: skip

    def get(self, incident_id: int) -> IncidentView:
        with self.vault.read_connection() as conn:
            return self._view(conn, incident_id)

    def summary(self) -> summary_.RegisterSummary:
        """The register in figures (``app.incidents.summary``): what the Art. 30 record cites."""
        with self.vault.read_connection() as conn:
            return summary_.summary(conn)

    def origin(self, view: IncidentView) -> Origin:
        """Opened by hand, or which alert rule raised it (its entry on the trail): what ``breach show`` names."""
        with self.vault.read_connection() as conn:
            return origin_of(conn, str(view.fields["source"]), view.fields["alert_seq"])

    def list(self) -> list[IncidentView]:
        """Every incident ever recorded, newest first, including closed and never-notified ones."""
        with self.vault.read_connection() as conn:
            ids = [row[0] for row in conn.execute(select(_I.c.id).order_by(_I.c.id.desc()))]
            return [self._view(conn, incident_id) for incident_id in ids]

    # -- writing -----------------------------------------------------------------------------------------
    def _change(
        self,
        incident_id: int,
        operator: str,
        kind: str,
        values: dict[str, Any] | Callable[[IncidentView], dict[str, Any]],
        check: Callable[..., None],
        reason: str = "",
    ) -> IncidentView:
        """One change in one transaction: the row, an entry per time recorded, and the audit events.

        A time that already holds a different value is a correction: it needs ``reason``, the earlier value stays
        in the history, and the trail gets an ``incident.time_corrected`` event with the old and the new time.
        """
        with self.vault.write_transaction() as conn:
            current = self._view(conn, incident_id)
            if current.fields["closed_at"] is not None and kind != "incident.reopened":
                raise IncidentError(f"Incident {incident_id} is closed; its record can no longer change.")
            values = dict(values(current) if callable(values) else values)
            corrections = _corrections(current, values, reason)
            if not values:
                raise IncidentError(f"Nothing changed on incident {incident_id}: those values are already recorded.")
            merged = {**current.fields, **values}
            check(merged, current)
            anchor = checked_times(current, values)
            stored = {k: json.dumps(v) if k in LISTS else v for k, v in values.items()}
            conn.execute(update(_I).where(_I.c.id == incident_id).values(**stored))
            self._record_times(conn, operator, kind, incident_id, values, corrections, reason, anchor)
            return self._view(conn, incident_id)

    def _record_times(
        self,
        conn: Connection,
        operator: str,
        kind: str,
        incident_id: int,
        values: dict[str, Any],
        corrections: dict[str, datetime],
        reason: str,
        anchor: datetime | None,
    ) -> None:
        """An entry in the history per time given; the change's event (first times in it); one per correction."""
        now = self.now()
        first_set = {}
        for name in times.TIMES:
            if name in values:
                times.record(conn, incident_id, name, values[name], now, operator, reason.strip())
                if name not in corrections:
                    first_set[name] = times.iso(values[name])
        plain = sorted(set(values) - set(corrections))
        if plain:
            details: dict[str, Any] = {"incident": incident_id, "fields": plain}
            if first_set:
                details["times"] = first_set
            append(conn, Event(kind, f"operator:{operator}", details=details))
        for name, old in corrections.items():
            _append_correction(conn, operator, incident_id, name, old, values[name], anchor)

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
        details: dict[str, Any] | None = None,
    ) -> int:
        """A new incident; ``details`` are the authority-form fields (``DETAILS``), stored in the same transaction."""
        title = checked_title(title)
        extra = checked_details(details or {})
        now = self.now()
        moments: dict[str, datetime | None] = {
            "detected_at": self._moment(detected_at, "detection") or now,
            "occurred_from": self._moment(occurred_from, "occurred-from"),
            "occurred_to": self._moment(occurred_to, "occurred-to"),
        }
        values = {
            "title": title,
            "description": description,
            "source": source,
            "alert_seq": alert_seq,
            "created": now,
            **moments,
        }
        check_times(values, None)
        check_order(values, set(moments))
        row = {
            **{name: "" for name in ("nature", "dpo_contact", "consequences", "measures", *DETAILS)},
            **{name: "[]" for name in LISTS}, "special_categories": None, "cross_border": None,
            **values, **{k: json.dumps(v) if k in LISTS else v for k, v in extra.items()},
        }  # fmt: skip
        with self.vault.write_transaction() as conn:
            incident_id = inserted_id(conn.execute(insert(_I).values(**row)))
            for name, moment in moments.items():
                if moment is not None:
                    times.record(conn, incident_id, name, moment, now, operator, "recorded when opened")
            given = {name: times.iso(moment) for name, moment in moments.items() if moment}
            event: dict[str, Any] = {"incident": incident_id, "source": source, "times": given}
            if alert_seq is not None:
                event["alert_seq"] = alert_seq
            if extra:
                event["fields"] = sorted(extra)
            append(conn, Event("incident.opened", actor_of(operator), details=event))
        return incident_id

    def open_candidate_from_alert(self, alert_seq: int, rule: str, observed: str = "") -> int:
        """An alert becomes a candidate incident: detected now, and deliberately with no 'aware' time."""
        return self.open_incident(
            f"Candidate from alert: {rule}", "system:alerts", description=observed, source=f"alert:{rule}",
            alert_seq=alert_seq,
        )  # fmt: skip

    def update(self, incident_id: int, operator: str, reason: str = "", **values: Any) -> IncidentView:
        """Content and times; a time already recorded is corrected only with ``reason`` (kept with the new entry)."""
        unknown = set(values) - EDITABLE
        if unknown:
            raise IncidentError(f"These cannot be edited here: {', '.join(sorted(unknown))}.")
        check_counts(values)
        if "title" in values:
            values["title"] = checked_title(values["title"])
        for name in EDITABLE_TIMES:
            if name in values:
                values[name] = self._moment(values[name], name.replace("_", " "))
        values.update(checked_details({k: v for k, v in values.items() if k in DETAILS}))
        return self._change(incident_id, operator, "incident.updated", values, lambda *_: None, reason)

    def set_aware(self, incident_id: int, operator: str, reason: str, at: datetime | None = None) -> IncidentView:
        """The controller is 'aware' when reasonably certain a breach occurred — a judgement, recorded with why.

        Recorded again, it is a correction of the time: ``at`` is then required and ``reason`` says why the time
        is corrected. The earlier value stays, and the deadline keeps running from the earliest awareness.
        """
        if not reason.strip():
            raise IncidentError("Say why the controller is now aware (EDPB 9/2022: reasonable certainty).")
        moment = self._moment(at, "aware")

        def values(current: IncidentView) -> dict[str, Any]:
            if current.fields["aware_at"] is None:
                return {"aware_at": moment or self.now(), "aware_by": operator, "aware_reason": reason.strip()}
            if moment is None:
                recorded, anchor = current.fields["aware_at"], current.aware_anchor
                raise AnswerMissing(Missing("awareness_correction", ("at", "reason"), incident_id, "aware_at",
                                            recorded, anchor=anchor))  # fmt: skip
            return {"aware_at": moment}

        return self._change(incident_id, operator, "incident.aware_set", values, lambda *_: None, reason)

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
        moment = self._moment(at, "notification") or self.now()
        if not reference.strip():
            raise IncidentError("Give the supervisory authority's reference (or your own) for this notification.")
        with self.vault.write_transaction() as conn:
            current = self._open(conn, incident_id)
            anchor = current.aware_anchor
            if anchor is None:
                raise IncidentError("Record when the controller became aware before notifying.")
            if moment < anchor:
                raise IncidentError(
                    f"The notification cannot precede the earliest awareness recorded ({_text(anchor)})."
                )
            kind = "follow-up" if follow_up or current.first_notified else "initial"
            late = kind == "initial" and moment > clock.deadline_of(anchor)
            self._require_delay_reason(conn, incident_id, current, late, delay_reason)
            note_id = inserted_id(
                conn.execute(
                    insert(_N).values(incident_id=incident_id, at=moment, kind=kind, reference=reference.strip()[:200],
                                      summary=summary)
                )
            )  # fmt: skip
            times.record(conn, incident_id, "notified", moment, self.now(), operator, "", note_id)
            details = {"incident": incident_id, "kind": kind, "late": late, "at": times.iso(moment)}
            append(conn, Event("incident.notified", f"operator:{operator}", details=details))
            return self._view(conn, incident_id)

    def correct_notification(
        self, incident_id: int, operator: str, number: int, at: datetime, reason: str, delay_reason: str | None = None
    ) -> IncidentView:
        """A notification's time corrected: a new entry with the reason; the earlier time stays in the history."""
        moment = self._moment(at, "notification")
        if moment is None or not reason.strip():
            raise AnswerMissing(Missing("notification_correction", ("at", "reason"), incident_id, "notified"))
        with self.vault.write_transaction() as conn:
            current = self._open(conn, incident_id)
            note = next((n for n in current.notifications if n.number == number), None)
            if note is None:
                raise NoSuchNotification(incident_id, number)
            if note.at == moment:
                raise IncidentError(f"Notification {number} is already recorded at {_text(moment)}; nothing changed.")
            anchor = current.aware_anchor
            assert anchor is not None  # a notification is only recorded after awareness
            if moment < anchor:
                raise IncidentError(
                    f"The notification cannot precede the earliest awareness recorded ({_text(anchor)})."
                )
            others = [n.at for n in current.notifications if n.kind == "initial" and n.number != number]
            first = min([*others, moment]) if note.kind == "initial" else current.first_notified
            late = first is not None and first > clock.deadline_of(anchor)
            self._require_delay_reason(conn, incident_id, current, late, delay_reason)
            conn.execute(update(_N).where(_N.c.id == note.id).values(at=moment))
            times.record(conn, incident_id, "notified", moment, self.now(), operator, reason.strip(), note.id)
            _append_correction(conn, operator, incident_id, "notified", note.at, moment, anchor, number)
            return self._view(conn, incident_id)

    def _open(self, conn: Connection, incident_id: int) -> IncidentView:
        current = self._view(conn, incident_id)
        if current.fields["closed_at"] is not None:
            raise IncidentError(f"Incident {incident_id} is closed.")
        return current

    @staticmethod
    def _require_delay_reason(
        conn: Connection, incident_id: int, current: IncidentView, late: bool, delay_reason: str | None
    ) -> None:
        reason = (delay_reason or "").strip() or current.fields["delay_reason"]
        if late and not reason:
            raise AnswerMissing(Missing("delay_reason", ("delay_reason",), incident_id, "notified"))
        if delay_reason and delay_reason.strip():
            conn.execute(update(_I).where(_I.c.id == incident_id).values(delay_reason=delay_reason.strip()))

    def inform_subjects(
        self, incident_id: int, operator: str, at: datetime | None = None, reason: str = ""
    ) -> IncidentView:
        moment = self._moment(at, "communication")

        def values(current: IncidentView) -> dict[str, Any]:
            if current.fields["subjects_informed_at"] is not None and moment is None:
                recorded = current.fields["subjects_informed_at"]
                raise AnswerMissing(Missing("informed_correction", ("at", "reason"), incident_id,
                                            "subjects_informed_at", recorded))  # fmt: skip
            return {"subjects_informed_at": moment or self.now()}

        return self._change(incident_id, operator, "incident.subjects_informed", values, lambda *_: None, reason)

    def exempt_from_communication(self, incident_id: int, operator: str, exemption: str, reason: str) -> IncidentView:
        if exemption not in EXEMPTIONS or not reason.strip():
            raise IncidentError("Name the Art. 34(3) exemption (a, b or c) and the reasoning.")
        values = {"art34_exemption": exemption, "art34_reason": reason.strip()}
        return self._change(incident_id, operator, "incident.art34_exemption", values, lambda *_: None)

    def close(self, incident_id: int, operator: str, rationale: str | None = None) -> IncidentView:
        values: dict[str, Any] = {"closed_at": self.now()}
        if rationale:
            values["not_notified_rationale"] = rationale.strip()
        return self._change(incident_id, operator, "incident.closed", values, check_closable)

    def dismiss(self, incident_id: int, operator: str, reason: str) -> IncidentView:
        """A candidate (no awareness recorded) judged not to be a personal-data breach: closed with the reasoning,
        as risk "none" and the rationale for not notifying, in one change. It stays in the register (Art. 33(5))."""
        if not reason.strip():
            raise IncidentError("Say why this is not a personal-data breach (kept in the register).")
        now = self.now()
        values = {"risk": "none", "risk_reason": reason.strip(), "risk_at": now,
                  "not_notified_rationale": reason.strip(), "closed_at": now}  # fmt: skip
        return self._change(incident_id, operator, "incident.dismissed", values, check_dismissable)


def _corrections(current: IncidentView, values: dict[str, Any], reason: str) -> dict[str, datetime]:
    """Which times given would replace a different recorded value (old values by name); drops unchanged ones."""
    corrections = {}
    for name in times.TIMES:
        if name not in values:
            continue
        old, new = current.fields[name], values[name]
        if new is None or old == new:
            del values[name]  # a time once recorded is never blanked; the same value is no change
        elif old is not None:
            if not reason.strip():
                raise AnswerMissing(Missing("correction_reason", ("reason",), current.id, name, old, new))
            corrections[name] = old
    return corrections


def _append_correction(
    conn: Connection,
    operator: str,
    incident_id: int,
    name: str,
    old: datetime,
    new: datetime,
    anchor: datetime | None,
    notification: int | None = None,
) -> None:
    details: dict[str, Any] = {"incident": incident_id, "field": name, "old": times.iso(old), "new": times.iso(new)}
    if notification is not None:
        details["notification"] = notification
    if anchor is not None:
        details["deadline"] = times.iso(clock.deadline_of(anchor))
    append(conn, Event("incident.time_corrected", f"operator:{operator}", details=details))


