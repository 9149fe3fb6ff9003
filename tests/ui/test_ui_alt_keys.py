"""Every Alt key of every page and dialog reaches a field, and no letter is used twice in one window: the New
request dialog's Alt+I reached nothing (its buddy took no focus) and its Alt+R was both "Received" and "Record
request"; the export dialogs had no Alt key for "Save as" (a row of two widgets, no buddy)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from pytestqt.qtbot import QtBot
from ui_keyboard import alt_key_problems

from app.audit.query import EventFilter
from app.dsr.register import DsrRegister
from app.incidents.register import IncidentRegister, utc_now
from app.policy.in_force import PolicyInForce
from app.policy.loader import load_policy
from app.policy.versions import default_policy_text
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.store.vault import Vault
from app.ui.audit.bundle_dialog import BundleExportDialog
from app.ui.audit.timeline_dialog import TimelineExportDialog
from app.ui.endpoint_dialog import EndpointDialog
from app.ui.exports.ropa_dialog import RopaExportDialog
from app.ui.first_run.wizard import FirstRunWizard
from app.ui.incidents.awareness import AwarenessDialog
from app.ui.incidents.details import DetailsDialog
from app.ui.incidents.scope_dialog import ScopeDialog
from app.ui.incidents.steps import (
    CloseDialog,
    CommunicationDialog,
    ContainmentDialog,
    DelayReasonDialog,
    DismissDialog,
    NotificationDialog,
    OpenDialog,
    RiskDialog,
)
from app.ui.incidents.time_dialog import TimeDialog
from app.ui.main_window import MainWindow
from app.ui.requests import forms
from app.ui.requests.intake import MatchDialog, NewRequestDialog
from app.ui.requests.settings_dialog import DeadlineSettingsDialog
from app.ui.settings_dialog import SettingsDialog
from app.ui.targets.dialog import TargetDialog
from app.ui.unlock_dialog import UnlockDialog


def test_every_page_of_the_main_window(qtbot: QtBot, running: tuple[MainWindow, ScimServer]) -> None:
    window, _server = running
    found = []
    for index in range(window.pages.count()):
        window.pages.setCurrentIndex(index)
        found += alt_key_problems(window.pages.widget(index), window.pages.tabText(index))
    assert found == []


def test_every_dialog(qtbot: QtBot, vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    incidents = IncidentRegister(vault)
    incident = incidents.open_incident("Lost laptop", "dpo")
    incidents.set_aware(incident, "dpo", "confirmed")
    view, now = incidents.get(incident), utc_now()
    requests = DsrRegister(vault)
    request = requests.get(requests.open(["access", "erasure", "restriction"], "email", "dpo",
                                         datetime(2026, 2, 2, tzinfo=UTC)))  # fmt: skip
    today = date(2026, 2, 26)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir))
    dialogs = [
        OpenDialog(now), DismissDialog(view), RiskDialog(view), ContainmentDialog(view, now),
        NotificationDialog(view, now), CommunicationDialog(view, now), CloseDialog(view), DelayReasonDialog(view, now),
        ScopeDialog(vault, PolicyInForce(vault), view, now), AwarenessDialog(view, now), DetailsDialog(view),
        TimeDialog(view, now),
        NewRequestDialog(requests), MatchDialog(requests, request.id), forms.verify_form(request, now, None),
        forms.extend_form(request, today, None), forms.task_form(request, None), forms.refuse_form(request, None),
        forms.answer_form(request, today, None), forms.erasure_ground_form(None), DeadlineSettingsDialog(vault),
        SettingsDialog(data_dir), UnlockDialog(data_dir), EndpointDialog(server, data_dir, lambda _p, _a: False),
        TargetDialog(load_policy(default_policy_text())),
        TimelineExportDialog(vault, EventFilter(), []), BundleExportDialog(vault, [], None), RopaExportDialog(vault),
    ]  # fmt: skip
    found = []
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        found += alt_key_problems(dialog, dialog.windowTitle() or type(dialog).__name__)
    wizard = FirstRunWizard(tmp_path / "empty", "dpo")
    wizard.confirm = lambda *_args: True  # closed at the end of the test: no "Quit the set-up?" to answer
    qtbot.addWidget(wizard)
    wizard.show()
    for page_id in wizard.pageIds():
        found += alt_key_problems(wizard.page(page_id), type(wizard.page(page_id)).__name__)
    assert found == []
