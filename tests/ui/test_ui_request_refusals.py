"""The Requests page says the register's refusals with its own forms' fields, never the command line's options."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from ui_support import insert_rows, user_row

from app.store.vault import Vault
from app.ui.requests.view import RequestsPage
from tests.dsr.dsr_support import in_england, register_at
from tests.dsr.test_dsr_refusal_words import RECEIVED


def test_the_requests_page_names_the_refuse_form_s_field(qtbot: QtBot, vault: Vault) -> None:
    """Every open right, on an Art. 17(3) ground: the page said "(--right erasure)"; now the form's field."""
    in_england(vault)
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", RECEIVED)])
    register, clock = register_at(vault)
    request_id = register.open(["rectification", "erasure"], "email", "dpo", RECEIVED, subject_id=subject)
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.run_form = lambda dialog: {"right": None, "ground": "art17-3e", "reason": "litigation hold"}
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)

    page.refuse()

    expected = ("The Art. 17(3) exceptions apply to erasure only: refuse that right alone (Refuse…, “Right”: "
                "Erasure (Art. 17)).")  # fmt: skip
    qtbot.waitUntil(lambda: page.status.text() == expected, timeout=5000)
    assert register.get(request_id).step("erasure").state != "refused"
    page.hide()
