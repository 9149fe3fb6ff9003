"""Render the main views with pseudonymous sample data into docs/screenshots/*.png (offscreen Qt).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_screenshots.py
QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_screenshots.py --scale 2   # docs/screenshots/scale-200/
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QSize, Qt, QThreadPool, QTimer  # noqa: E402
from PySide6.QtWidgets import QTableView  # noqa: E402

from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.core.events import EventBus  # noqa: E402
from app.incidents.register import IncidentRegister  # noqa: E402
from app.policy.edit import add_recipient  # noqa: E402
from app.policy.versions import default_policy_text  # noqa: E402
from app.scim.server import ScimServer  # noqa: E402
from app.scim.service import ScimService  # noqa: E402
from app.setup.tls import ensure_self_signed  # noqa: E402
from app.setup.tokens import TokenStore  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from app.targets.config import TargetConfig, add_target  # noqa: E402
from app.targets.policy_change import apply_policy  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.run import application  # noqa: E402
from scripts.render_workflows import read_ids  # noqa: E402

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GIVEN = ["Alex", "Sam", "Noor", "Kim", "Jo", "Mika", "Ravi", "Lea", "Ines", "Tom"]
FAMILY = ["Moreau", "Jensen", "Okafor", "Silva", "Novak", "Berg", "Costa", "Ito", "Haddad", "Larsen"]


def wait(milliseconds: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def seed(vault: Vault, count: int) -> None:
    service = ScimService(vault, "https://localhost/scim/v2")
    rng = random.Random(7)
    for index in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        service.create(
            "User",
            {
                "schemas": [USER],
                "userName": f"user-{index:05d}@example.com",
                "displayName": f"{given} {family}",
                "name": {"givenName": given, "familyName": family},
                "emails": [{"value": f"user-{index:05d}@example.com", "type": "work", "primary": True}],
                "title": rng.choice(["Engineer", "Analyst", "Designer", "Manager"]),
                "active": rng.random() > 0.1,
            },
        )


def setup_policy_and_targets(vault: Vault) -> None:
    """The default policy with two recipients, and their targets (not running here: they show a queue)."""
    text = default_policy_text()
    for name, attributes, purposes in (
        ("wiki", ["userName", "displayName", "emails.value"], ["access-management"]),
        # title is catalogued for the internal directory: the recipient serves that purpose too (strict loader)
        ("hr-portal", ["userName", "name.givenName", "name.familyName", "title"],
         ["access-management", "internal-directory"]),
    ):
        text = add_recipient(text, {"id": name, "name": name.replace("-", " ").title(), "kind": "processor",
                                    "country": "IE", "contract_link": f"https://contracts.example.com/{name}",
                                    "purposes": purposes, "attributes": attributes})  # fmt: skip
    apply_policy(vault, text, "dpo")
    with vault.write_transaction() as conn:
        for name in ("wiki", "hr-portal"):
            add_target(conn, TargetConfig(0, name, f"https://{name}.example.com/scim/v2", name, "bearer", "sample"))


def refuse_entra_defaults(vault: Vault, count: int) -> None:
    """Users as Entra ID's default mappings send them, refused by the default policy: "Outside the policy" rows."""
    from app.core.actor import current_actor
    from app.directory.errors import ScimError
    from tests.entra_support import entra_default_user

    service = ScimService(vault, "https://localhost/scim/v2")
    marker = current_actor.set("token:Microsoft Entra ID")
    try:
        for index in range(count):
            with contextlib.suppress(ScimError):  # refused and recorded, as at the endpoint
                service.create("User", entra_default_user(index))
    finally:
        current_actor.reset(marker)


def open_incident(vault: Vault) -> None:
    register = IncidentRegister(vault)
    incident = register.open_incident("Laptop with a mirror copy reported stolen", "dpo")
    register.set_aware(incident, "dpo", "Theft confirmed by the police report")
    register.open_candidate_from_alert(0, "auth_failures", "25 failed authentications within 5 min")


def open_requests(vault: Vault) -> None:
    """Data subject requests at each point of the clock: overdue, in the last 7 days, running, answered."""
    from datetime import UTC, datetime, timedelta

    from app.dsr import settings
    from app.dsr.register import DsrRegister

    settings.save(vault.path.parent, country="GB", subdivision="ENG", zone="Europe/London")
    register = DsrRegister(vault)
    now = datetime.now(UTC)
    subjects = read_ids(vault, "SELECT id FROM scim_resources WHERE resource_type = 'User' ORDER BY id LIMIT 3")
    register.open(["access"], "email", "dpo", now - timedelta(days=36), subject_id=subjects[0])
    soon = register.open(["erasure"], "form", "dpo", now - timedelta(days=26), subject_id=subjects[1])
    register.verify(soon, "verified", "dpo", "call-back to the number on file")
    register.open(["rectification", "objection"], "letter", "dpo", now - timedelta(days=4), subject_id=subjects[2])
    misrouted = register.open(["not_gdpr"], "email", "dpo", now - timedelta(days=10))
    register.record_answer(misrouted, "dpo", (now - timedelta(days=9)).date(), [])


def sample_traffic(server: ScimServer, secret: str, certificate: Path, vault: Vault) -> None:
    """Real requests to the running endpoint (served, refused, unauthenticated) and two erasure requests, so that
    the Overview's charts and the Audit page's chart show this session's activity as the trail records it."""
    import time

    started = time.monotonic()
    import httpx

    from app.erasure.requests import request_erasure

    with httpx.Client(base_url=server.base_url, verify=str(certificate), timeout=10) as client:
        for index in range(24):
            client.get("/Users", params={"count": 5, "startIndex": index + 1},
                       headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        for _ in range(4):  # an unknown attribute in a filter: 400, recorded as refused
            client.get("/Users", params={"filter": 'nosuchattribute eq "x"'},
                       headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        for _ in range(3):
            client.get("/Users", headers={"Authorization": "Bearer not-a-token"})
    subjects = read_ids(vault, "SELECT id FROM scim_resources WHERE resource_type = 'User' ORDER BY id DESC LIMIT 2")
    request_erasure(vault, subjects, "art17-1a", "dpo")
    print(f"sample traffic sent in {time.monotonic() - started:.1f} s", flush=True)


def render_policy_editor(window: MainWindow, out: Path) -> None:
    """The policy editor on the Policy page: a recipient scoped to two groups, then what the draft changes."""
    page = window.policy_page
    window.pages.setCurrentWidget(page)
    wait(600)
    page.open_editor()
    editor = page.editor
    if editor is None:
        return
    editor.resize(editor.size().boundedTo(window.size()))
    editor.nav.setCurrentRow(editor.sections.index(editor.recipients))
    recipients = editor.recipients
    recipients.entries.setCurrentRow(0)
    recipients.scope.some.setChecked(True)
    recipients.scope.groups.setText("Engineering, Support")
    recipients.changed()
    editor.flush()
    wait(300)
    editor.grab().save(str(out / "dialog-policy-editor.png"))
    editor.nav.setCurrentRow(editor.changes_row)
    wait(300)
    editor.grab().save(str(out / "dialog-policy-editor-changes.png"))
    editor.confirm = lambda _parent, _title, _text: True  # discard the sample draft without asking
    editor.reject()


def render_dialogs(window: MainWindow, vault: Vault, out: Path) -> None:
    """The dialogs added for issue 14: adding a refused attribute, Help's About and shortcuts, the unlock dialog."""
    from app.ui.help import AboutDialog, ShortcutsDialog
    from app.ui.lock.passphrase import ChangePassphraseDialog
    from app.ui.unlock_dialog import UnlockDialog

    page = window.outside_page
    window.pages.setCurrentWidget(page)
    for _ in range(50):  # the rows are read off the GUI thread; on a busy machine 900 ms was not enough
        wait(200)
        if page.loaded is not None and page.proxy.rowCount():
            break
    mobile = next((r for r in range(page.proxy.rowCount()) if "mobile" in str(page.proxy.index(r, 0).data())), 0)
    page.table.selectRow(mobile)
    wait(200)
    window.grab().save(str(out / "view-outside-the-policy-selected.png"))
    page.add_selected()
    wait(300)
    if page.add_dialog is not None:
        page.add_dialog.category.setCurrentIndex(page.add_dialog.category.findData("work-contact"))
        page.add_dialog.purposes.item(0).setCheckState(Qt.CheckState.Checked)
        page.add_dialog.justification.setPlainText("Colleagues call each other on their work mobile")
        page.add_dialog.grab().save(str(out / "dialog-add-attribute.png"))
        page.add_dialog.reject()
    rekey = ChangePassphraseDialog(vault, window)
    rekey.new.setText("correct horse battery staple")
    rekey.show()
    wait(200)
    rekey.grab().save(str(out / "dialog-change-passphrase.png"))
    rekey.reject()
    unlock = UnlockDialog(vault.path.parent)
    unlock.show()
    unlock.passphrase.setText("typed")
    wait(200)
    unlock.grab().save(str(out / "dialog-unlock.png"))
    unlock.reject()
    for name, dialog in (("about", AboutDialog(window)), ("shortcuts", ShortcutsDialog(window))):
        dialog.show()
        wait(200)
        dialog.grab().save(str(out / f"dialog-{name}.png"))
        dialog.reject()


def render_backup_keys(window: MainWindow, vault: Vault, out: Path) -> None:
    """Vault → Backup keys…: two backups under epoch 1, one under epoch 2, epoch 3 current, the retired epoch 2
    selected (the one *Destroy epoch…* is offered for)."""
    from app.erasure.backup import backup
    from app.services.backup_keys import rotate
    from app.ui.backup_keys import open_backup_keys

    with tempfile.TemporaryDirectory() as folder:  # the copies themselves are not kept
        backup(vault, Path(folder) / "monday.vault")
        backup(vault, Path(folder) / "tuesday.vault")
        rotate(vault)
        backup(vault, Path(folder) / "wednesday.vault")
        rotate(vault)
    dialog = open_backup_keys(vault, window.reauthenticate, window, window.overview_page.refresh)
    for _ in range(50):  # read off the GUI thread
        wait(100)
        if dialog.table.rowCount() == 3:
            break
    dialog.table.selectRow(1)
    wait(200)
    dialog.grab().save(str(out / "dialog-backup-keys.png"))
    dialog.reject()


def render_audit_exports(window: MainWindow, out: Path) -> None:
    """The Audit page's exports (a timeline selection as CSV/XLSX, an evidence bundle of the selection), and the
    SCIM endpoint panel folded to one line on "Outside the policy"."""
    from PySide6.QtCore import QItemSelectionModel

    page = window.audit_page
    window.pages.setCurrentWidget(page)
    wait(900)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in (1, 4):
        page.table.selectionModel().select(page.model.index(row, 0), flags)
    for name, dialog in (("timeline", page.export_timeline()), ("bundle", page.export_bundle())):
        wait(400)
        dialog.grab().save(str(out / f"dialog-audit-{name}-export.png"))
        dialog.reject()
    window.server_panel.set_collapsed(True, remember=False)
    window.pages.setCurrentWidget(window.outside_page)
    wait(900)
    window.grab().save(str(out / "view-outside-the-policy-panel-folded.png"))
    window.server_panel.set_collapsed(False, remember=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="2: as on a 1920×1080 screen at 200 %%")
    scale = parser.parse_args().scale
    out = ROOT / "docs" / "screenshots"
    if scale != 1:
        os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"  # read when the QApplication is made
        out = out / f"scale-{round(scale * 100)}"
    out.mkdir(parents=True, exist_ok=True)
    app = application(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
            QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(data / "settings"))  # default settings
        vault = create_vault(data, "screenshot passphrase")
        setup_policy_and_targets(vault)
        seed(vault, 250)
        open_incident(vault)
        open_requests(vault)
        refuse_entra_defaults(vault, 40)
        tokens = TokenStore(vault)
        _info, secret = tokens.create("entra-id-production")
        tokens.create("okta-staging", expires_in_days=30)
        bus = EventBus()
        tls = ensure_self_signed(data)
        server = ScimServer(vault, tls=tls, bus=bus, tokens=tokens)
        window = MainWindow(vault, server, bus, tokens)
        # 1280×800 at 100 %; scaled, the whole of a 1920×1080 screen (960×540 logical pixels at 200 %)
        window.resize(QSize(1280, 800) if scale == 1 else QSize(round(1920 / scale), round(1080 / scale)))
        window.show()
        window.server_panel.start()
        wait(1500)
        if server.running:  # from another thread: the GUI's event loop keeps running meanwhile
            import threading

            traffic = threading.Thread(target=sample_traffic, args=(server, secret, tls.cert_path, vault))
            traffic.start()
            while traffic.is_alive():
                wait(100)
            if server.recorder is not None:  # the requests' entries reach the trail before the figures are read
                server.recorder.flush()
            window.overview_page.refresh_dashboard()  # as the app does within 10 s of the trail growing
            wait(1500)
        tables = [t for t in window.findChildren(QTableView) if t.isVisible()]
        if tables:
            table = tables[0]  # show the detail pane with every stored attribute
            table.setCurrentIndex(table.model().index(3, 0))
            wait(800)
        window.grab().save(str(out / "main-window.png"))
        tabs = window.pages
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            wait(900)
            name = tabs.tabText(index).split(" (")[0].lower().replace(" ", "-")
            window.grab().save(str(out / f"view-{name}.png"))
        render_policy_editor(window, out)
        window.settings_action.trigger()
        wait(300)
        if window.settings_dialog is not None:
            window.settings_dialog.grab().save(str(out / "dialog-settings.png"))
            window.settings_dialog.reject()
        from scripts.render_workflows import render as render_workflows  # the workflow dialogs (issue 14 §5)

        render_workflows(window, vault, out, wait)
        render_dialogs(window, vault, out)
        render_audit_exports(window, out)
        render_backup_keys(window, vault, out)  # last: its backups and epochs are on the trail the Audit page shows
        window.lock()
        wait(300)
        window.grab().save(str(out / "view-locked.png"))
        window.close_vault()
        wait(300)
        window.grab().save(str(out / "view-vault-closed.png"))
        window.shutdown()
        QThreadPool.globalInstance().waitForDone()
        server.stop()
        window.deleteLater()
        vault.close()
    app.processEvents()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
