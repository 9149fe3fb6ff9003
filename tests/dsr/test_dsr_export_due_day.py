"""The subject export states when the answer is due as the controller's calendar day with its zone. On main it
said "Answer due by 2026-12-28T22:59:59.999999Z" (and "Request received 2026-11-26T23:00:00.000000Z"): correct
instants, the end of 28 December in Berlin and the start of 27 November there, which a person reads as "by 22:59"
and "received on the 26th". Real vault, the request register's injected clock, the export read back."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from app.dsr import settings
from app.services.dsr_actions import act
from app.store.vault import Vault
from tests.dsr.dsr_support import register_at, with_person

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_answer_is_due_by_the_end_of_a_day_where_the_controller_is(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    settings.save(vault.path.parent, country="DE", subdivision="", zone="Europe/Berlin")
    register, _ = register_at(vault, "2026-12-02T09:00:00+00:00")
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 11, 27, tzinfo=BERLIN), subject_id=subject)
    act(register, request_id, "dpo", tmp_path)

    response = json.loads((tmp_path / f"subject-{subject}.json").read_text())["response"]
    assert response["answer_by"] == "2026-12-28T22:59:59.999999Z"  # for programs: the day's last instant, UTC
    assert response["answer_due_day"] == "2026-12-28" and response["received_day"] == "2026-11-27"
    assert response["time_zone"] == "Europe/Berlin"
    assert response["answer_due"] == "by the end of 28 December 2026, Europe/Berlin (22:59:59 UTC)"

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(tmp_path / f"subject-{subject}.pdf").pages)
                    .split())  # fmt: skip
    assert "Answer due by the end of 28 December 2026, Europe/Berlin (22:59:59 UTC)" in text
    assert "Request received 27 November 2026, Europe/Berlin" in text
    assert "22:59:59.999999Z" not in text and "2026-11-26T23:00" not in text


def test_west_of_greenwich_the_utc_instant_names_its_own_day(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    settings.save(vault.path.parent, country="US", subdivision="", zone="America/New_York")
    register, _ = register_at(vault, "2026-12-02T09:00:00+00:00")
    received = datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("America/New_York"))
    request_id = register.open(["access"], "email", "dpo", received, subject_id=subject)
    act(register, request_id, "dpo", tmp_path)
    response = json.loads((tmp_path / f"subject-{subject}.json").read_text())["response"]
    assert response["answer_due"] == ("by the end of 28 December 2026, America/New_York (29 December 2026, "
                                      "04:59:59 UTC)")  # fmt: skip
