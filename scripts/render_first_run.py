"""Render each page of the first-run assistant into docs/screenshots/first-run-*.png (offscreen Qt).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_first_run.py
It runs a real set-up in a temporary folder; the token on the last page is a real one of a vault that is
deleted when the script ends.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QThreadPool  # noqa: E402
from render_screenshots import wait  # noqa: E402

from app.ui.first_run.wizard import FirstRunWizard  # noqa: E402
from app.ui.run import application  # noqa: E402

PAGES = ("welcome", "passphrase", "identity-provider", "endpoint", "policy", "contacts", "set-up", "done")


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = application(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        wizard = FirstRunWizard(Path(folder), "dpo")
        wizard.resize(760, 620)
        wizard.show()
        wizard.passphrase_page.passphrase.setText("a screenshot passphrase")
        wizard.passphrase_page.confirmation.setText("a screenshot passphrase")
        wizard.endpoint_page.form.network.setChecked(True)
        wizard.endpoint_page.form.public_host.setEditText("scim.example.org")
        wizard.endpoint_page.form.port.setValue(18443)
        wizard.token_page.idp.setCurrentIndex(wizard.token_page.idp.findData("entra"))
        wizard.endpoint_page.route_buttons["proxy"].setChecked(True)  # self-signed: Entra needs a way in
        wizard.contacts_page.fields["controller"]["name"].setText("Example Organisation Ltd")
        wizard.contacts_page.fields["controller"]["email"].setText("privacy@example.org")
        for name in PAGES:
            wait(300)
            wizard.grab().save(str(out / f"first-run-{name}.png"))
            if name == "set-up":
                wizard.next()
                while wizard.currentPage() is not wizard.done_page:
                    wait(100)
            elif name != "done":
                wizard.next()
        result = wizard.result
        wizard.done_page.stored.setChecked(True)
        wizard.accept()
        QThreadPool.globalInstance().waitForDone()
        if result is not None:
            result.vault.close()
    app.processEvents()
    print(f"first-run screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
