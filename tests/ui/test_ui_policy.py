"""Policy page: catalogue and history of the version in force, diffs, and applying files (valid or not)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot
from ui_support import BASE_TIME, insert_rows, user_row

from app.policy import versions
from app.policy.in_force import PolicyInForce
from app.store import browse
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.policy.diff_dialog import line_colour
from app.ui.policy.text_dialog import PolicyTextDialog
from app.ui.policy.view import PolicyPage
from app.ui.theme import status_colour
from app.ui.times import local_time

TITLE_RULE = '[[attributes]]\npath = "title"\ncategory = "employment"\npurposes = ["internal-directory"]\n\n'


@pytest.fixture
def with_default(vault: Vault) -> Vault:
    apply_policy(vault, versions.default_policy_text(), "test")
    return vault


def without_title() -> str:
    text = versions.default_policy_text()
    assert TITLE_RULE in text
    return text.replace(TITLE_RULE, "")


def page_for(
    vault: Vault, qtbot: QtBot, files: list[Path] | None = None, answers: list[bool] | None = None
) -> PolicyPage:
    chosen = list(files or [])
    replies = list(answers or [])
    page = PolicyPage(
        vault,
        PolicyInForce(vault),
        choose_file=lambda _parent: chosen.pop(0),
        confirm=lambda _parent, _title, _text: replies.pop(0),
        operator=lambda: "alice",
    )
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.loaded is not None)
    return page


def column(page: PolicyPage, number: int) -> list[str]:
    return [page.catalogue.row_values(row)[number] for row in range(page.catalogue.rowCount())]


def test_catalogue_and_history_of_the_default_policy(with_default: Vault, qtbot: QtBot) -> None:
    page = page_for(with_default, qtbot)
    model = page.catalogue
    assert model.rowCount() == 12
    by_path = {(r[1], r[0]): r for r in (model.row_values(i) for i in range(12))}
    title = by_path[("User", "title")]
    assert title[2] == "Employment details"
    assert title[3] == "Internal directory"
    assert title[4] == "No"
    assert title[5].startswith("7 days after deactivation; No longer needed")
    assert title[6] == "None"
    assert by_path[("User", "emails.value")][3] == "Workforce access management, Internal directory"
    assert by_path[("Group", "members")][2] == "Group membership"
    record = page.loaded.records[-1]  # type: ignore[union-attr]
    assert page.header.text().startswith(f"In force: v{record.version} · sha256 {record.sha256[:12]} · applied ")
    assert "by test" in page.header.text() and "outside the schema: reject" in page.header.text()
    assert page.history.rowCount() == 1
    assert page.history.row_values(0)[0] == f"v{record.version}" and page.history.row_values(0)[2] == "test"
    assert not page.compare_button.isEnabled()  # nothing to compare with yet


def test_empty_vault_gets_the_default_like_the_server_would(vault: Vault, qtbot: QtBot) -> None:
    page = page_for(vault, qtbot)
    assert page.catalogue.rowCount() == 12
    assert page.history.row_values(0)[2] == versions.DEFAULT_OPERATOR


def test_file_with_errors_shows_problems_by_line_and_changes_nothing(
    with_default: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    text = versions.default_policy_text().replace('lawful_basis = "legitimate_interests"', 'lawful_basis = "whim"', 1)
    broken.write_text(text.replace('category = "names"', 'category = "nope"', 1), encoding="utf-8")
    page = page_for(with_default, qtbot, files=[broken])
    page.apply_file()
    dialog = page.apply_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.checked is not None)
    lines = dialog.problem_lines()
    basis_line = text.splitlines().index(next(ln for ln in text.splitlines() if "whim" in ln)) + 1
    assert f"Line {basis_line}: error: lawful_basis must be one of consent, contract, " in "\n".join(lines)
    assert any(line.startswith("Line ") and "category 'nope' is not declared" in line for line in lines)
    assert "2 errors" in dialog.status.text() and "Nothing was changed" in dialog.status.text()
    assert not dialog.apply_button.isEnabled() and not dialog.impact.isVisible()
    dialog.apply()  # even forced, nothing is applied
    with with_default.read_connection() as conn:
        assert len(versions.history(conn)) == 1


def test_valid_file_previews_applies_and_updates_page_and_server(
    with_default: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    (user_id,) = insert_rows(with_default, [user_row("ada", "Ada", BASE_TIME, title="Countess")])
    new_file = tmp_path / "v2.toml"
    new_file.write_text(without_title(), encoding="utf-8")
    page = page_for(with_default, qtbot, files=[new_file, new_file], answers=[False, True])
    in_force = page.in_force
    assert in_force is not None and in_force.get().version == 1
    page.apply_file()
    dialog = page.apply_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled())
    assert (
        "1 stored user holds `title`, which this version no longer allows: it will be removed from it."
        in dialog.impact_lines()
    )
    dialog.apply()  # the operator declines
    assert dialog.apply_button.isEnabled()
    dialog.apply()
    qtbot.waitUntil(lambda: dialog.record is not None)
    qtbot.waitUntil(lambda: page.history.rowCount() == 2 and page.catalogue.rowCount() == 11)
    assert "title" not in column(page, 0)
    assert page.history.row_values(0)[0] == "v2" and page.history.row_values(0)[2] == "alice"
    assert page.header.text().startswith("In force: v2 ")
    assert in_force._active is not None and in_force._active.version == 2  # refreshed, not waiting for a recheck
    with with_default.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None and record.operator == "alice"
    # The line stays under the page: it says when the version was applied, in local time with its zone.
    assert page.message.text().startswith(f"Policy version 2 applied at {local_time(record.applied_at)} (sha256 ")

    page.apply_file()  # the same file again: already in force, nothing to apply
    again = page.apply_dialog
    assert again is not None and again is not dialog
    qtbot.waitUntil(lambda: again.checked is not None)
    assert again.status.text() == "This version is already in force." and not again.apply_button.isEnabled()
    detail = browse.document(with_default, user_id)
    assert detail is not None and "title" not in detail.document  # purged by the apply


def test_compare_two_versions_shows_summary_and_coloured_diff(with_default: Vault, qtbot: QtBot) -> None:
    apply_policy(with_default, without_title(), "bob")
    page = page_for(with_default, qtbot)
    assert page.history.rowCount() == 2
    page.history_table.selectRow(0)
    assert page.compare_button.isEnabled()  # one version: compared with the one before it
    page.history_table.selectRow(1)
    assert len(page.selected_records()) == 2
    page.compare_selected()
    qtbot.waitUntil(lambda: page.diff_dialog is not None and page.diff_dialog.isVisible())
    dialog = page.diff_dialog
    assert dialog is not None
    assert dialog.windowTitle() == "Policy v1 → v2"
    assert dialog.summary.toPlainText().splitlines() == ["Attribute removed: User title"]
    diff = dialog.text_diff.toPlainText().splitlines()
    assert diff[0].startswith("--- v1") and diff[1].startswith("+++ v2")
    assert '-path = "title"' in diff
    removed, added = status_colour("removed"), status_colour("added")
    assert line_colour('-path = "title"') == removed and line_colour('+path = "x"') == added
    assert line_colour("--- v1 (abc)") is None and line_colour(" context") is None
    block = dialog.text_diff.document().findBlockByNumber(diff.index('-path = "title"'))
    formats = block.layout().formats()
    assert formats and formats[0].format.foreground().color() == removed


def test_unreadable_file_is_reported_and_nothing_applied(with_default: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    binary = tmp_path / "policy.toml"
    binary.write_bytes(b"\xff\xfe not text")
    page = page_for(with_default, qtbot, files=[binary, tmp_path / "missing.toml"])
    for expected in ("policy.toml is not UTF-8 text.", "Cannot read missing.toml: No such file or directory."):
        page.apply_file()
        dialog = page.apply_dialog
        assert dialog is not None
        qtbot.waitUntil(lambda d=dialog, e=expected: d.status.text() == e)  # type: ignore[misc]
        assert not dialog.apply_button.isEnabled()


def test_one_version_shows_its_exact_text_and_saves_a_copy(with_default: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    apply_policy(with_default, without_title(), "bob")
    page = page_for(with_default, qtbot)
    assert not page.show_text_button.isEnabled()  # nothing selected
    page.history_table.selectRow(1)  # newest first: row 1 is version 1
    assert page.show_text_button.isEnabled()
    page.show_selected_text()
    dialog = page.findChild(PolicyTextDialog)
    assert dialog is not None and dialog.windowTitle() == "Policy v1"
    assert dialog.text.toPlainText() == versions.default_policy_text()
    copy = tmp_path / "policy-v1.toml"
    dialog.save_to(copy)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == dialog.record.sha256  # the applied bytes, exactly
    assert "Saved to" in dialog.message.text()
    dialog.save_to(tmp_path / "missing-folder" / "x.toml")
    assert "could not be written" in dialog.message.text()
    page.history_table.selectRow(0)  # a second selection: two versions are compared, not shown
    assert not page.show_text_button.isEnabled()
    dialog.close()


def test_a_version_applied_under_older_checks_is_flagged(vault: Vault, qtbot: QtBot) -> None:
    """Issue 12 §5: the shipped default of the previous release read its measures as dpo.organisational_measures;
    a vault still running it keeps working, and the Policy page says what the current checks refuse."""
    text = versions.default_policy_text()
    start = text.index("organisational_measures = [")
    measures = text[start : text.index("]\n", start) + 2]
    without = text.replace(measures, "")
    dpo_end = without.index("\n[dpo]\n")
    dpo_end = without.index('telephone = ""\n', dpo_end) + len('telephone = ""\n')
    old_default = without[:dpo_end] + "\n" + measures + without[dpo_end:]  # as the previous release shipped it
    with vault.write_transaction() as conn:
        versions.insert_version(conn, old_default, "earlier-release")
    page = page_for(vault, qtbot)
    header = page.header.text()
    assert header.startswith("In force: v1") and "applied under older checks and has 1 problem this" in header
    assert "unknown key 'organisational_measures' in [dpo]" in header and "It stays in force" in header


def test_an_extension_attribute_shows_its_name_when_the_column_is_too_narrow(
    with_default: Vault, qtbot: QtBot
) -> None:
    """The catalogue caps a long column and elides it: cut on the right, the enterprise extension's department read
    "urn:ietf:params:scim:schemas:extension:enterprise:2…", never naming the attribute. Now the middle is cut."""
    page = page_for(with_default, qtbot)
    table, model = page.catalogue_table, page.catalogue
    row = next(r for r in range(model.rowCount()) if model.row_values(r)[0].endswith("department"))
    path = model.row_values(row)[0]
    width = table.columnWidth(0)
    assert table.fontMetrics().horizontalAdvance(path) > width  # it is elided
    drawn = table.fontMetrics().elidedText(path, table.textElideMode(), width - 8)
    assert drawn.startswith("urn:") and drawn.endswith("department"), drawn
    assert model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole) == path  # whole in the tooltip


def test_a_read_that_started_before_an_apply_does_not_overwrite_the_page_after_it(
    with_default: Vault, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page reads in the pool: a read under way (the page opened, or its tab chosen) when a version was applied
    could finish after the read made for the apply, and the page went back to the replaced version, its history
    one row short, until something read it again. Here the first read is held until the second has been shown."""
    from app.ui.policy import view

    held, release = threading.Event(), threading.Event()
    load = view.load

    def first_read_held(*args: object) -> object:
        result = load(*args)  # type: ignore[arg-type]
        if not held.is_set():
            held.set()
            release.wait(10)
        return result

    monkeypatch.setattr(view, "load", first_read_held)
    page = PolicyPage(with_default, PolicyInForce(with_default), operator=lambda: "alice")
    qtbot.addWidget(page)
    try:
        assert held.wait(10)
        record, _ = apply_policy(with_default, without_title(), "alice")
        page.refresh()  # as after an apply
        qtbot.waitUntil(lambda: page.loaded is not None and page.history.rowCount() == 2, timeout=10_000)
    finally:
        release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)  # the held read's answer is delivered (queued) on the GUI thread
    assert page.loaded is not None and page.loaded.records[-1].version == record.version
    assert page.history.rowCount() == 2


def test_at_1280_by_800_the_catalogue_needs_no_sideways_scrolling(with_default: Vault, qtbot: QtBot) -> None:
    """Before (walked in a real window at 1280×800): each column kept its text's width (up to 340 px), so the
    catalogue scrolled sideways, the retention notes ran past the right edge and the Recipients column was out of
    view. Now the widest columns give up the difference (each text whole in its tooltip)."""
    page = PolicyPage(with_default, PolicyInForce(with_default))
    qtbot.addWidget(page)
    page.resize(1260, 560)  # the page's room in a 1280×800 window
    page.show()
    qtbot.waitUntil(lambda: page.loaded is not None)
    qtbot.wait(50)
    table = page.catalogue_table
    last = page.catalogue.columnCount() - 1
    assert table.horizontalScrollBar().maximum() == 0
    assert table.columnViewportPosition(last) + table.columnWidth(last) <= table.viewport().width()
    model = page.catalogue
    path = next(
        model.row_values(r)[0] for r in range(model.rowCount()) if model.row_values(r)[0].endswith("department")
    )
    drawn = table.fontMetrics().elidedText(path, table.textElideMode(), table.columnWidth(0) - 8)
    assert drawn.endswith("department"), drawn  # cut narrower, the URN still names its attribute
