"""Readable at 200 % scaling: a 1920×1080 screen at 200 % is 960×540 logical pixels, and the main window, each
page, the dialogs and every page of the first-run assistant must fit in it. A second Python, started with
QT_SCALE_FACTOR=2, checks that Qt scales the real window (device pixel ratio 2, a grab twice the logical size)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, QThreadPool
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, insert_rows, many_users

from app.core.events import EventBus
from app.policy.edit import add_attribute
from app.policy.loader import load_policy
from app.policy.outside import OutsideRow
from app.policy.versions import default_policy_text
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.endpoint_dialog import EndpointDialog
from app.ui.first_run.wizard import FirstRunWizard
from app.ui.lock.passphrase import ChangePassphraseDialog
from app.ui.main_window import MainWindow
from app.ui.outside_policy.add_dialog import AddAttributeDialog
from app.ui.settings_dialog import SettingsDialog
from app.ui.unlock_dialog import UnlockDialog

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SCREEN_AT_200 = QSize(960, 540)  # 1920×1080 physical pixels at 200 %
ROOT = Path(__file__).resolve().parents[2]


def fits(size: QSize, bound: QSize = SCREEN_AT_200) -> bool:
    return size.width() <= bound.width() and size.height() <= bound.height()


def settle(qtbot: QtBot) -> None:
    """Let the pages' workers finish and their results land: labels and tables then have their real text."""
    for _ in range(3):
        QThreadPool.globalInstance().waitForDone(10_000)
        qtbot.wait(50)


@pytest.fixture
def window(vault: Vault, data_dir: Path, qtbot: QtBot) -> Iterator[MainWindow]:
    insert_rows(vault, many_users(50))
    tokens = TokenStore(vault)
    tokens.create("entra-id-production")
    bus = EventBus()
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)  # a real fingerprint
    main = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.shutdown()


def test_main_window_and_every_page_fit_960_by_540(window: MainWindow, qtbot: QtBot) -> None:
    too_big: dict[str, QSize] = {}
    for index in range(window.pages.count()):
        window.pages.setCurrentIndex(index)  # each page loads its data when shown
        settle(qtbot)
        page: QWidget = window.pages.widget(index)
        name = window.pages.tabText(index)
        for what, size in ((name, page.minimumSizeHint()), (f"window on {name}", window.minimumSizeHint())):
            if not fits(size):
                too_big[what] = size
    assert not too_big, {what: size.toTuple() for what, size in too_big.items()}
    window.resize(SCREEN_AT_200)  # a top-level is never made smaller than its layout's minimum
    qtbot.wait(50)
    assert fits(window.size()), window.size().toTuple()


def test_dialogs_and_the_first_run_assistant_fit_960_by_540(
    data_dir: Path, vault: Vault, tmp_path: Path, qtbot: QtBot
) -> None:
    settings = SettingsDialog(data_dir)
    unlock = UnlockDialog(data_dir)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir))
    moving = EndpointDialog(server, data_dir, lambda _parent, _action: False)
    rekey = ChangePassphraseDialog(vault)  # the new passphrase with its strength meter
    refused = OutsideRow("User", 'phoneNumbers[type eq "mobile"]', "Microsoft Entra ID", 3, 0, NOW, NOW)
    policy = load_policy(default_policy_text())
    adding = AddAttributeDialog(refused, policy, default_policy_text())
    work_text = add_attribute(default_policy_text(), "User", "phoneNumbers.value", "work-contact",
                              ["internal-directory"], "Colleagues call each other at work", ["work"])  # fmt: skip
    untyped = OutsideRow("User", "phoneNumbers[type missing]", "Microsoft Entra ID", 3, 0, NOW, NOW)
    widening = AddAttributeDialog(untyped, load_policy(work_text), work_text)  # the longest text: no type, two ways
    wizard = FirstRunWizard(tmp_path / "empty", "dpo")
    wizard.confirm = lambda *_args: True  # closed at the end of the test: no "Quit the set-up?" box to answer
    qtbot.addWidget(wizard)
    wizard.show()
    for page_id in wizard.pageIds():  # every page of the assistant, at its own size
        page = wizard.page(page_id)
        assert fits(page.minimumSizeHint()), (type(page).__name__, page.minimumSizeHint().toTuple())
    assert fits(wizard.minimumSizeHint()), wizard.minimumSizeHint().toTuple()
    for dialog in (settings, unlock, moving, rekey, adding, widening):
        qtbot.addWidget(dialog)
        dialog.show()
        assert fits(dialog.minimumSizeHint()), (dialog.windowTitle(), dialog.minimumSizeHint().toTuple())
        assert fits(dialog.sizeHint()), (dialog.windowTitle(), dialog.sizeHint().toTuple())


_AT_200 = f"""
import json, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication
from app.policy.outside import OutsideRow
from app.core.events import EventBus
from app.policy.loader import load_policy
from app.policy.versions import default_policy_text
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.audit.vault_lifecycle import create_vault
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from ui_support import insert_rows, many_users

app = QApplication(sys.argv[:1])
folder = Path(sys.argv[1])
vault = create_vault(folder, {PASSPHRASE!r}, {PASSPHRASE!r})
insert_rows(vault, many_users(20))
bus, tokens = EventBus(), TokenStore(vault)
window = MainWindow(vault, ScimServer(vault, tls=ensure_self_signed(folder), bus=bus, tokens=tokens), bus, tokens)
window.resize(960, 540)
window.show()
QThreadPool.globalInstance().waitForDone(10_000)
app.processEvents()
shot = window.grab()
settings = SettingsDialog(folder, parent=window)
settings.show()
app.processEvents()
print(json.dumps({{
    "ratio": window.devicePixelRatio(),
    "logical": window.size().toTuple(),
    "minimum": window.minimumSizeHint().toTuple(),
    "grab": shot.size().toTuple(),
    "grab_ratio": shot.devicePixelRatio(),
    "settings_ratio": settings.devicePixelRatio(),
    "settings_minimum": settings.minimumSizeHint().toTuple(),
}}))
settings.close()
window.shutdown()
QThreadPool.globalInstance().waitForDone()
vault.close()
"""


def test_qt_scale_factor_2_is_honoured(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("QT_", "CUSTOS_"))}
    env |= {
        "QT_QPA_PLATFORM": "offscreen",
        "QT_SCALE_FACTOR": "2",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # never the developer's settings
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "ui")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _AT_200, str(folder)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ratio"] == 2 and seen["settings_ratio"] == 2 and seen["grab_ratio"] == 2
    width, height = seen["logical"]
    assert seen["grab"] == [2 * width, 2 * height]  # every logical pixel drawn as 2×2 device pixels
    assert fits(QSize(*seen["minimum"])) and fits(QSize(*seen["settings_minimum"]))
    assert fits(QSize(width, height))  # the window took the 960×540 it was given


def test_at_640_by_480_the_policy_catalogue_shows_rows_and_nothing_overlaps(window: MainWindow, qtbot: QtBot) -> None:
    """Issue 14 §7: the window's minimum is 640×480, and there the catalogue shows rows under its buttons."""
    window.resize(400, 300)
    assert window.width() >= 640 and window.height() >= 480  # the minimum size holds
    window.resize(640, 480)
    window.pages.setCurrentWidget(window.policy_page)
    settle(qtbot)
    page = window.policy_page
    table = page.catalogue_table
    row_height = table.verticalHeader().defaultSectionSize()
    assert table.viewport().height() >= row_height, table.viewport().height()
    assert table.rowAt(0) == 0  # the first row is drawn
    assert window.height() <= 480, window.height()  # and the window did not grow past the screen to do it
    for button in page.findChildren(QPushButton):
        if button.isVisible():
            mapped = button.geometry().translated(button.parentWidget().mapTo(page, button.pos()) - button.pos())
            table_rect = table.geometry().translated(table.parentWidget().mapTo(page, table.pos()) - table.pos())
            assert not mapped.intersects(table_rect), button.text()
