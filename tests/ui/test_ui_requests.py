"""The Requests page and its dialogs: the queue sorted by due date with the clock in words and colour, filters,
a new request with identity matching by keyboard alone, the actions with the passphrase asked before an export,
and every dialog fitting a 1920×1080 screen at 200 % (960×540 logical)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QSize, Qt, QTime
from PySide6.QtWidgets import QDateTimeEdit, QDialogButtonBox, QFormLayout
from pytestqt.qtbot import QtBot
from ui_keyboard import mnemonics
from ui_support import PASSPHRASE, answer_passphrase_dialog, insert_rows, user_row

from app.audit.trail import of_kind
from app.dsr import settings
from app.dsr.register import DsrRegister
from app.store.vault import Vault
from app.ui.lock.reauth import reauthenticate_with
from app.ui.requests import forms
from app.ui.requests.intake import NewRequestDialog
from app.ui.requests.view import RequestsPage, RunForm, record_text
from app.ui.theme import status_colour
from tests.policy_support import hold_everything

NOW = datetime(2026, 2, 26, 10, 0, tzinfo=UTC)  # a Thursday
SCREEN_AT_200 = QSize(960, 540)


def clock() -> datetime:
    return NOW


def in_england(vault: Vault) -> None:
    settings.save(vault.path.parent, country="GB", subdivision="ENG", zone="Europe/London")


def fits(size: QSize) -> bool:
    return size.width() <= SCREEN_AT_200.width() and size.height() <= SCREEN_AT_200.height()


def test_queue_by_due_date_with_the_clock_and_filters(qtbot: QtBot, vault: Vault) -> None:
    in_england(vault)
    register = DsrRegister(vault, clock)
    later = register.open(["erasure"], "form", "dpo", datetime(2026, 2, 20, tzinfo=UTC))  # due 20 March
    overdue = register.open(["access"], "email", "dpo", datetime(2026, 1, 2, tzinfo=UTC))  # due 2 Feb
    soon = register.open(["access", "portability"], "letter", "dpo", datetime(2026, 1, 31, tzinfo=UTC))  # 2 March
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=5000)
    assert [page.table.item(r, 0).text() for r in range(3)] == [overdue, soon, later]
    assert [page.table.item(r, 4).text() for r in range(3)] == ["overdue by 24 d", "4 d", "22 d"]
    assert page.table.item(0, 4).foreground().color() == status_colour("error")  # red
    assert page.table.item(1, 4).foreground().color() == status_colour("warning")  # amber
    assert page.table.item(2, 4).foreground().color() != status_colour("warning")
    assert page.summary.text() == "3 requests awaiting an answer; 1 overdue; nearest deadline 2026-02-02."
    qtbot.waitUntil(lambda: "Timeline" in page.detail.toPlainText() or overdue in page.detail.toPlainText())
    assert "Due 2026-02-02" in page.detail.toPlainText()

    page.state_filter.setFocus()
    qtbot.keyClick(page.state_filter, Qt.Key.Key_Down)  # "Overdue"
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text() == overdue
    qtbot.keyClick(page.state_filter, Qt.Key.Key_Down)  # "All"
    page.type_filter.setCurrentIndex(page.type_filter.findData("portability"))
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text() == soon
    page.hide()
    assert not page.ticker.isActive()


def test_new_request_by_keyboard_with_identity_matching(qtbot: QtBot, vault: Vault) -> None:
    in_england(vault)
    insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW),
                        user_row("otto@example.org", "Otto Brand", NOW)])  # fmt: skip
    register = DsrRegister(vault, clock)
    dialog = NewRequestDialog(register)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.rights["access"].setFocus()
    qtbot.keyClick(dialog.rights["access"], Qt.Key.Key_Space)
    qtbot.keyClicks(dialog.requester_name, "Ottoline Vexbridge")
    qtbot.keyClicks(dialog.answer_address, "12 Quarry Lane, Leeds")
    qtbot.keyClicks(dialog.search, "otto")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)  # searches; does not record the request
    qtbot.waitUntil(lambda: dialog.matches.count() == 3, timeout=5000)
    assert dialog.message.text() == "2 identities match." and dialog.chosen() is None  # several: a choice is needed
    assert dialog.created is None
    dialog.matches.setFocus()
    qtbot.keyClick(dialog.matches, Qt.Key.Key_Down)
    chosen = dialog.chosen()
    assert chosen is not None
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setFocus()
    qtbot.keyClick(ok, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.created is not None, timeout=5000)
    view = register.get(dialog.created)
    assert view.rights == ["access"] and view.subject and view.matches == 2
    assert view.private["requester"]["name"] == "Ottoline Vexbridge" and view.channel == "email"
    assert register.for_subject(chosen)[0].id == view.id


@pytest.fixture
def workstation_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The operator's machine five hours behind the controller (Europe/London)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("workstation_in_new_york")
def test_the_received_time_is_read_where_the_controller_is(qtbot: QtBot, vault: Vault) -> None:
    """22:00 on Thursday 26 February typed in the dialog is 22:00 in London, as ``dsr open --received`` reads it:
    received that Thursday, due Thursday 26 March. Read in New York time it became 03:00 on the Friday in London,
    and the deadline a day later than the CLI gave for the same input."""
    in_england(vault)
    register = DsrRegister(vault, lambda: datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    typed = DsrRegister(vault, register.now).open(["access"], "email", "dpo", datetime(2026, 2, 26, 22, 0))  # the CLI
    dialog = NewRequestDialog(register)
    qtbot.addWidget(dialog)
    label = dialog.findChild(QFormLayout).labelForField(dialog.received)
    assert label.text() == "&Received (Europe/London time)"
    dialog.received.setDate(QDate(2026, 2, 26))
    dialog.received.setTime(QTime(22, 0))
    assert dialog.received.text() == "2026-02-26 22:00 GMT"
    dialog.rights["access"].setChecked(True)
    dialog.record()
    qtbot.waitUntil(lambda: dialog.created is not None, timeout=5000)
    view, cli = register.get(dialog.created), register.get(typed)
    assert view.received == cli.received == datetime(2026, 2, 26, 22, 0, tzinfo=UTC)
    assert (view.received_day, view.due) == (cli.received_day, cli.due) == (date(2026, 2, 26), date(2026, 3, 26))


def test_a_new_request_needs_a_right(qtbot: QtBot, vault: Vault) -> None:
    dialog = NewRequestDialog(DsrRegister(vault, clock))
    qtbot.addWidget(dialog)
    dialog.record()
    assert dialog.message.text() == "Tick at least one right asked for." and dialog.created is None


def test_an_erasure_from_a_request_shows_what_it_erases_where_before_anything_is_asked(
    qtbot: QtBot, vault: Vault
) -> None:
    """Was: "Act (export / erase)…" went straight to the passphrase and erased, with no word of whom or where
    (Identities' erasure shows both first). Now the person and each place, the answer No by default. And the
    Art. 17(1) ground is the operator's choice: the page erased on 17(1)(a) whatever the person's ground was."""
    in_england(vault)
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    register.open(["erasure"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC), subject_id=subject)
    asked: list[str] = []
    page = RequestsPage(vault, reauthenticate_with(vault), now=clock)
    qtbot.addWidget(page)
    page.confirm_erasure = lambda _parent, question: asked.append(question) or False  # the operator says No
    grounds: list[str] = []

    def consent_withdrawn(dialog: forms.FormDialog) -> dict[str, object]:
        """The ground is asked before the confirmation, by keyboard: Art. 17(1)(b), the second one."""
        dialog.show()
        box = dialog.fields["ground"]
        grounds.extend(box.itemData(i) for i in range(box.count()))
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_Down)
        return dialog.values()

    page.run_form = consent_withdrawn
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.act()
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert "Erasing: Ottoline Vexbridge (ottoline@example.org)." in asked[0]
    assert "• This Custos mirror: deleted now (1)" in asked[0]
    assert "• Identity provider (source): " in asked[0]
    assert "Ground: Art. 17(1)(b): consent withdrawn." in asked[0]
    assert grounds == ["art17-1a", "art17-1b", "art17-1c", "art17-1d", "art17-1e", "art17-1f"]  # an operator's only
    qtbot.waitUntil(lambda: page.status.text() == "Nothing was erased.", timeout=5000)
    with vault.read_connection() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM scim_resources").scalar() == 1  # nothing erased
        assert not of_kind(conn, "erasure.requested")
    page.confirm_erasure = lambda _parent, question: asked.append(question) or True  # now Erase
    answer_passphrase_dialog(PASSPHRASE)
    page.act()
    qtbot.waitUntil(lambda: page.status.text().startswith("Done: erasure request "), timeout=15_000)
    with vault.read_connection() as conn:
        [requested] = of_kind(conn, "erasure.requested")
    # the ground chosen, on the trail and so on the signed receipt: it was always Art. 17(1)(a) from this page
    assert requested.details["ground"] == "art17-1b"
    assert len(asked) == 2


def test_actions_ask_the_passphrase_before_an_export(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    in_england(vault)
    hold_everything(vault)  # a policy naming the controller: the letter has nothing left to complete
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    request_id = register.open(["access", "rectification"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC),
                               subject_id=subject, private={"requester": {"name": "O. Vexbridge"}})  # fmt: skip
    page = RequestsPage(vault, reauthenticate_with(vault), now=clock)
    qtbot.addWidget(page)
    page.choose_folder = lambda _parent, _title: tmp_path / "out"
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert not page.action_buttons["close"].isEnabled() and page.action_buttons["act"].isEnabled()

    answer_passphrase_dialog(None)  # cancelling the passphrase stops the export
    page.act()
    assert not (tmp_path / "out").exists()
    answer_passphrase_dialog(PASSPHRASE)
    page.act()
    qtbot.waitUntil(lambda: page.status.text().startswith("Done: wrote"), timeout=15_000)
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".json", ".pdf"]

    def fill_task(dialog: forms.FormDialog) -> dict[str, object]:  # a child of the page: the page owns it
        dialog.show()
        box = dialog.fields["done"]
        box.setFocus()
        qtbot.keyClicks(box, "surname corrected at the IdP by the service desk")
        return dialog.values()

    page.run_form = fill_task
    qtbot.waitUntil(lambda: page.action_buttons["task"].isEnabled(), timeout=5000)
    page.task()
    qtbot.waitUntil(lambda: register.get(request_id).step("rectification").state == "done", timeout=5000)

    def send_today(dialog: forms.FormDialog) -> dict[str, object]:
        dialog.show()
        dialog.fields["mode"].setFocus()
        qtbot.keyClick(dialog.fields["mode"], Qt.Key.Key_Down)  # "Sent on the date below"
        return dialog.values()

    page.run_form = send_today
    qtbot.waitUntil(lambda: page.action_buttons["answer"].isEnabled(), timeout=5000)
    page.answer()
    qtbot.waitUntil(lambda: register.get(request_id).state == "answered", timeout=10_000)
    assert register.get(request_id).answered_on == date(2026, 2, 26)
    qtbot.waitUntil(lambda: page.action_buttons["close"].isEnabled(), timeout=5000)
    page.close_request()
    qtbot.waitUntil(lambda: register.get(request_id).state == "closed", timeout=5000)


def test_the_dialogs_fit_at_200_percent(qtbot: QtBot, vault: Vault) -> None:
    in_england(vault)
    register = DsrRegister(vault, clock)
    view = register.get(register.open(["access", "erasure", "restriction"], "email", "dpo",
                                      datetime(2026, 2, 2, tzinfo=UTC)))  # fmt: skip
    today = date(2026, 2, 26)
    from app.ui.requests.intake import MatchDialog

    dialogs = [NewRequestDialog(register), MatchDialog(register, view.id), forms.verify_form(view, NOW, None),
               forms.extend_form(view, today, None),
               forms.task_form(view, None), forms.refuse_form(view, None),
               forms.answer_form(view, today, None), forms.lift_form(view, NOW, None),
               forms.erasure_ground_form(None)]  # fmt: skip
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        assert fits(dialog.minimumSizeHint()), (dialog.windowTitle(), dialog.minimumSizeHint().toTuple())
        assert fits(dialog.sizeHint()), (dialog.windowTitle(), dialog.sizeHint().toTuple())


def test_without_a_country_the_page_says_holidays_are_not_counted(qtbot: QtBot, vault: Vault) -> None:
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    register.open(["access"], "email", "dpo", datetime(2026, 2, 20, tzinfo=UTC), subject_id=subject,
                  private={"requester": {"name": "Ottoline Vexbridge"}, "answer": {"address": "PO Box 7"}})  # fmt: skip
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert "No country is set, so only weekends move a deadline" in page.summary.text()
    qtbot.waitUntil(lambda: "Requester: Ottoline Vexbridge" in page.detail.toPlainText(), timeout=5000)
    assert "Answer by: email, PO Box 7" in page.detail.toPlainText()


def test_lines_for_the_overview_and_the_identities_page(vault: Vault) -> None:
    from app.services.dsr import read_overview_line, subject_lines

    in_england(vault)
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    assert read_overview_line(register) == "No data subject request awaiting an answer."
    first = register.open(["access"], "email", "dpo", datetime(2026, 1, 31, 10, tzinfo=UTC), subject_id=subject)
    register.open(["erasure"], "email", "dpo", datetime(2026, 1, 2, tzinfo=UTC))
    assert read_overview_line(register) == ("2 open requests; 1 overdue; nearest deadline 2026-02-02 "
                                            "(OVERDUE by 24 days)")  # fmt: skip
    assert subject_lines(register, subject) == [
        f"{first}: access; received 2026-01-31; due 2026-03-02; open — 4 days left (due 2026-03-02)"
    ]


def test_match_later_and_lift_a_restriction_from_the_page(qtbot: QtBot, vault: Vault) -> None:
    from app.ui.requests.intake import MatchDialog

    in_england(vault)
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    request_id = register.open(["restriction"], "letter", "dpo", datetime(2026, 2, 2, tzinfo=UTC))
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)

    def match_by_keyboard(dialog: MatchDialog) -> bool:  # a child of the page: the page owns it
        dialog.show()
        dialog.identity.search.setFocus()
        qtbot.keyClicks(dialog.identity.search, "vexbridge")
        qtbot.keyClick(dialog.identity.search, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.identity.matches.count() == 2, timeout=5000)
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setFocus()
        qtbot.keyClick(ok, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: dialog.matched, timeout=5000)
        return dialog.matched

    page.run_match = match_by_keyboard
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and page.action_buttons["match"].isEnabled(), timeout=5000)
    assert not page.action_buttons["lift"].isEnabled()
    page.match()
    qtbot.waitUntil(lambda: not page.action_buttons["match"].isEnabled(), timeout=5000)
    assert register.for_subject(subject)[0].id == request_id
    register.record_task(request_id, "restricted at the IdP by the service desk", "dpo")
    page.refresh()
    qtbot.waitUntil(lambda: page.action_buttons["lift"].isEnabled(), timeout=5000)

    def told_by_letter_an_hour_ago(dialog: forms.FormDialog) -> dict[str, object]:  # Art. 18(3), by keyboard
        dialog.show()
        when = dialog.fields["informed_at"]
        assert isinstance(when, QDateTimeEdit) and when.dateTime().toString("yyyy-MM-dd HH:mm") == "2026-02-26 10:00"
        when.setFocus()
        when.setSelectedSection(QDateTimeEdit.Section.HourSection)
        qtbot.keyClick(when, Qt.Key.Key_Down)  # 09:00 in London (the controller's zone; UTC in February)
        dialog.fields["informed_by"].setFocus()
        qtbot.keyClick(dialog.fields["informed_by"], Qt.Key.Key_Down)  # "Letter"
        return dialog.values()

    page.run_form = told_by_letter_an_hour_ago
    page.lift()
    qtbot.waitUntil(lambda: page.status.text().startswith("Restriction lifted"), timeout=5000)
    assert not register.get(request_id).restricted
    with vault.read_connection() as conn:
        lifted = [e.details for e in of_kind(conn, "dsr.restricted") if e.details["restricted"] is False]
    assert lifted == [{"request": request_id, "restricted": False, "informed_at": "2026-02-26T09:00:00+00:00",
                       "informed_by": "letter"}]  # fmt: skip


def test_a_slow_record_of_an_earlier_selection_never_shows_under_the_current_one(
    qtbot: QtBot, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each selection reads its record in a worker; the reads finish in any order. The first request's read is held
    back until the second one's has been shown: the pane must keep showing the request that is selected."""
    import threading

    from app.ui.requests import view as requests_view

    in_england(vault)
    register = DsrRegister(vault, clock)
    first = register.open(["access"], "email", "dpo", datetime(2026, 1, 2, tzinfo=UTC))
    second = register.open(["erasure"], "form", "dpo", datetime(2026, 1, 20, tzinfo=UTC))
    release = threading.Event()
    held: list[str] = []
    real = requests_view.load_record

    def load(register: DsrRegister, view: object) -> str:
        if getattr(view, "id", None) == first and not held:  # one read of the first request (a pool thread) held
            held.append(first)
            release.wait(10)  # its record comes back last
        return real(register, view)

    monkeypatch.setattr(requests_view, "load_record", load)
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    assert page.table.item(0, 0).text() == first  # selected first: its read is held back
    page.table.selectRow(1)
    qtbot.waitUntil(lambda: page.detail.toPlainText().startswith(f"{second} — "), timeout=5000)
    release.set()
    qtbot.wait(300)  # the held read finishes now, after the second one was shown
    assert page.detail.toPlainText().startswith(f"{second} — ")


def test_identity_not_needed_is_said_only_once_someone_decided_it(vault: Vault) -> None:
    """Before: every new request read "Identity: not needed" although no one had decided anything."""
    register = DsrRegister(vault, now=clock)
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC))
    fresh = record_text(register.get(request_id), [], NOW)
    assert "Identity: no check recorded (needed only where there is reasonable doubt, Art. 12(6))" in fresh
    register.verify(request_id, "not_needed", "dpo")
    decided = record_text(register.get(request_id), [], NOW)
    assert "Identity: not needed; not matched to an identity" in decided


def test_a_new_request_starts_at_the_first_right_and_every_alt_key_reaches_its_field(
    qtbot: QtBot, vault: Vault
) -> None:
    """By keyboard from the moment it opens: the scroll area around the form took the first focus (Space ticked
    nothing), Alt+I went nowhere (its buddy took no focus itself) and Alt+R moved between "Received" and "Record
    request" instead of reaching the time."""
    from PySide6.QtWidgets import QApplication

    dialog = NewRequestDialog(DsrRegister(vault, clock))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=2000)
    assert QApplication.focusWidget() is dialog.rights["access"]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert dialog.rights["access"].isChecked()
    alt = Qt.KeyboardModifier.AltModifier
    for letter, field in ((Qt.Key.Key_I, dialog.search), (Qt.Key.Key_R, dialog.received)):
        qtbot.keyClick(QApplication.focusWidget(), letter, alt)
        assert QApplication.focusWidget() is field, letter
    assert len(set(mnemonics(dialog))) == len(mnemonics(dialog)), mnemonics(dialog)  # one field per Alt key



def test_the_record_says_the_state_in_words_as_the_list_does(vault: Vault) -> None:
    """Was (seen in Xvfb): the list read "in progress" and the record under it "State: in_progress", the
    register's own identifier, for the same request."""
    register = DsrRegister(vault, now=clock)
    request_id = register.open(["rectification"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC))
    register.record_task(request_id, "corrected in the HR system", "dpo")
    view = register.get(request_id)
    assert view.state == "in_progress"
    text = record_text(view, [], NOW)
    assert "State: in progress" in text and "in_progress" not in text


def test_a_request_just_recorded_is_the_one_selected(qtbot: QtBot, vault: Vault) -> None:
    """Was (seen in Xvfb): after New request… the status said "Recorded dsr-…" while the list kept the request
    selected before; Act (export / erase)… and Answer… then worked on that earlier request, not on the one just
    recorded. Now the new request is selected, and the keyboard is on it."""
    register = DsrRegister(vault, clock)
    earlier = register.open(["access"], "email", "dpo", datetime(2026, 1, 20, tzinfo=UTC))  # due first: listed first
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: page._selected() is not None, timeout=5000)
    assert page._selected().id == earlier  # type: ignore[union-attr]
    page.run_intake = lambda _dialog: register.open(["erasure"], "email", "dpo", datetime(2026, 2, 20, tzinfo=UTC))
    page.new_request()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    created = next(v.id for v in register.list() if v.id != earlier)
    qtbot.waitUntil(lambda: page._selected() is not None and page._selected().id == created, timeout=5000)
    assert page.table.item(page.table.currentRow(), 0).text() == created


def test_the_folders_for_subject_data_letters_and_breach_drafts_are_offered_in_documents(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was (seen in Xvfb): Act (export) and Answer… on the Requests page, and the incident drafts, opened their
    folder chooser in the working directory, the program's own folder when started from a launcher; a subject's
    data were offered a place beside the program. Now they start in Documents, as every other export does."""
    from PySide6.QtWidgets import QFileDialog, QWidget

    from app.ui.incidents import view as incidents_view
    from app.ui.requests import view as requests_view
    from app.ui.widgets import documents_dir

    monkeypatch.chdir(tmp_path)  # the working directory: never where the chooser should start
    started: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda _parent, _title, start="": started.append(start) or ""))  # fmt: skip
    parent = QWidget()
    qtbot.addWidget(parent)
    assert requests_view.choose_folder(parent, "Export subject data into folder") is None
    assert incidents_view.choose_folder(parent) is None
    assert started == [documents_dir(), documents_dir()] and str(tmp_path) not in started


def test_deadline_settings_from_the_page_count_public_holidays(qtbot: QtBot, vault: Vault) -> None:
    """The note pointed a DPO to the command line; the page's dialog sets the country through the CLI's service."""
    from app.ui.requests.settings_dialog import DeadlineSettingsDialog

    def april() -> datetime:
        return datetime(2026, 4, 2, 10, 0, tzinfo=UTC)

    register = DsrRegister(vault, april)
    received = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)  # one month later: Friday 1 May, a public holiday in France
    before = register.open(["access"], "email", "dpo", received)
    page = RequestsPage(vault, now=april)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert "No country is set" in page.summary.text() and "Deadline settings" in page.summary.text()
    errors: list[str] = []

    def by_keyboard(dialog: DeadlineSettingsDialog) -> bool:
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.zone.text() == "UTC" and dialog.country.text() == ""
        assert fits(dialog.sizeHint()), dialog.sizeHint().toTuple()
        dialog.country.setFocus()
        qtbot.keyClicks(dialog.country, "ZZ")
        qtbot.keyClick(dialog.country, Qt.Key.Key_Return)  # refused by the service: the dialog stays, says why
        errors.append(dialog.error.text())
        qtbot.keyClick(dialog.country, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(dialog.country, "fr")
        qtbot.keyClick(dialog.country, Qt.Key.Key_Return)
        return dialog.result() == DeadlineSettingsDialog.DialogCode.Accepted

    page.run_settings = by_keyboard
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=2000)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)  # &Deadline settings…
    qtbot.waitUntil(lambda: bool(errors), timeout=2000)  # a mnemonic animates its click
    assert errors == ["'ZZ' is not an ISO 3166-1 country code the holidays calendar knows (e.g. FR, DE)."]
    qtbot.waitUntil(lambda: "No country is set" not in page.summary.text(), timeout=5000)
    assert page.status.text().startswith("Deadline settings saved")
    current = settings.load(vault.path.parent, None)
    assert (current.country, current.zone) == ("FR", "Europe/Paris")  # the zone follows the country, as in the CLI

    after = register.open(["access"], "email", "dpo", received)
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    due = {page.table.item(r, 0).text(): page.table.item(r, 3).text() for r in range(2)}
    # Recorded before: keeps the deadline it was opened with; recorded after: moved over 1 May to Monday 4 May.
    assert due == {before: "2026-05-01", after: "2026-05-04"}


def test_act_waits_for_a_matched_identity(qtbot: QtBot, vault: Vault) -> None:
    """A request not matched to anyone in the mirror offered Act (export / erase)…: it asked the passphrase, then a
    folder, and only then said the request was not matched. Act is off until Match identity… found the person,
    and its tooltip says so."""
    in_england(vault)
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    request_id = register.open(["access", "erasure"], "email", "dpo", datetime(2026, 2, 20, tzinfo=UTC))
    asked: list[str] = []
    page = RequestsPage(vault, reauthenticate=lambda _parent, action: asked.append(action) or False, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and page.action_buttons["match"].isEnabled(), timeout=5000)
    act = page.action_buttons["act"]
    assert not act.isEnabled() and act.toolTip().startswith("Match identity… first")
    assert page.action_buttons["refuse"].isEnabled()  # Art. 11(2) stays open to it
    register.match(request_id, subject, "dpo")
    page.refresh()
    qtbot.waitUntil(lambda: act.isEnabled(), timeout=5000)
    assert act.toolTip() == "" and asked == []
    register.verify(request_id, "requested", "dpo")  # Art. 12(6): doubt about the requester, information asked for
    page.refresh()
    qtbot.waitUntil(lambda: not act.isEnabled(), timeout=5000)
    assert act.toolTip() == ("Verify identity… first: an export or an erasure waits for the identity check. "
                             "Identity: more information requested (Art. 12(6)).")
    register.verify(request_id, "verified", "dpo", "passport seen at the desk")
    page.refresh()
    qtbot.waitUntil(lambda: act.isEnabled(), timeout=5000)
    assert asked == []


def test_the_identity_check_is_recorded_when_it_happened(qtbot: QtBot, vault: Vault) -> None:
    """Art. 12(6): the clock stands still from the day more information is asked for to the day it arrives, and
    those days lengthen the period. The Verify identity… form had no time: the wait ran from and to the moments
    the form was filled. Information that came on 9 February, recorded on 26 February, paused the clock 17 days
    too long and the deadline moved past the one the law gives. The form's When is read in the controller's zone."""
    in_england(vault)
    register = DsrRegister(vault, clock)
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 2, 9, 0, tzinfo=UTC))  # due 2 March
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and page.action_buttons["verify"].isEnabled(), timeout=5000)

    def checked(status: str, day: int) -> RunForm:
        def fill(dialog: forms.FormDialog) -> dict[str, object]:  # by keyboard, as a DPO types it
            dialog.show()
            status_box, when = dialog.fields["status"], dialog.fields["at"]
            assert isinstance(when, QDateTimeEdit)
            assert when.dateTime().toString("yyyy-MM-dd HH:mm") == "2026-02-26 10:00"  # now, in London
            status_box.setCurrentIndex(status_box.findData(status))
            dialog.fields["means"].setFocus()
            qtbot.keyClicks(dialog.fields["means"], "passport copy" if status == "verified" else "")
            when.setFocus()
            when.setSelectedSection(QDateTimeEdit.Section.DaySection)
            qtbot.keyClicks(when, f"{day:02d}")
            return dialog.values()

        return fill

    page.run_form = checked("requested", 5)
    page.verify()
    qtbot.waitUntil(lambda: register.get(request_id).paused_since is not None, timeout=5000)
    assert register.get(request_id).paused_since == date(2026, 2, 5)
    page.run_form = checked("verified", 9)
    page.verify()
    qtbot.waitUntil(lambda: register.get(request_id).verification == "verified", timeout=5000)
    view = register.get(request_id)
    assert (view.paused_days, view.due) == (4, date(2026, 3, 6))  # 2 March + the 4 days waited, a Friday
    # the record says why the due date is not one month after receipt (it said "one month" alone)
    said = "Due 2026-03-06 (one month and 4 days waited for identity information, Art. 12(6), next working day"
    assert said in record_text(view, [], NOW)


def test_the_record_says_a_matched_person_was_erased_since(qtbot: QtBot, vault: Vault) -> None:
    """A request matched to a person erased since (by another request) read "matched to an identity" alone, while
    Act could no longer export or erase anything for it. The record says the person was erased since."""
    from app.services.erasure import request as erase

    in_england(vault)
    (subject,) = insert_rows(vault, [user_row("ottoline@example.org", "Ottoline Vexbridge", NOW)])
    register = DsrRegister(vault, clock)
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC), subject_id=subject)
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: request_id in page.detail.toPlainText(), timeout=5000)
    assert "; matched to an identity\n" in page.detail.toPlainText()
    erase(vault, [subject], "art17-1b", "dpo", "consent withdrawn")
    page.refresh()
    qtbot.waitUntil(lambda: "since erased" in page.detail.toPlainText(), timeout=5000)
    assert "; matched to an identity, since erased from the mirror\n" in page.detail.toPlainText()


def test_the_answer_form_stays_open_while_the_letter_has_parts_to_complete(qtbot: QtBot, vault: Vault,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    """"Sent on the date below" attached a draft still reading "Requires human completion" (no controller in the
    shipped policy) as the letter sent, its SHA-256 and all. The form now says what is left and stays open."""
    in_england(vault)
    register = DsrRegister(vault, clock)
    request_id = register.open(["access"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC),
                               private={"requester": {"name": "O. Vexbridge"}})  # fmt: skip
    register.refuse(request_id, "art11", "no identity matches", "dpo")
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.choose_folder = lambda _parent, _title: tmp_path / "out"
    seen: list[str] = []

    def send_today(dialog: forms.FormDialog) -> dict[str, object] | None:
        dialog.show()
        dialog.fields["mode"].setCurrentIndex(1)  # "Sent on the date below"
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        seen.append(dialog.problem.text() if dialog.isVisible() else "closed")
        dialog.reject()
        return None

    page.run_form = send_today
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.answer()
    assert seen
    assert seen[0].startswith("Not recorded as sent: the letter still has parts to complete (“Who we are”)")
    assert register.get(request_id).state == "in_progress" and not (tmp_path / "out").exists()


def test_the_answer_form_answers_open_rights_none_held(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    """A person identified and not held: Answer… offers "No personal data held" for the rights still open, where a
    refusal under Art. 11(2) ("we cannot identify you") was the only way to finish (decision 0073)."""
    in_england(vault)
    hold_everything(vault)
    register = DsrRegister(vault, clock)
    request_id = register.open(["access", "objection"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC),
                               private={"requester": {"name": "O. Vexbridge"}})  # fmt: skip
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.choose_folder = lambda _parent, _title: tmp_path / "out"

    def none_held_sent_today(dialog: forms.FormDialog) -> dict[str, object]:
        dialog.show()
        dialog.fields["mode"].setCurrentIndex(1)
        held = dialog.fields["open_rights"]
        held.setCurrentIndex(held.findData("none_held"))
        return dialog.values()

    page.run_form = none_held_sent_today
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.answer()
    qtbot.waitUntil(lambda: register.get(request_id).state == "answered", timeout=10_000)
    view = register.get(request_id)
    assert view.outcome == "none_held" and [s.state for s in view.steps] == ["none_held", "none_held"]
    letter = (tmp_path / "out" / f"{request_id}-answer.md").read_text()
    assert "We confirm that we do not process personal data about you (Art. 15(1))." in letter
    qtbot.waitUntil(lambda: "Access (Art. 15): none held" in page.detail.toPlainText(), timeout=5000)


def test_a_refusals_month_and_a_misrouted_request_on_the_page(qtbot: QtBot, vault: Vault) -> None:
    in_england(vault)
    register = DsrRegister(vault, clock)
    refused = register.open(["access"], "email", "dpo", datetime(2026, 1, 31, 10, tzinfo=UTC))
    register.extend(refused, 2, "many systems", date(2026, 2, 5), "dpo")
    register.refuse(refused, "art12-5", "the fifth identical request", "dpo")
    misrouted = register.open(["not_gdpr"], "phone", "dpo", datetime(2026, 1, 2, tzinfo=UTC))
    page = RequestsPage(vault, now=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    rows = {page.table.item(r, 0).text(): [page.table.item(r, c).text() for c in range(6)] for r in range(2)}
    assert rows[refused][3:] == ["2026-03-02", "4 d", "in progress"]  # the refusal's month, not 30 April
    assert rows[misrouted][3:5] == ["—", "no GDPR deadline"]  # it was due 2 February and "overdue by 24 d"
    assert rows[misrouted][1] == "not a GDPR request"  # its identifier, "not_gdpr", read as a code
    assert page.summary.text() == "2 requests awaiting an answer; 0 overdue; nearest deadline 2026-03-02."
    page.table.selectRow(list(rows).index(refused))
    qtbot.waitUntil(lambda: "Refusal due 2026-03-02 (Art. 12(4)" in page.detail.toPlainText(), timeout=5000)
