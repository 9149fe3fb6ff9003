"""What ``dsr act`` does: the subject export for access and portability, the erasure request for erasure.

Both start from the request's matched subject, take its real received date and deadline, and are linked to the
request in the transaction that records them (files by name and SHA-256; the erasure by its id, and the erasure
request names the DSR in its note, so each leads to the other).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.dsr import deadline, model
from app.dsr.answering import sha256_of
from app.dsr.register import DsrRegister, RequestError, RequestView, actor_of
from app.erasure.model import DEFAULT_GROUND, GROUNDS

if TYPE_CHECKING:
    from app.services.erasure import Preview


@dataclass(frozen=True)
class Acted:
    files: list[tuple[str, Path, str]]  # (kind, path, sha256)
    erasure_id: str | None




def answer_by(view: RequestView) -> deadline.DueDay:
    """The due day where the controller is (its end is the last moment the answer is in time)."""
    return deadline.DueDay(view.deadline, view.zone)


def _subject_or_refuse(register: DsrRegister, view: RequestView) -> str:
    with register.vault.read_connection() as conn:
        subject_id = register.subject_id(conn, view)
    if subject_id is None:
        raise RequestError(
            f"Request {view.id} is not matched to an identity in the mirror (or it was erased): match it first, "
            "or refuse under Art. 11 if the person cannot be identified."
        )
    if view.verification in ("requested", "failed"):
        raise RequestError(f"The requester's identity is {model.VERIFICATION[view.verification]}: verify it first.")
    return subject_id


def erasure_preview(register: DsrRegister, request_id: str) -> Preview:
    """What the request's erasure would erase where, before it is asked for (the app shows it, as it does before
    an erasure from Identities): refused, as :func:`act` refuses, while the request is unmatched or unverified."""
    from app.services.erasure import preview

    view = register.get(request_id)
    return preview(register.vault, [_subject_or_refuse(register, view)])


def act(
    register: DsrRegister, request_id: str, operator: str, out_dir: Path | None, ground: str = DEFAULT_GROUND
) -> Acted:
    """Run what the request asks that Custos can do itself; tasks and refusals are recorded separately."""
    view = register.get(request_id)
    if view.state in ("answered", "closed"):
        raise RequestError(f"Request {request_id} is {view.state}.")
    wanted = {s.right for s in view.steps if s.state == "pending"}
    exports, erasure = wanted & set(model.EXPORT_RIGHTS), "erasure" in wanted
    if not exports and not erasure:
        raise RequestError(f"Request {request_id} has nothing Custos runs itself: record tasks (dsr task) or refuse.")
    subject_id = _subject_or_refuse(register, view)
    files: list[tuple[str, Path, str]] = []
    if exports:  # first: an erasure in the same request would leave nothing to export
        if out_dir is None:
            raise ConfigError("Give the folder to write the subject export into (--out).")
        files = _export(register, view, subject_id, operator, out_dir)
        view = register.get(request_id)
    erasure_id = _erase(register, view, subject_id, operator, ground) if erasure else None
    return Acted(files, erasure_id)


def _export(register: DsrRegister, view: RequestView, subject_id: str, operator: str, out_dir: Path) -> list:
    from app.exports.subject import export_subject
    from app.policy.in_force import install_default_if_missing
    from app.policy.versions import in_force

    vault = register.vault
    with vault.write_transaction() as conn:
        record = in_force(conn) or install_default_if_missing(conn)
    try:
        paths = export_subject(vault, record, subject_id, out_dir, register.now(), received=view.received,
                               answer_by=answer_by(view))  # fmt: skip
    except OSError as exc:
        raise ConfigError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc
    files = [(f"export.{p.suffix.lstrip('.')}", p, sha256_of(p)) for p in paths]
    with vault.write_transaction() as conn:
        current = register.writable(conn, view.id)
        for kind, _path, sha in files:
            details = {"format": kind.split(".")[1], "sha256": sha, "policy_version": record.version,
                       "request": view.id}  # fmt: skip
            append(conn, Event("export.subject", actor_of(operator), subject=subject_id, details=details))
        register.link_export(conn, current, [(k, p.name, s) for k, p, s in files], operator)
    return files


def _erase(register: DsrRegister, view: RequestView, subject_id: str, operator: str, ground: str) -> str:
    from app.erasure.requests import request_erasure

    if ground not in GROUNDS or ground in ("retention", "replay"):
        raise ConfigError(f"The Art. 17(1) ground is one of {', '.join(g for g in GROUNDS if g.startswith('art'))}.")
    with register.vault.write_transaction() as conn:
        register.writable(conn, view.id)
        register.keep_unanswered_for_answer(conn, [subject_id])  # this request and any other still owed an answer
    reason = f"Data subject request {view.id}"  # Custos' own words and an id: not checked for the person's names
    erasure_id = request_erasure(register.vault, [subject_id], ground, operator, reason=reason, now=register.now(),
                                 typed_reason=False)  # fmt: skip
    with register.vault.write_transaction() as conn:
        register.link_erasure(conn, register.read(conn, view.id), erasure_id, operator)
        register.sync_erasures(conn)
    return erasure_id
