"""The register of data subject requests: every request from intake to answer, with the Art. 12(3) clock.

Each change is one write transaction that also appends its ``dsr.*`` audit event (ids, rights, dates, states,
grounds — never the free text or the requester's details, which are sealed in the request, app.dsr.sealing).
The audit trail is also the request's timeline (app.dsr.timeline).
"""

from __future__ import annotations

import builtins
import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from app.audit.pseudonyms import pseudonym_for, subject_secrets
from app.audit.tables import SubjectKey
from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.directory import repository as repo
from app.dsr import deadline, model, sealing
from app.dsr import settings as register_settings
from app.dsr.deadline import Clock
from app.dsr.tables import DsrAttachment, DsrRequest, DsrStep
from app.erasure.requests import check_note
from app.policy.versions import in_force
from app.store.vault import Vault

_Q = DsrRequest.__table__
_S = DsrStep.__table__
_A = DsrAttachment.__table__
_K = SubjectKey.__table__
MAX_TEXT = 2000
Files = list[tuple[str, str, str]]  # (kind, file name, SHA-256)


class RequestError(ConfigError):
    """A change the register refuses, with what to do instead."""


class RightToName(RequestError):
    """A refusal on ``ground`` that applies to ``right`` alone, asked of more rights: the register names the right
    to limit it to, and each front end says how to name it (``dsr refuse --right``, the Refuse form's Right)."""

    def __init__(self, ground: str, right: str) -> None:
        super().__init__("The Art. 17(3) exceptions apply to erasure only: refuse that right alone.")
        self.ground = ground
        self.right = right


@dataclass(frozen=True)
class Step:
    id: int
    right: str
    state: str
    ground: str | None
    link_kind: str | None
    link_ref: str | None
    done_at: datetime | None
    done_by: str | None

    @property
    def final(self) -> bool:
        return self.state in model.STEP_FINAL


@dataclass(frozen=True)
class Attachment:
    kind: str
    name: str
    sha256: str
    at: datetime


@dataclass(frozen=True)
class RequestView:
    fields: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    private: dict[str, Any] | None = None  # None: crypto-shredded

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def deadline(self) -> date:
        """The day the answer is held to: the extended one, unless a right was refused (app.dsr.deadline.in_force:
        Art. 12(4), a refusal within one month of receipt whatever the extension)."""
        return deadline.in_force(self.fields["due"], self.fields["extended_due"], self.refused)

    @property
    def refused(self) -> bool:
        return any(s.state == "refused" for s in self.steps)

    @property
    def refusal_due(self) -> date | None:
        """Art. 12(4): the day a refusal recorded on this request must reach the person by (None: nothing refused)."""
        return self.fields["due"] if self.refused and self.gdpr else None

    @property
    def gdpr(self) -> bool:
        """False for a request recorded as not a GDPR request: no Art. 12(3) deadline, no alerts."""
        return "not_gdpr" not in self.fields["rights"]

    @property
    def shredded(self) -> bool:
        return self.private is None

    def clock(self, now: datetime) -> Clock:  # (``deadline`` here is the field, not the module)
        if not self.gdpr:
            return Clock("no_deadline", self.deadline, 0)
        return deadline.clock(self.deadline, self.fields["zone"], now, self.fields["answered_on"],
                              self.fields.get("paused_since"))  # fmt: skip

    def step(self, right: str) -> Step | None:
        return next((s for s in self.steps if s.right == right), None)

    @property
    def received_day(self) -> date:
        return deadline.received_day(self.fields["received"], self.fields["zone"])


@dataclass(frozen=True)
class Skeleton:
    """A request without its sealed detail (``view.private`` is None: not opened, which does not mean shredded)."""

    view: RequestView
    sealed: str  # held | none | shredded: the state of the requester's sealed detail, never its content


def _sealed_state(conn: Connection, fields: dict[str, Any]) -> str:
    if not fields["sealed"]:
        return "none"
    key = sealing.key_for(conn, fields["id"], fields["key_ref"], fields["subject"])
    return "held" if key is not None else "shredded"


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    return "dsr-" + secrets.token_hex(8)  # random, not a counter: unique across backup restores


def actor_of(operator: str) -> str:
    return operator if ":" in operator else f"operator:{operator}"


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def _text(value: str | None, what: str, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise RequestError(f"Give the {what}.")
        return None
    if len(value) > MAX_TEXT:
        raise RequestError(f"The {what} is at most {MAX_TEXT} characters.")
    return value.strip()


class DsrRegister:
    def __init__(self, vault: Vault, now: Callable[[], datetime] = utc_now) -> None:
        self.vault = vault
        self.now = now

    # -- reading -----------------------------------------------------------------------------------------
    def read(self, conn: Connection, request_id: str) -> RequestView:
        fields, steps, files = self._skeleton(conn, request_id)
        key = sealing.key_for(conn, request_id, fields["key_ref"], fields["subject"])
        private = sealing.open_sealed(key, request_id, fields["sealed"])
        return RequestView(fields, steps, files, private)

    def _skeleton(self, conn: Connection, request_id: str) -> tuple[dict[str, Any], list[Step], list[Attachment]]:
        """The request's plain part: its row, steps and attachments, the sealed blob not opened."""
        row = conn.execute(select(_Q).where(_Q.c.id == request_id)).first()
        if row is None:
            raise RequestError(f"There is no request {request_id!r}.")
        fields = {key: _utc(value) for key, value in row._mapping.items()}
        fields["rights"] = json.loads(fields["rights"])
        steps = [
            Step(s.id, s.right, s.state, s.ground, s.link_kind, s.link_ref, _utc(s.done_at), s.done_by)
            for s in conn.execute(select(_S).where(_S.c.request_id == request_id).order_by(_S.c.id))
        ]
        files = [
            Attachment(a.kind, a.name, a.sha256, _utc(a.at))
            for a in conn.execute(select(_A).where(_A.c.request_id == request_id).order_by(_A.c.id))
        ]
        return fields, steps, files

    def skeletons(self) -> builtins.list[Skeleton]:
        """Every request's plain part, in the order received, for the register's export: the sealed detail is never
        opened (it is the person's, under the person's key), only said to be held, absent, or crypto-shredded."""
        with self.vault.read_connection() as conn:
            ids = [row[0] for row in conn.execute(select(_Q.c.id).order_by(_Q.c.received, _Q.c.id))]
            found = []
            for request_id in ids:
                fields, steps, files = self._skeleton(conn, request_id)
                found.append(Skeleton(RequestView(fields, steps, files, None), _sealed_state(conn, fields)))
            return found

    def get(self, request_id: str) -> RequestView:
        with self.vault.read_connection() as conn:
            return self.read(conn, request_id)

    def list(self, open_only: bool = False, overdue_only: bool = False) -> builtins.list[RequestView]:
        """The requests, nearest deadline first (closed ones after the open ones)."""
        with self.vault.read_connection() as conn:
            statement = select(_Q.c.id)
            if open_only or overdue_only:
                statement = statement.where(_Q.c.state.in_(("open", "in_progress")))
            views = [self.read(conn, row[0]) for row in conn.execute(statement)]
        now = self.now()
        if overdue_only:
            views = [v for v in views if v.clock(now).state == "overdue"]
        # a request that is not a GDPR request has no deadline: after those that have one
        return sorted(views, key=lambda v: (v.state in ("answered", "closed"), not v.gdpr, v.deadline, v.received))

    def for_subject(self, scim_id: str) -> builtins.list[RequestView]:  # (``list`` here: the method above)
        """The requests that concern one identity of the mirror (by its pseudonym)."""
        with self.vault.read_connection() as conn:
            pseudonym = pseudonym_for(conn, scim_id)
            if pseudonym is None:
                return []
            ids = [r[0] for r in conn.execute(select(_Q.c.id).where(_Q.c.subject == pseudonym))]
            return sorted((self.read(conn, i) for i in ids), key=lambda v: v.received, reverse=True)

    def subject_id(self, conn: Connection, view: RequestView) -> str | None:
        """The matched subject's SCIM id while its keys exist (None when unmatched or erased)."""
        if not view.subject:
            return None
        found = conn.execute(select(_K.c.resource_id).where(_K.c.pseudonym == view.subject)).scalar()
        return str(found) if found is not None else None

    # -- writing helpers ---------------------------------------------------------------------------------
    def _event(self, conn: Connection, kind: str, operator: str, request_id: str, subject: str | None = None,
               **details: Any) -> None:  # fmt: skip
        """``subject``: the SCIM id, given where the trail should name the person (as its pseudonym)."""
        event = Event(kind, actor_of(operator), subject=subject, details={"request": request_id, **details},
                      at=self.now())  # fmt: skip
        append(conn, event)

    def _move(self, conn: Connection, view: RequestView, state: str) -> None:
        if view.state == state:
            return
        if state not in model.TRANSITIONS[view.state]:
            raise RequestError(f"Request {view.id} is {view.state}; it cannot become {state}.")
        conn.execute(update(_Q).where(_Q.c.id == view.id).values(state=state))

    def writable(self, conn: Connection, request_id: str) -> RequestView:
        view = self.read(conn, request_id)
        if view.state in ("answered", "closed"):
            raise RequestError(f"Request {request_id} is {view.state}; its record can no longer change.")
        return view

    def _store_private(self, conn: Connection, view: RequestView, changes: dict[str, Any]) -> None:
        """Merge ``changes`` into the sealed detail and seal it again (refused once it was shredded)."""
        if not changes:
            return
        if view.private is None:
            raise sealing.DetailsShredded()
        key = sealing.key_for(conn, view.id, view.key_ref, view.subject)
        assert key is not None  # private opened, so the key exists
        merged = {**view.private}
        for name, value in changes.items():
            if isinstance(value, dict):
                merged[name] = {**merged.get(name, {}), **value}
            else:
                merged[name] = value
        conn.execute(update(_Q).where(_Q.c.id == view.id).values(sealed=sealing.seal(key, view.id, merged)))

    def _received(self, received: datetime | None, zone: str) -> datetime:
        now = self.now()
        moment = deadline.controller_time(received or now, zone)
        if moment > now:
            raise RequestError("A request cannot be received in the future: give the time it arrived.")
        return moment.astimezone(UTC)

    # -- intake ------------------------------------------------------------------------------------------
    def open(
        self,
        rights: builtins.list[str],
        channel: str,
        operator: str,
        received: datetime | None = None,
        requester: str = "subject",
        subject_id: str | None = None,
        matches: int | None = None,
        private: dict[str, Any] | None = None,
    ) -> str:
        """Record a request; returns its id. ``private``: requester details, answer address, notes (sealed)."""
        rights = list(dict.fromkeys(rights))
        if not rights or any(r not in model.RIGHTS for r in rights):
            raise RequestError(f"Name the rights asked for: {', '.join(model.RIGHTS)}.")
        if "not_gdpr" in rights and len(rights) > 1:
            raise RequestError("A misrouted request (not_gdpr) asks for no GDPR right; name it alone.")
        if channel not in model.CHANNELS:
            raise RequestError(f"The channel is one of {', '.join(model.CHANNELS)}.")
        if requester not in model.REQUESTERS:
            raise RequestError("The requester is the subject or a representative.")
        if requester == "representative" and not ((private or {}).get("requester") or {}).get("authority"):
            raise RequestError("A representative's request needs the authority seen (e.g. a signed mandate).")
        request_id = new_request_id()
        with self.vault.write_transaction() as conn:
            record = in_force(conn)
            where = register_settings.load(self.vault.path.parent, record.policy if record else None)
            moment = self._received(received, where.zone)
            working = deadline.WorkingDays(where.country, where.subdivision)
            due = deadline.due_date(moment, where.zone, working)
            pseudonym = self._match(conn, subject_id)
            key_ref = "subject" if pseudonym else "request"
            key = sealing.key_for(conn, request_id, key_ref, pseudonym) if pseudonym else os.urandom(32)
            assert key is not None
            clean = {k: v for k, v in (private or {}).items() if v not in (None, "", {})}
            _check_private(clean)
            conn.execute(
                insert(_Q).values(
                    id=request_id, rights=json.dumps(rights), received=moment, zone=where.zone,
                    country=where.country, subdivision=where.subdivision, due=due, channel=channel,
                    requester=requester, subject=pseudonym,
                    matches=matches if matches is not None else int(bool(pseudonym)),
                    verification="not_needed", state="open", restricted=False, created=self.now(),
                    operator=operator[:160], key_ref=key_ref,
                    sealed=sealing.seal(key, request_id, clean) if clean else None, alerts="",
                )
            )  # fmt: skip
            if not pseudonym:
                sealing.new_request_key(conn, request_id, key)
            for right in rights:
                state = "not_applicable" if right == "not_gdpr" else "pending"
                conn.execute(insert(_S).values(request_id=request_id, right=right, state=state))
            self._event(conn, "dsr.opened", operator, request_id, subject_id if pseudonym else None,
                        rights=rights, channel=channel,
                        requester=requester, received=moment.isoformat(),
                        received_day=deadline.received_day(moment, where.zone).isoformat(), due=due.isoformat(),
                        zone=where.zone, country=where.country, matched=pseudonym is not None,
                        matches=matches or 0)  # fmt: skip
        return request_id

    def _match(self, conn: Connection, subject_id: str | None) -> str | None:
        if not subject_id:
            return None
        if repo.load(conn, "User", subject_id) is None:
            raise RequestError("No user with that id in the mirror; search with --match or leave it unmatched.")
        return subject_secrets(conn, subject_id).pseudonym

    def match(self, request_id: str, subject_id: str, operator: str) -> RequestView:
        """Link an unmatched request to an identity found later; its detail moves under the subject's key."""
        with self.vault.write_transaction() as conn:
            view = self.writable(conn, request_id)
            if view.subject:
                raise RequestError(f"Request {request_id} is already matched to a subject.")
            pseudonym = self._match(conn, subject_id)
            assert pseudonym is not None
            key = sealing.key_for(conn, request_id, "subject", pseudonym)
            assert key is not None
            sealed = sealing.seal(key, request_id, view.private) if view.private else None
            conn.execute(update(_Q).where(_Q.c.id == request_id).values(subject=pseudonym, key_ref="subject",
                                                                        sealed=sealed, matches=1))  # fmt: skip
            sealing.drop_request_key(conn, request_id)
            self._event(conn, "dsr.matched", operator, request_id, subject_id)
            return self.read(conn, request_id)

    # -- identity and clock ------------------------------------------------------------------------------
    def verify(self, request_id: str, status: str, operator: str, means: str | None = None,
               at: datetime | None = None) -> RequestView:  # fmt: skip
        """Record the identity check. ``requested``: more information was asked for (Art. 12(6)), and the clock
        stands still from that day until the information arrives (any other status, or the answer), unless the
        deadline had already passed. ``at``: when it was asked for or arrived (default now)."""
        if status not in model.VERIFICATION:
            raise RequestError(f"The verification status is one of {', '.join(model.VERIFICATION)}.")
        text = _text(means, "means of verification", required=status in ("verified", "failed"))
        with self.vault.write_transaction() as conn:
            view = self.writable(conn, request_id)
            moment = self._past_moment(at, view, "identity check")
            day = deadline.today_in(view.zone, moment)
            if status == "requested":
                pause, details = self._pause(view, day)
            else:
                pause, details = self._resume(view, day)
            conn.execute(update(_Q).where(_Q.c.id == request_id).values(verification=status, verification_at=moment,
                                                                        **pause))  # fmt: skip
            self._store_private(conn, view, {"verification_means": text} if text else {})
            self._event(conn, "dsr.verification", operator, request_id, status=status, **details)
            return self.read(conn, request_id)

    def _past_moment(self, at: datetime | None, view: RequestView, what: str) -> datetime:
        """A time given for the request: the controller's local time when it has no zone; not before receipt, not
        in the future."""
        now = self.now()
        moment = now if at is None else deadline.controller_time(at, view.zone)
        if moment > now:
            raise RequestError(f"The time of the {what} cannot be in the future.")
        if moment < view.received:
            raise RequestError(f"The time of the {what} cannot precede the request's receipt.")
        return moment

    @staticmethod
    def _pause(view: RequestView, day: date) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start the Art. 12(6) wait on ``day``: the row's new values and what the trail says."""
        if view.paused_since is not None:
            return {}, {"paused_since": view.paused_since.isoformat()}  # still waiting since then
        if day > view.deadline:  # an overdue request is not brought back in time by asking now
            return {}, {"paused": False, "due": view.deadline.isoformat()}
        return {"paused_since": day}, {"paused_since": day.isoformat()}

    @staticmethod
    def _resume(view: RequestView, day: date) -> tuple[dict[str, Any], dict[str, Any]]:
        """End the wait on ``day``: the days waited lengthen the period and move the due dates."""
        since = view.paused_since
        if since is None:
            return {}, {}
        if day < since:
            raise RequestError(f"The information cannot arrive before it was asked for ({since.isoformat()}).")
        waited = (day - since).days
        total = view.paused_days + waited
        values: dict[str, Any] = {"paused_since": None, "paused_days": total}
        if waited:
            working = deadline.WorkingDays(view.country, view.subdivision)
            values["due"] = deadline.due_date(view.received, view.zone, working, 1, total)
            if view.extended_months:
                values["extended_due"] = deadline.due_date(view.received, view.zone, working,
                                                           1 + view.extended_months, total)  # fmt: skip
        due = values.get("extended_due") or values.get("due") or view.deadline
        return values, {"resumed": day.isoformat(), "paused_days": waited, "due": due.isoformat()}

    def extend(self, request_id: str, months: int, reason: str, told: date, operator: str) -> RequestView:
        """Art. 12(3): once, by one or two further months, with reasons, the person told within the first month."""
        if months not in (1, 2):
            raise RequestError("An extension adds one or two further months (three months from receipt at most).")
        text = _text(reason, "reason for the extension", required=True)
        with self.vault.write_transaction() as conn:
            view = self.writable(conn, request_id)
            if view.extended_months:
                raise RequestError(f"Request {request_id} was already extended; Art. 12(3) allows it once.")
            if told < view.received_day or told > view.due:
                raise RequestError(f"The person must be told of the extension within the first month: between "
                                   f"{view.received_day.isoformat()} and {view.due.isoformat()}.")  # fmt: skip
            if told > deadline.today_in(view.zone, self.now()):
                raise RequestError("The date the person was told cannot be in the future.")
            working = deadline.WorkingDays(view.country, view.subdivision)
            new_due = deadline.due_date(view.received, view.zone, working, 1 + months, view.paused_days)
            conn.execute(update(_Q).where(_Q.c.id == request_id).values(extended_months=months, extended_due=new_due,
                                                                        extension_told=told))  # fmt: skip
            self._store_private(conn, view, {"extension_reason": text})
            self._event(conn, "dsr.extended", operator, request_id, months=months, due=new_due.isoformat(),
                        told=told.isoformat())  # fmt: skip
            return self.read(conn, request_id)

    # -- what gets done ----------------------------------------------------------------------------------
    def _pending_step(self, view: RequestView, right: str | None, allowed: tuple[str, ...]) -> Step:
        candidates = [
            s for s in view.steps if not s.final and s.right in allowed and (right is None or s.right == right)
        ]
        if not candidates:
            wanted = right or " / ".join(allowed)
            raise RequestError(f"Request {view.id} has no open {wanted} step.")
        if len(candidates) > 1 and right is None:
            raise RequestError(f"Name the right (--right): {', '.join(s.right for s in candidates)}.")
        return candidates[0]

    def record_task(self, request_id: str, note: str, operator: str, right: str | None = None) -> RequestView:
        """A rectification, restriction or objection done at the IdP or a target: what, where, by whom, when."""
        text = _text(note, "description of what was done (where, by whom)", required=True)
        with self.vault.write_transaction() as conn:
            view = self.writable(conn, request_id)
            step = self._pending_step(view, right, model.TASK_RIGHTS)
            self._finish_step(conn, step, "done", operator)
            self._store_private(conn, view, {"tasks": {step.right: text}})
            self._move(conn, view, "in_progress")
            self._event(conn, "dsr.task_done", operator, request_id, right=step.right)
            if step.right == "restriction":
                from app.dsr.restriction import set_flag

                set_flag(conn, view, True, self.now())
                self._event(conn, "dsr.restricted", operator, request_id, restricted=True)
            return self.read(conn, request_id)

    def refuse(self, request_id: str, ground: str, reason: str, operator: str, right: str | None = None) -> RequestView:
        """Refuse the whole request, or one right of it (partial refusal), on a ground with the reasoning."""
        if ground not in model.REFUSAL_GROUNDS:
            raise RequestError(f"The ground is one of {', '.join(model.REFUSAL_GROUNDS)}.")
        text = _text(reason, "reasoning of the refusal", required=True)
        with self.vault.write_transaction() as conn:
            view = self.writable(conn, request_id)
            steps = [s for s in view.steps if not s.final and (right is None or s.right == right)]
            if not steps:
                which = f" for {right}" if right else ""
                raise RequestError(f"Request {request_id} has nothing left to refuse{which}.")
            if ground in model.ERASURE_ONLY_GROUNDS and any(s.right != "erasure" for s in steps):
                raise RightToName(ground, "erasure")
            if any(s.state == "started" for s in steps):
                raise RequestError("An action already started for this right; record its outcome instead.")
            for step in steps:
                self._finish_step(conn, step, "refused", operator, ground=ground)
            self._store_private(conn, view, {"refusals": {s.right: text for s in steps}})
            self._move(conn, view, "in_progress")
            self._event(conn, "dsr.refused", operator, request_id, rights=[s.right for s in steps], ground=ground,
                        partial=len(steps) < len([s for s in view.steps if s.right != "not_gdpr"]))  # fmt: skip
            return self.read(conn, request_id)

    def none_held(self, request_id: str, operator: str, right: str | None = None) -> RequestView:
        """The person was identified and no personal data about them is held (decision 0073): never held, or erased
        before this request (then the step links that erasure, whose date and receipt reference the letter gives).
        Refused while the person is still in the mirror (the answer would be untrue: act on it instead), while an
        erasure of theirs is still open, and while their identity is in doubt (Art. 12(6))."""
        from app.dsr import erased_before

        with self.vault.write_transaction() as conn:
            view = self.writable(conn, request_id)
            if not view.gdpr:
                raise RequestError(f"Request {request_id} is not a GDPR request: it has no right to answer.")
            if view.verification in ("requested", "failed"):
                raise RequestError("The requester's identity is " + model.VERIFICATION[view.verification]
                                   + ": confirm it before saying what is held about them (Art. 12(6)).")  # fmt: skip
            if self.subject_id(conn, view) is not None:
                raise RequestError("The person this request is matched to is in the mirror: personal data "
                                   "about them are held. Act on the request (export, erase, a task) instead.")
            steps = [s for s in view.steps if not s.final and (right is None or s.right == right)]
            if not steps:
                which = f" for {right}" if right else ""
                raise RequestError(f"Request {request_id} has nothing left to answer{which}.")
            if any(s.state == "started" for s in steps):
                raise RequestError("An action already started for this right; record its outcome instead.")
            earlier = erased_before.latest(conn, view.subject)
            if earlier is not None and earlier.state != "closed":
                raise RequestError(f"The person's erasure {earlier.reference} is still open: data may still be held "
                                   "at an application. Record this once it has closed.")  # fmt: skip
            link = {"link_kind": "erased_before", "link_ref": earlier.reference} if earlier else {}
            for step in steps:
                self._finish_step(conn, step, "none_held", operator, **link)
            self._move(conn, view, "in_progress")
            self._event(conn, "dsr.none_held", operator, request_id, rights=[s.right for s in steps],
                        erasure_request=earlier.reference if earlier else None)  # fmt: skip
            return self.read(conn, request_id)

    def _finish_step(self, conn: Connection, step: Step, state: str, operator: str, **link: Any) -> None:
        conn.execute(update(_S).where(_S.c.id == step.id).values(state=state, done_at=self.now(),
                                                                 done_by=operator[:160], **link))  # fmt: skip

    def attach(self, conn: Connection, request_id: str, kind: str, name: str, sha256: str) -> None:
        conn.execute(insert(_A).values(request_id=request_id, kind=kind, name=name[:200], sha256=sha256, at=self.now()))

    def attach_files(self, conn: Connection, request_id: str, operator: str, files: Files) -> None:
        """Attach files (receipts) in the caller's transaction, on the trail by kind and SHA-256."""
        for kind, name, sha in files:
            self.attach(conn, request_id, kind, name, sha)
        self._event(conn, "dsr.attached", operator, request_id, files=[{"kind": k, "sha256": s} for k, _n, s in files])

    def link_export(self, conn: Connection, view: RequestView, files: Files, operator: str) -> None:
        """In the caller's transaction: the export answered the access/portability steps; files (kind, name, sha)."""
        for kind, name, sha in files:
            self.attach(conn, view.id, kind, name, sha)
        json_sha = next((sha for kind, _n, sha in files if kind == "export.json"), None)
        for step in view.steps:
            if step.right in model.EXPORT_RIGHTS and not step.final:
                self._finish_step(conn, step, "done", operator, link_kind="export", link_ref=json_sha)
        self._move(conn, view, "in_progress")
        self._event(conn, "dsr.exported", operator, view.id, files=[{"kind": k, "sha256": s} for k, _n, s in files])

    def link_erasure(self, conn: Connection, view: RequestView, erasure_id: str, operator: str) -> None:
        step = view.step("erasure")
        assert step is not None
        conn.execute(update(_S).where(_S.c.id == step.id).values(state="started", link_kind="erasure",
                                                                 link_ref=erasure_id))  # fmt: skip
        self._move(conn, view, "in_progress")
        self._event(conn, "dsr.erasure_started", operator, view.id, erasure_request=erasure_id)

    def sync_erasures(self, conn: Connection) -> builtins.list[str]:
        """Steps whose erasure request closed get their outcome (done); returns the DSR ids updated."""
        from app.erasure.requests import state_of

        started = conn.execute(select(_S).where(_S.c.state == "started", _S.c.link_kind == "erasure")).all()
        updated = []
        for step in started:
            if state_of(conn, step.link_ref) == "closed":
                conn.execute(update(_S).where(_S.c.id == step.id).values(state="done", done_at=self.now(),
                                                                         done_by="system:erasure"))  # fmt: skip
                self._event(conn, "dsr.erasure_finished", "system:erasure", step.request_id,
                            erasure_request=step.link_ref)  # fmt: skip
                updated.append(step.request_id)
        return updated

    # -- answer and closure ------------------------------------------------------------------------------
    def record_answer(self, request_id: str, operator: str, sent: date, files: Files) -> RequestView:
        """The answer was sent on ``sent``: every step must have its outcome; the letter files are attached."""
        with self.vault.write_transaction() as conn:
            self.sync_erasures(conn)
            view = self.writable(conn, request_id)
            waiting = [s.right for s in view.steps if not s.final]
            if waiting:
                raise RequestError(
                    f"Not every right has an outcome yet: {', '.join(waiting)} (act, record a task or refuse first; "
                    "an erasure finishes when every target has an outcome)."
                )
            if sent < view.received_day or sent > deadline.today_in(view.zone, self.now()):
                raise RequestError("The answer is sent on or after the day of receipt, and not in the future.")
            if view.paused_since is not None:  # answered while waiting (e.g. refused under Art. 11): the wait ends
                pause, details = self._resume(view, max(sent, view.paused_since))
                conn.execute(update(_Q).where(_Q.c.id == request_id).values(**pause))
                self._event(conn, "dsr.verification", operator, request_id, status=view.verification, **details)
                view = self.read(conn, request_id)
            for kind, name, sha in files:
                self.attach(conn, request_id, kind, name, sha)
            outcome = model.outcome_of([s.state for s in view.steps])
            conn.execute(update(_Q).where(_Q.c.id == request_id).values(answered_on=sent, outcome=outcome))
            self._move(conn, view, "answered")
            listed = [{"kind": k, "sha256": s} for k, _n, s in files]
            timing: dict[str, Any] = {"in_time": sent <= view.deadline} if view.gdpr else {"deadline": None}
            self._event(conn, "dsr.answered", operator, request_id, sent=sent.isoformat(), outcome=outcome,
                        files=listed, **timing)  # fmt: skip
            return self.read(conn, request_id)

    def close(self, request_id: str, operator: str) -> RequestView:
        with self.vault.write_transaction() as conn:
            view = self.read(conn, request_id)
            if view.state != "answered":
                raise RequestError(f"Request {request_id} is {view.state}: record the answer sent (dsr answer "
                                   "--sent) before closing.")  # fmt: skip
            conn.execute(update(_Q).where(_Q.c.id == request_id).values(closed=self.now()))
            self._move(conn, view, "closed")
            if view.key_ref == "answer":  # kept only to answer a subject this request erased: gone now
                sealing.drop_request_key(conn, request_id)
            self._event(conn, "dsr.closed", operator, request_id, outcome=view.outcome)
            return self.read(conn, request_id)

    def lift_restriction(
        self, request_id: str, operator: str, informed_at: datetime | None, informed_by: str | None
    ) -> RequestView:
        """Art. 18(3): "A data subject who has obtained restriction … shall be informed by the controller before
        the restriction of processing is lifted." So a lift records when (``informed_at``: without a zone, the
        controller's local time; not before receipt, not in the future, so never after the lift) and how
        (``informed_by``, one of ``model.INFORMED_BY``: a means, never an address) the person was told, on the
        trail with the lift; the targets get the account back in the same transaction."""
        from app.dsr.restriction import set_flag

        if informed_at is None or informed_by is None:
            raise RequestError(model.INFORM_BEFORE_LIFTING)
        if informed_by not in model.INFORMED_BY:
            raise RequestError(f"How the person was informed is one of {', '.join(model.INFORMED_BY)}.")
        with self.vault.write_transaction() as conn:
            view = self.read(conn, request_id)
            if not view.restricted:
                raise RequestError(f"Request {request_id} restricts nothing.")
            told = self._past_moment(informed_at, view, "notice to the person (Art. 18(3))").astimezone(UTC)
            set_flag(conn, view, False, self.now())
            self._event(conn, "dsr.restricted", operator, request_id, restricted=False,
                        informed_at=told.isoformat(timespec="seconds"), informed_by=informed_by)  # fmt: skip
            return self.read(conn, request_id)

    def draft_recorded(self, conn: Connection, request_id: str, operator: str, files: Files) -> None:
        self._event(conn, "dsr.answer_drafted", operator, request_id,
                    files=[{"kind": k, "sha256": s} for k, _n, s in files])  # fmt: skip

    def keep_unanswered_for_answer(self, conn: Connection, scim_ids: Iterable[str]) -> builtins.list[str]:
        """Before these subjects are erased (from a request, the Identities page or ``custos erase``): each of their
        requests not yet answered keeps its detail under a key of its own until it closes, as the erasing request
        does. Erasing the person shredded the detail of their other open requests (whom to answer, where), and the
        Art. 12(3) answer still owed could no longer reach them. Returns the requests re-sealed."""
        pseudonyms = [p for p in (pseudonym_for(conn, scim_id) for scim_id in scim_ids) if p]
        if not pseudonyms:
            return []
        owed = select(_Q.c.id).where(_Q.c.subject.in_(pseudonyms), _Q.c.key_ref == "subject",
                                     _Q.c.state.in_(("open", "in_progress")))  # fmt: skip
        open_ids = conn.execute(owed).scalars().all()
        for request_id in open_ids:
            self.keep_details_for_answer(conn, self.read(conn, request_id))
        return [str(request_id) for request_id in open_ids]

    def keep_details_for_answer(self, conn: Connection, view: RequestView) -> None:
        """Before this request erases its own subject: re-seal the detail under a key of the request, destroyed
        when the request closes, so the answer can still reach the person (and nothing outlives the answer)."""
        if view.key_ref != "subject":
            return
        key = sealing.new_request_key(conn, view.id)
        sealed = sealing.seal(key, view.id, view.private) if view.private else None
        conn.execute(update(_Q).where(_Q.c.id == view.id).values(key_ref="answer", sealed=sealed))


def _check_private(values: Any) -> None:
    """Free text is bounded: a register entry is not a document store."""
    if isinstance(values, dict):
        for value in values.values():
            _check_private(value)
    elif isinstance(values, str) and len(values) > MAX_TEXT:
        raise RequestError(f"A detail of the request is at most {MAX_TEXT} characters.")


def private_text(view: RequestView, *path: str) -> str:
    """One sealed value for display: "" when absent, a clear marker once shredded."""
    if view.private is None:
        return "[crypto-shredded]"
    value: Any = view.private
    for part in path:
        value = value.get(part, {}) if isinstance(value, dict) else {}
    return value if isinstance(value, str) else ""


__all__ = ["Attachment", "DsrRegister", "RequestError", "RequestView", "Skeleton", "Step", "check_note", "private_text"]
