"""``dsr answer``: the receipts of finished erasures and the letter written into a folder; with a sent date,
the answer is recorded (every right must have its outcome) and the files are attached to the request."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from app.core.errors import ConfigError
from app.dsr import letter
from app.dsr.register import DsrRegister, RequestError, RequestView
from app.policy.in_force import install_default_if_missing
from app.policy.loader import load_policy
from app.policy.model import NEEDS_HUMAN, Policy
from app.policy.versions import default_policy_text, in_force


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Answer:
    view: RequestView
    files: list[tuple[Path, str]]


def _receipts(register: DsrRegister, view: RequestView, out_dir: Path) -> list[tuple[str, Path, str]]:
    """The signed receipt of each finished erasure of the request, attached once."""
    from app.erasure.receipt import export

    attached = {a.name for a in view.attachments}
    files = []
    for step in view.steps:
        if step.link_kind == "erasure" and step.state == "done" and step.link_ref:
            if f"erasure-receipt-{step.link_ref}.json" in attached:
                continue
            written = export(register.vault, step.link_ref, out_dir, register.now())
            files += [("receipt.json", written.json_path, written.json_sha256),
                      ("receipt.pdf", written.pdf_path, written.pdf_sha256)]  # fmt: skip
    return files


def _source_held(conn: Connection, view: RequestView) -> dict[str, bool]:
    """For each of the request's erasures with a source line: whether the identity provider still holds the
    person (as its receipt says)."""
    from app.erasure import source

    refs = [s.link_ref for s in view.steps if s.link_kind == "erasure" and s.link_ref]
    lines = {ref: source.of_request(conn, ref) for ref in refs}
    return {ref: any(v["still_held"] for v in found.values()) for ref, found in lines.items() if found}


def _not_erased(conn: Connection, view: RequestView, policy: Policy) -> dict[str, list[str]]:
    """For each of the request's erasures, where it is not confirmed (open, or closed without erasing), by the
    names the person knows the recipients by (the policy's)."""
    from app.erasure.status import not_confirmed

    names = {recipient.id: recipient.name for recipient in policy.recipients}
    refs = [s.link_ref for s in view.steps if s.link_kind == "erasure" and s.link_ref]
    return {ref: not_confirmed(conn, ref, names) for ref in refs}


def _reached(conn: Connection, view: RequestView) -> dict[str, int]:
    """For each of the request's erasures, how many targets and recipients it had to reach (its steps)."""
    from app.erasure.status import places_to_reach

    refs = [s.link_ref for s in view.steps if s.link_kind == "erasure" and s.link_ref]
    return {ref: places_to_reach(conn, ref) for ref in refs}


def _kept(conn: Connection, view: RequestView) -> dict[str, letter.Kept]:
    """For each of the request's erasures that left tombstones: the identifier fields kept as keyed hashes, and
    whether they still refuse a re-creation (the receipt's 'Re-creation' line, said to the person)."""
    from app.erasure import tombstones

    # an erasure this request made, or one before it that a "none held" answer names (decision 0073)
    refs = [s.link_ref for s in view.steps if s.link_kind in ("erasure", "erased_before") and s.link_ref]
    kept = {}
    for ref in refs:
        states = tombstones.of_request(conn, ref).values()
        fields = tuple(dict.fromkeys(field for state in states for field in state.fields))
        if fields:
            kept[ref] = letter.Kept(fields, any(state.released is None for state in states))
    return kept


def _erased_on(conn: Connection, view: RequestView) -> dict[str, datetime]:
    """For each earlier erasure a "none held" step names, when it closed (the letter gives the day)."""
    from app.dsr import erased_before

    found = {}
    for ref in {s.link_ref for s in view.steps if s.link_kind == "erased_before" and s.link_ref}:
        erased = erased_before.of_reference(conn, ref)
        if erased is not None and erased.closed is not None:
            found[ref] = erased.closed
    return found


@dataclass(frozen=True)
class Facts:
    """What the letter says beyond the request's own record, read from the erasure records."""

    source_held: dict[str, bool]
    not_erased: dict[str, list[str]]
    kept: dict[str, letter.Kept]
    reached: dict[str, int]
    erased_on: dict[str, datetime]

    def sections(self, view: RequestView, policy: Policy) -> list[tuple[str, list[str]]]:
        return letter.sections(view, policy, self.source_held, self.not_erased, self.kept, self.reached,
                               self.erased_on)  # fmt: skip


def _facts(conn: Connection, view: RequestView, policy: Policy) -> Facts:
    return Facts(_source_held(conn, view), _not_erased(conn, view, policy), _kept(conn, view), _reached(conn, view),
                 _erased_on(conn, view))  # fmt: skip


def left_to_complete(register: DsrRegister, request_id: str) -> list[str]:
    """Where the letter drafted now would still read NEEDS_HUMAN (empty: nothing left to complete). The Answer form
    asks it before recording a letter as sent, and keeps itself open while anything is left."""
    from app.erasure.requests import state_of

    with register.vault.read_connection() as conn:  # a read: the form asks it on the GUI thread
        view = register.read(conn, request_id)
        record = in_force(conn)
        # an erasure closed since the register last looked is "done" in the letter drafting will write
        steps = [replace(s, state="done") if s.state == "started" and s.link_kind == "erasure"
                 and state_of(conn, s.link_ref or "") == "closed" else s for s in view.steps]  # fmt: skip
        view = replace(view, steps=steps)
        # no policy yet: drafting installs the shipped default, so the letter is checked with it (not installed here)
        policy = record.policy if record is not None else load_policy(default_policy_text())
        return letter.unfinished(_facts(conn, view, policy).sections(view, policy))


def not_ready_to_send(places: list[str]) -> RequestError:
    return RequestError(
        "The letter still has parts a person must complete, so it is not recorded as the letter sent: "
        + "; ".join(places) + f" (marked “{NEEDS_HUMAN}” in the draft). Nothing was recorded; write the draft "
        "without a sent date to review it."
    )


def draft_answer(register: DsrRegister, request_id: str, operator: str, out_dir: Path, sent: date | None) -> Answer:
    with register.vault.write_transaction() as conn:
        register.sync_erasures(conn)
        view = register.read(conn, request_id)
        record = in_force(conn) or install_default_if_missing(conn)
    if view.state in ("answered", "closed"):
        raise RequestError(f"Request {request_id} was answered on {view.answered_on}; its letter is attached.")
    try:
        receipts = _receipts(register, view, out_dir)
        with register.vault.write_transaction() as conn:
            if receipts:
                register.attach_files(conn, request_id, operator, [(k, p.name, s) for k, p, s in receipts])
            view = register.read(conn, request_id)
            facts = _facts(conn, view, record.policy)
        places = letter.unfinished(facts.sections(view, record.policy))
        if sent is not None and places:  # checked before anything is written: no draft is recorded as sent
            raise not_ready_to_send(places)
        paths = letter.write(view, record.policy, register.now(), out_dir, facts.source_held, facts.not_erased,
                             facts.kept, facts.reached, facts.erased_on)  # fmt: skip
    except OSError as exc:
        raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc
    letters = [(f"letter.{p.suffix.lstrip('.')}", p, sha256_of(p)) for p in paths]
    named = [(k, p.name, s) for k, p, s in letters]
    if sent is not None:
        view = register.record_answer(request_id, operator, sent, named)
    else:
        with register.vault.write_transaction() as conn:
            register.draft_recorded(conn, request_id, operator, named)
    return Answer(view, [(p, s) for _k, p, s in receipts + letters])
