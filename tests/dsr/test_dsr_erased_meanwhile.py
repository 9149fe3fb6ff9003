"""A person erased while another of their requests still waits for its answer: the answer must still reach them.

Before, erasing the person (from an erasure request, the Identities page or ``custos erase``) destroyed the key
sealing the requester's details of every request of theirs: an access request received earlier, still owed its
Art. 12(3) answer, lost whom to answer and where, and its letter said "To: [crypto-shredded]". Only the request
that erased the person kept its detail until it closed (decision 0017); every request still owed an answer now
does (decision 0065), and nothing outlives its answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from app.dsr.answering import draft_answer
from app.services import erasure
from app.services.dsr_actions import act
from app.store.vault import Vault
from tests.dsr.dsr_support import ADDRESS, REQUESTER, register_at, sealed_details, with_person

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def test_an_erasure_request_leaves_the_persons_other_open_request_answerable(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault)
    access = register.open(["access"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    answered = register.open(["objection"], "letter", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    register.record_task(answered, "analytics feed stopped at the IdP", "dpo")
    register.record_answer(answered, "dpo", date(2026, 2, 5), [])
    objection = register.open(["objection"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    erase = register.open(["erasure"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())

    assert act(register, erase, "dpo", None).erasure_id

    owed = register.get(access)
    assert not owed.shredded and owed.private["requester"]["name"] == REQUESTER  # whom to answer, and where
    assert register.get(answered).shredded  # its answer was sent: nothing of it outlives the erasure
    letter = draft_answer(register, access, "dpo", tmp_path / "letter", None).files[0][0].read_text()
    assert f"To: {REQUESTER} — {ADDRESS}" in letter and "crypto-shredded" not in letter
    assert not register.get(objection).shredded  # a task still to record, then its answer: its detail is kept …
    register.record_task(objection, "the person's account was erased: nothing is processed for analytics", "dpo")
    register.record_answer(objection, "dpo", date(2026, 2, 10), [])
    assert register.close(objection, "dpo").shredded  # … until it closes: its own key is gone then


def test_an_erasure_from_the_identities_page_or_the_cli_keeps_the_open_requests_detail(vault: Vault) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault)
    access = register.open(["access", "portability"], "form", "dpo", RECEIVED, subject_id=subject,
                           private=sealed_details())  # fmt: skip

    erasure.request(vault, [subject], "art17-1b", "dpo", "consent withdrawn")  # the route both front ends take

    owed = register.get(access)
    assert not owed.shredded and owed.private["answer"]["address"] == ADDRESS
    assert register.for_subject(subject) == []  # the person is gone from the mirror and the trail's keys


def test_a_copy_made_before_the_same_requests_erasure_is_said_to_be_what_was_held(vault: Vault, tmp_path: Path) -> None:
    """Access and erasure in one request: the letter said "a copy of the personal data we hold about you" beside
    "your data were erased". The copy is what was held, made before the erasure, on the day it was made."""
    subject = with_person(vault)
    register, _ = register_at(vault, "2026-02-10T23:30:00+00:00")  # 10 February in London
    both = register.open(["access", "erasure"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    alone = register.open(["access"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    act(register, alone, "dpo", tmp_path / "alone")
    act(register, both, "dpo", tmp_path / "both")

    def access_line(request_id: str) -> str:
        written = draft_answer(register, request_id, "dpo", tmp_path / request_id, None).files
        letter = next(path for path, _sha in written if path.suffix == ".md").read_text()
        return next(line for line in letter.splitlines() if line.startswith("- Access (Art. 15)"))

    held = access_line(both)
    assert "A copy of the personal data we held about you, made on 2026-02-10 before we erased them" in held, held
    assert "we hold" not in held
    assert "A copy of the personal data we hold about you is attached" in access_line(alone)  # nothing erased there
