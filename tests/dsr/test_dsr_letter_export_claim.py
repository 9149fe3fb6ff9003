"""The answer letter says a copy of the data is attached only when the request's export was made and attached."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader

from app.dsr.answering import draft_answer
from app.services.dsr_actions import act
from app.store.vault import Vault
from tests.dsr.dsr_support import register_at, with_person

ATTACHED = "Done. A copy of the personal data we hold about you is attached"


def _letter(folder: Path, request_id: str) -> tuple[str, str]:
    markdown = (folder / f"{request_id}-answer.md").read_text(encoding="utf-8")
    pdf = " ".join(page.extract_text() for page in PdfReader(folder / f"{request_id}-answer.pdf").pages)
    return markdown, " ".join(pdf.split())


def test_an_access_request_not_yet_acted_on_is_not_said_to_be_answered_with_a_copy(
    vault: Vault, tmp_path: Path
) -> None:
    """Found following the README's request steps on a fresh machine: `dsr act` refused a request not matched to an
    identity, and `dsr answer` then drafted "Access (Art. 15): Done. A copy of the personal data we hold about you
    is attached" above "Nothing is attached to this answer."."""
    register, _clock = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 9, 9, 0, tzinfo=UTC))
    draft_answer(register, request_id, "dpo", tmp_path / "early", None)
    markdown, pdf = _letter(tmp_path / "early", request_id)
    assert ATTACHED not in markdown and ATTACHED not in " ".join(pdf.split())
    assert "- Access (Art. 15): In progress. Requires human completion: no copy of the data has been made" in markdown
    assert "Nothing is attached to this answer." in markdown


def test_an_access_request_acted_on_says_its_copy_is_attached(vault: Vault, tmp_path: Path) -> None:
    subject = with_person(vault)
    register, _clock = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 9, 9, 0, tzinfo=UTC), subject_id=subject)
    act(register, request_id, "dpo", tmp_path / "out")
    draft_answer(register, request_id, "dpo", tmp_path / "out", None)
    markdown, _pdf = _letter(tmp_path / "out", request_id)
    assert f"- Access (Art. 15): {ATTACHED}" in markdown
    assert "Nothing is attached to this answer." not in markdown  # the export's files are listed under Attached
