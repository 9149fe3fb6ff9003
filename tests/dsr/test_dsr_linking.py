"""What gets done, linked: the subject export with the real received date, the erasure linked both ways with its
receipt, crypto-shredding of the requester's details when the subject is erased, and the restriction flag."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.audit.trail import of_kind
from app.dsr.answering import draft_answer
from app.dsr.register import RequestError
from app.dsr.restriction import is_restricted
from app.dsr.tables import DsrRequest
from app.erasure import source
from app.erasure.requests import request_erasure
from app.erasure.tables import ErasureRequest
from app.feed.tables import OutboxItem
from app.services.dsr_actions import act
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from tests.dsr.dsr_support import ADDRESS, REQUESTER, register_at, sealed_details, with_person

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def test_access_and_portability_export_is_linked_with_the_real_received_date(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access", "portability"], "email", "dpo", RECEIVED, subject_id=subject)
    done = act(register, request_id, "dpo", tmp_path / "out")
    assert sorted(kind for kind, _p, _s in done.files) == ["export.json", "export.pdf"] and done.erasure_id is None
    document = json.loads((tmp_path / "out" / f"subject-{subject}.json").read_text())
    assert document["response"]["received"] == "2026-01-31T10:00:00.000000Z"  # not the time of the export
    assert document["response"]["answer_by"] == "2026-03-02T23:59:59.999999Z"  # end of the due day in London
    schema = json.loads((Path(__file__).resolve().parents[2] / "resources" / "schemas" /
                         "subject-export-v1.schema.json").read_text())  # fmt: skip
    jsonschema.validate(document, schema)  # the export keeps its published format
    view = register.get(request_id)
    assert view.state == "in_progress" and {s.state for s in view.steps} == {"done"}
    assert {a.kind: a.sha256 for a in view.attachments}["export.json"] == view.step("access").link_ref
    with vault.read_connection() as conn:
        exports = of_kind(conn, "export.subject")
    assert {e.details["request"] for e in exports} == {request_id} and len(exports) == 2
    with pytest.raises(RequestError, match="nothing Custos runs"):
        act(register, request_id, "dpo", tmp_path / "again")


def test_an_unmatched_or_unverified_request_cannot_act(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault)
    unmatched = register.open(["access"], "email", "dpo", RECEIVED)
    with pytest.raises(RequestError, match="not matched"):
        act(register, unmatched, "dpo", tmp_path)
    register.match(unmatched, subject, "dpo")
    register.verify(unmatched, "failed", "dpo", "the signature did not match")
    with pytest.raises(RequestError, match="verify it first"):
        act(register, unmatched, "dpo", tmp_path)


def test_erasure_is_linked_both_ways_closes_with_its_receipt_then_the_details_go(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    register, _clock = register_at(vault)
    request_id = register.open(["erasure"], "letter", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    done = act(register, request_id, "dpo", None)
    assert done.erasure_id and done.erasure_id.startswith("er-")
    with vault.read_connection() as conn:
        table = ErasureRequest.__table__
        erasure = conn.execute(select(table).where(table.c.id == done.erasure_id)).first()
    assert erasure.reason == f"Data subject request {request_id}"  # the erasure names the DSR …
    view = register.get(request_id)
    assert view.step("erasure").link_ref == done.erasure_id  # … and the DSR the erasure
    assert erasure.state == "closed" and view.step("erasure").state == "done"  # no target held the subject
    # The subject's key is gone, yet the answer can still reach the person: the details were re-sealed for it.
    assert view.private["answer"]["address"] == ADDRESS

    with vault.write_transaction() as conn:  # the receipt's source line settled: nothing left to complete
        assert source.attest(conn, str(done.erasure_id), "dpo", "Deleted in Entra, ticket 12", datetime.now(UTC))
    answer = draft_answer(register, request_id, "dpo", tmp_path / "answer", date(2026, 2, 10))
    names = sorted(path.name for path, _sha in answer.files)
    assert names == [f"{request_id}-answer.md", f"{request_id}-answer.pdf",
                     f"erasure-receipt-{done.erasure_id}.json", f"erasure-receipt-{done.erasure_id}.pdf"]  # fmt: skip
    letter = (tmp_path / "answer" / f"{request_id}-answer.md").read_text()
    assert REQUESTER in letter and f"erasure-receipt-{done.erasure_id}.json" in letter and "Art. 79" in letter
    reader = PdfReader(tmp_path / "answer" / f"{request_id}-answer.pdf")
    pdf_text = "".join(page.extract_text() for page in reader.pages)
    assert "judicial remedy" in pdf_text
    assert oct((tmp_path / "answer" / f"{request_id}-answer.md").stat().st_mode & 0o777) == "0o600"
    closed = register.close(request_id, "dpo")
    assert closed.shredded and closed.rights == ["erasure"] and closed.answered_on == date(2026, 2, 10)


def test_erasing_the_subject_crypto_shreds_the_requesters_details(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    register.verify(request_id, "verified", "dpo", "call-back to the number on file")
    assert register.get(request_id).private["verification_means"].startswith("call-back")
    request_erasure(vault, [subject], "art17-1a", "dpo")  # erased by another route (the IdP, an operator)
    view = register.get(request_id)
    assert view.shredded and view.private is None
    # The skeleton stays provable: rights, dates, states, the pseudonym.
    assert (view.rights, view.due, view.verification, view.subject) == (["access"], date(2026, 3, 2), "verified",
                                                                          register.get(request_id).subject)  # fmt: skip
    with vault.read_connection() as conn:
        raw = conn.execute(select(DsrRequest.__table__.c.sealed)).scalar_one()
    assert raw and REQUESTER not in raw  # the ciphertext is still there, and unreadable
    with pytest.raises(Exception, match="crypto-shredded"):
        register.refuse(request_id, "art12-5", "repeated request", "dpo")
    assert register.for_subject(subject) == []  # the link from the person to the request is gone too


def test_restriction_flags_the_subject_for_the_targets(vault: Vault) -> None:
    subject = with_person(vault)
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "crm", "https://crm.invalid/scim/v2", "app3", secret="t"))
    register, _ = register_at(vault)
    request_id = register.open(["restriction"], "email", "dpo", RECEIVED, subject_id=subject)
    with vault.read_connection() as conn:
        assert not is_restricted(conn, subject)
        queued_before = len(conn.execute(select(OutboxItem.__table__)).all())
    view = register.record_task(request_id, "accuracy contested: restricted at the IdP by the service desk", "dpo")
    assert view.restricted and [r.id for r in register.for_subject(subject)] == [request_id]
    with vault.read_connection() as conn:
        assert is_restricted(conn, subject)
        assert len(conn.execute(select(OutboxItem.__table__)).all()) == queued_before + 1  # the target hears of it
    # What the target then receives (active: false) is tested end to end in test_dsr_restriction_target.py.
    register.record_answer(request_id, "dpo", date(2026, 2, 3), [])
    register.close(request_id, "dpo")
    lifted = register.lift_restriction(request_id, "dpo", datetime(2026, 2, 4, 9, tzinfo=UTC), "letter")  # the
    # flag outlives the request until lifted, the person told first (Art. 18(3))
    assert not lifted.restricted
    with vault.read_connection() as conn:
        assert not is_restricted(conn, subject)


def test_the_erasure_letter_does_not_hide_that_the_identity_provider_still_holds_the_person(
    vault: Vault, tmp_path: Path
) -> None:
    """The receipt says "still held at the identity provider" until the IdP is seen removing the person or an
    operator attests it; the letter said only "erased from our directory mirror and from every application",
    which a person reads as "erased everywhere". Now it says what the receipt says, for the DPO to resolve."""
    from app.erasure import source

    subject = with_person(vault)
    register, _clock = register_at(vault)
    request_id = register.open(["erasure"], "letter", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    done = act(register, request_id, "dpo", None)
    draft_answer(register, request_id, "dpo", tmp_path / "draft", None)
    held = (tmp_path / "draft" / f"{request_id}-answer.md").read_text()
    assert "identity provider" in held and "not yet" in held, held

    with vault.write_transaction() as conn:
        assert source.attest(conn, str(done.erasure_id), "dpo", "Deleted in Entra, ticket 12", datetime.now(UTC))
    draft_answer(register, request_id, "dpo", tmp_path / "sent", date(2026, 2, 10))
    removed = (tmp_path / "sent" / f"{request_id}-answer.md").read_text()
    assert "not yet" not in removed and "identity provider" in removed


def test_the_erasure_letter_does_not_call_an_open_erasure_done_nor_promise_a_receipt_it_lacks(
    vault: Vault, tmp_path: Path
) -> None:
    """A payroll bureau (a recipient with no SCIM target) still has to be told (Art. 19): the erasure stays open.
    The draft answer said "Done. Your data were erased … from every application we had sent them to …; the signed
    erasure receipt is attached" above "Nothing is attached to this answer". It now says what is still open."""
    from app.policy.edit import add_recipient
    from app.targets.policy_change import apply_policy
    from tests.policy_support import full_catalogue_text

    subject = with_person(vault)
    bureau = {"id": "payroll", "name": "Lohnbüro Schmidt", "kind": "external_controller", "country": "DE",
              "purposes": ["testing"], "attributes": ["userName"]}  # fmt: skip
    apply_policy(vault, add_recipient(full_catalogue_text(), bureau), "dpo")
    register, _clock = register_at(vault)
    request_id = register.open(["erasure"], "letter", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    act(register, request_id, "dpo", None)
    assert register.get(request_id).step("erasure").state == "started"  # open: the bureau is not told yet
    draft_answer(register, request_id, "dpo", tmp_path / "draft", None)
    text = (tmp_path / "draft" / f"{request_id}-answer.md").read_text()
    assert "Nothing is attached" in text
    assert "receipt is attached." not in text and "from every application" not in text, text
    assert "In progress" in text and "Requires human completion" in text
    # Named as the person knows the recipient (the policy's name, as their access export gives it), not by
    # Custos' step name: the letter said "still open: recipient:payroll".
    assert "(still open: Lohnbüro Schmidt)" in text and "recipient:payroll" not in text, text


def test_a_closed_erasure_not_confirmed_at_a_target_is_not_called_erased_everywhere(
    vault: Vault, tmp_path: Path
) -> None:
    """An erasure closes once every target has an outcome, and a deactivate-only target's outcome is
    "deprovisioned, erasure not confirmed": the letter still said "erased … from every application"."""
    from app.dsr import letter
    from app.policy.in_force import PolicyInForce

    subject = with_person(vault)
    register, _clock = register_at(vault)
    request_id = register.open(["erasure"], "letter", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    done = act(register, request_id, "dpo", None)
    view = register.get(request_id)
    assert view.step("erasure").state == "done"
    policy = PolicyInForce(vault).get().policy
    partly = letter.markdown(view, policy, RECEIVED, not_erased={str(done.erasure_id): ["crm"]})
    assert "from every application" not in partly and "Done in part" in partly
    assert "does not confirm the erasure at crm" in partly
    whole = letter.markdown(view, policy, RECEIVED, not_erased={str(done.erasure_id): []})
    assert "from every application" in whole and "Done in part" not in whole


def test_the_access_answer_does_not_call_the_copy_art_20_where_the_export_does_not(
    vault: Vault, tmp_path: Path
) -> None:
    """The letter called the JSON copy "(Art. 20)" for every access request, while the export (on legitimate
    interests alone) answers Art. 15 only and lists no right to portability."""
    subject = with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    act(register, request_id, "dpo", tmp_path / "out")
    document = json.loads((tmp_path / "out" / f"subject-{subject}.json").read_text())
    assert document["articles"] == ["15"]
    draft_answer(register, request_id, "dpo", tmp_path / "draft", None)
    text = (tmp_path / "draft" / f"{request_id}-answer.md").read_text()
    done = next(line for line in text.splitlines() if line.startswith("- Access"))
    assert "machine-readable JSON file" in done and "Art. 20" not in done, done
