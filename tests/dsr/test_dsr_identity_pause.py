"""Art. 12(6): while the controller waits for the identity information it asked for, the Art. 12(3) clock stands
still (EDPB Guidelines 01/2022; docs: gdpr-requirements §3A). Before, asking for it changed nothing: the register
kept counting, said "OVERDUE" and raised the deadline alerts while the controller lawfully waited, and the answer
was recorded "late" against a deadline that had not moved. Real vault, injected clock, controller in England."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from app.cli import main
from app.dsr.alerts import check_deadlines
from app.dsr.answering import draft_answer
from app.dsr.register import RequestError
from app.services.dsr import timeline
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.dsr.dsr_support import register_at, with_person

RECEIVED = datetime.fromisoformat("2026-02-02T10:00+00:00")  # Monday; one month: Monday 2 March 2026


def test_the_clock_stands_still_while_the_identity_information_is_awaited(vault: Vault) -> None:
    with_person(vault)
    register, clock = register_at(vault, "2026-02-05T09:00+00:00")
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    assert register.get(request_id).deadline == date(2026, 3, 2)

    view = register.verify(request_id, "requested", "dpo")  # asked on Thursday 5 February: 25 days left
    assert view.paused_since == date(2026, 2, 5)
    clock.now = datetime.fromisoformat("2026-03-10T09:00+00:00")  # past the first deadline, still waiting
    status = register.get(request_id).clock(clock.now)
    assert (status.state, status.days_left) == ("paused", 25)
    assert "paused since 2026-02-05" in status.describe() and "OVERDUE" not in status.describe()
    assert register.list(overdue_only=True) == []
    assert check_deadlines(vault, clock.now) == []  # no "deadline passed" alert for a clock that stands still

    view = register.verify(request_id, "verified", "dpo", means="call-back to the number on file")
    # 33 days waited (5 February → 10 March): 2 March + 33 days = Saturday 4 April → Easter Monday 6 April is
    # a bank holiday in England → Tuesday 7 April.
    assert (view.paused_since, view.paused_days, view.deadline) == (None, 33, date(2026, 4, 7))
    status = view.clock(clock.now)
    assert (status.state, status.days_left) == ("running", 28)
    assert [a.due for a in check_deadlines(vault, datetime.fromisoformat("2026-04-01T09:00+00:00"))] == ["2026-04-07"]
    texts = [entry.text for entry in timeline(vault, request_id)]
    assert "identity verification: requested; clock paused since 2026-02-05" in texts
    assert "identity verification: verified; clock resumed 2026-03-10 after 33 days, due 2026-04-07" in texts


def test_an_extension_counts_the_days_waited_too(vault: Vault) -> None:
    with_person(vault)
    register, clock = register_at(vault, "2026-02-05T09:00+00:00")
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    register.verify(request_id, "requested", "dpo")
    clock.advance(days=10)
    register.verify(request_id, "verified", "dpo", means="signed letter")  # due 2 March + 10 days = 12 March
    assert register.get(request_id).deadline == date(2026, 3, 12)
    view = register.extend(request_id, 2, "many systems to search", date(2026, 2, 15), "dpo")
    # three months from receipt (2 May 2026, a Saturday) + 10 days = Tuesday 12 May
    assert view.extended_due == date(2026, 5, 12)


def test_an_answer_sent_while_waiting_ends_the_wait_and_is_in_time(vault: Vault) -> None:
    with_person(vault)
    register, clock = register_at(vault, "2026-02-20T09:00+00:00")
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    register.verify(request_id, "requested", "dpo")  # 20 February: 10 days left
    clock.now = datetime.fromisoformat("2026-04-20T09:00+00:00")  # never came: refused under Art. 11(2)
    register.refuse(request_id, "art11", "no reply to our request for the information", "dpo")
    view = register.record_answer(request_id, "dpo", date(2026, 4, 20), [])
    assert view.clock(clock.now).state == "answered_in_time"
    assert (view.paused_since, view.paused_days, view.deadline) == (None, 59, date(2026, 4, 30))


def test_asking_after_the_deadline_does_not_bring_the_request_back_in_time(vault: Vault) -> None:
    with_person(vault)
    register, clock = register_at(vault, "2026-03-05T09:00+00:00")
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    view = register.verify(request_id, "requested", "dpo")
    assert view.paused_since is None
    assert view.clock(clock.now).state == "overdue"
    with pytest.raises(RequestError, match="cannot precede"):
        register.verify(request_id, "verified", "dpo", means="x", at=datetime.fromisoformat("2026-01-01T10:00Z"))


def test_dsr_verify_says_the_clock_paused_and_ran_again(
    vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_person(vault)
    register, _clock = register_at(vault, "2026-02-03T09:00+00:00")
    request_id = register.open(["access"], "email", "dpo", RECEIVED)  # the CLI's own clock is today: received long ago
    folder = str(vault.path.parent)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    base = ["dsr", "verify", request_id, "--data-dir", folder]
    assert main([*base, "--status", "requested", "--at", "2026-02-03T10:00"]) == 0
    out = capsys.readouterr().out
    assert "The clock is paused from 2026-02-03 until the information arrives (Art. 12(6))" in out
    assert main(["dsr", "list", "--open", "--data-dir", folder]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(request_id)]
    assert row.split()[-2:] == ["paused", "open"]
    assert main([*base, "--status", "verified", "--means", "passport seen", "--at", "2026-02-13T16:00"]) == 0
    assert "The clock ran again after 10 days of waiting: due 2026-03-12." in capsys.readouterr().out
    assert main(["dsr", "show", request_id, "--data-dir", folder]) == 0
    assert "due: 2026-03-12 (one month and 10 days waiting for identity information, Art. 12(6);" in (
        capsys.readouterr().out
    )


def test_the_letter_says_what_the_person_was_told_of_the_extension(vault: Vault, tmp_path: Path) -> None:
    """Extended on 10 February to 5 May, then the clock stood still 9 days for identity information: the letter
    said "On 2026-02-10 we told you that we needed until 2026-05-13 to answer", a date that earlier message never
    gave. It says what was told (the further months and why) and the date the answer is due now."""
    subject = with_person(vault)
    register, clock = register_at(vault, "2026-02-10T09:00+00:00")
    request_id = register.open(["access"], "email", "dpo", RECEIVED, subject_id=subject)
    register.extend(request_id, 2, "records in three systems to search.", date(2026, 2, 10), "dpo")
    assert register.get(request_id).deadline == date(2026, 5, 5)  # 2 May: Saturday; 4 May: Early May bank holiday
    register.verify(request_id, "requested", "dpo")
    clock.now = datetime.fromisoformat("2026-02-19T09:00+00:00")
    view = register.verify(request_id, "verified", "dpo", means="call-back to the number on file")
    assert view.deadline == date(2026, 5, 11)  # 2 May + 9 days: Monday 11 May

    letter = draft_answer(register, request_id, "dpo", tmp_path, None).files[0][0].read_text()
    assert ("On 2026-02-10 we told you that we needed 2 further months to answer (Art. 12(3)), because: records "
            "in three systems to search. Our answer is due by 2026-05-11.") in letter, letter
    assert "needed until" not in letter
