"""The answer letter is dated in the controller's time zone, as the day of receipt it states is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader

from app.dsr import settings
from app.dsr.answering import draft_answer
from app.store.vault import Vault
from tests.dsr.dsr_support import register_at, with_person
from tests.planted_links import plant, untouched


def test_a_letter_drafted_after_local_midnight_is_not_dated_before_the_request_arrived(
    vault: Vault, tmp_path: Path
) -> None:
    """In Berlin at 00:30 on 11 February (23:30 UTC on the 10th), a request received at 00:10 local time was
    answered by a letter "Draft of 2026-02-10" saying "We received your request on 2026-02-11": the letter's date
    was the UTC date, the day of receipt the controller's."""
    subject = with_person(vault)
    settings.save(vault.path.parent, country="DE", subdivision="BE", zone="Europe/Berlin")
    register, _clock = register_at(vault, "2026-02-10T23:30:00+00:00")
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 10, 23, 10, tzinfo=UTC),
                               subject_id=subject)  # fmt: skip
    draft_answer(register, request_id, "dpo", tmp_path, None)
    letter = (tmp_path / f"{request_id}-answer.md").read_text(encoding="utf-8")
    assert "We received your request on 2026-02-11" in letter
    assert "Draft of 2026-02-11." in letter, letter.splitlines()[2]
    pdf = " ".join(page.extract_text() for page in PdfReader(tmp_path / f"{request_id}-answer.pdf").pages)
    assert "Draft of 2026-02-11" in pdf and "2026-02-10" not in pdf


def test_the_answer_letter_never_writes_through_a_link_in_the_folder(vault: Vault, tmp_path: Path) -> None:
    """A link planted under the letter's name had the file it named overwritten with the letter (and made 0600)."""
    subject = with_person(vault)
    register, _clock = register_at(vault, "2026-02-10T12:00:00+00:00")
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 10, 9, tzinfo=UTC), subject_id=subject)
    out, victim = plant(tmp_path, "answers", [f"{request_id}-answer.{suffix}" for suffix in ("md", "pdf")])
    draft_answer(register, request_id, "dpo", out, None)
    assert untouched(victim)
    letter = out / f"{request_id}-answer.md"
    assert not letter.is_symlink() and "We received your request" in letter.read_text(encoding="utf-8")
    assert letter.stat().st_mode & 0o777 == 0o600
