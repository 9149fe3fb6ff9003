"""Attesting from the erasure history that the identity provider removed or blocked the person: the note dialog
says "The note goes on the receipt", so the receipt a DPO reads (the PDF) carries it, and OK waits for a note."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from app.erasure.requests import request_erasure
from app.policy import versions
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.erasure.history import ErasureHistoryDialog, NoteDialog
from tests.erasure.support import person, service_for

NOTE = "Blocked in Entra by the IT desk, checked in its admin portal"


def erased(vault: Vault) -> str:
    apply_policy(vault, versions.default_policy_text(), "dpo")
    service = service_for(vault)
    user = str(service.create("User", person("leaver@example.test")).body["id"])  # type: ignore[index]
    service.close()
    return request_erasure(vault, [user], "art17-1a", "dpo", "ticket 9")


def test_the_source_attestation_note_is_on_the_pdf_receipt(vault: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    request_id = erased(vault)
    dialog = ErasureHistoryDialog(vault)
    qtbot.addWidget(dialog)
    dialog.ask_note = lambda _parent, _what: NOTE
    dialog.choose_folder = lambda _parent: tmp_path
    qtbot.waitUntil(lambda: any(line.target == "source" for line in dialog.lines), timeout=5000)
    dialog.line_table.selectRow([line.target for line in dialog.lines].index("source"))
    dialog.attest_selected()
    qtbot.waitUntil(lambda: "Attested 1" in dialog.message.text(), timeout=5000)
    dialog.save_receipt()
    qtbot.waitUntil(lambda: "Receipt written" in dialog.message.text(), timeout=10_000)
    pdf = tmp_path / f"erasure-receipt-{request_id}.pdf"
    text = " ".join("".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert "removed or blocked at the identity provider (attested) by" in text
    assert NOTE in text


def test_ok_waits_for_the_note(qtbot: QtBot) -> None:
    """An empty note was accepted by OK and then dropped without a word (nothing attested, nothing said)."""
    dialog = NoteDialog("Identity provider (source)")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.ok_button.isEnabled()
    dialog.note.setPlainText("   ")
    assert not dialog.ok_button.isEnabled()
    dialog.note.setPlainText(NOTE)
    assert dialog.ok_button.isEnabled()
