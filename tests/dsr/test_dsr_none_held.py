""""We hold no data about you" (decision 0073): a person identified but not in the mirror — never held, or erased
before their request was answered — gets the Art. 15(1) confirmation that nothing is processed, not an Art. 11(2)
refusal ("we cannot identify you"), which was the only way to finish such a request and was untrue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.dsr import model
from app.dsr.answering import draft_answer
from app.dsr.deadline import today_in
from app.dsr.register import RequestError
from app.exports.dsr_register import export_dsr_register
from app.services import erasure
from app.store.vault import Vault
from tests.dsr.dsr_support import REQUESTER, register_at, sealed_details, with_person
from tests.policy_support import hold_everything

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
NOW = "2026-02-10T09:00:00+00:00"


def test_never_held_the_access_answer_confirms_nothing_is_processed(vault: Vault, tmp_path: Path) -> None:
    hold_everything(vault)
    register, _ = register_at(vault, NOW)
    request_id = register.open(["access", "erasure"], "email", "dpo", RECEIVED, private=sealed_details())

    view = register.none_held(request_id, "dpo")
    assert [s.state for s in view.steps] == ["none_held", "none_held"] and view.state == "in_progress"
    answer = draft_answer(register, request_id, "dpo", tmp_path / "letter", date(2026, 2, 10))
    assert answer.view.outcome == "none_held" and model.OUTCOMES["none_held"] == "No personal data held"
    letter = (tmp_path / "letter" / f"{request_id}-answer.md").read_text()
    assert "Access (Art. 15): We confirm that we do not process personal data about you (Art. 15(1))." in letter
    assert "Erasure (Art. 17): We confirm that we do not process personal data about you (Art. 15(1)), so there " \
           "is nothing to erase." in letter  # fmt: skip
    assert "Refused" not in letter and "Art. 11" not in letter and "Requires human completion" not in letter

    rows = export_dsr_register(vault, "csv", tmp_path / "register.csv", "dpo").path.read_text(encoding="utf-8-sig")
    assert "No personal data held" in rows and "none held" in rows


def test_erased_before_the_answer_the_letter_gives_the_day_and_the_receipt_reference(
    vault: Vault, tmp_path: Path
) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault, NOW)
    request_id = register.open(["access"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    with pytest.raises(RequestError, match="is in the mirror"):  # held: the answer would be untrue
        register.none_held(request_id, "dpo")

    erasure.request(vault, [subject], "art17-1b", "dpo", "consent withdrawn")  # from the Identities page
    view = register.none_held(request_id, "dpo")
    step = view.step("access")
    assert step.state == "none_held" and step.link_kind == "erased_before" and step.link_ref.startswith("er-")

    draft_answer(register, request_id, "dpo", tmp_path / "letter", None)
    letter = (tmp_path / "letter" / f"{request_id}-answer.md").read_text()
    erased_day = today_in("Europe/London", datetime.now(UTC)).isoformat()  # the erasure ran just now
    assert f"We erased the personal data we held about you on {erased_day} " in letter
    assert f"(erasure reference {step.link_ref}, the reference on its signed erasure receipt)" in letter
    assert "confirm that we do not process personal data about you (Art. 15(1))" in letter
    assert "ottoline@example.org" not in letter and subject not in letter  # no identifier the request lacks
    assert f"To: {REQUESTER}" in letter


def test_none_held_waits_for_a_doubtful_identity_and_leaves_a_misrouted_request_alone(vault: Vault) -> None:
    register, _ = register_at(vault, NOW)
    doubtful = register.open(["access"], "email", "dpo", RECEIVED)
    register.verify(doubtful, "failed", "dpo", "signature did not match")
    with pytest.raises(RequestError, match=r"Art\. 12\(6\)"):
        register.none_held(doubtful, "dpo")
    misrouted = register.open(["not_gdpr"], "email", "dpo", RECEIVED)
    with pytest.raises(RequestError, match="not a GDPR request"):
        register.none_held(misrouted, "dpo")
