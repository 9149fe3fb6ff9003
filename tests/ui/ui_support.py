"""Row builders shared by the UI tests (rows go straight into ScimResource, bypassing the SCIM server)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from app.store.models import GroupMember, ScimResource
from app.store.vault import Vault
from tests.memory_keyring import MemoryKeyring as MemoryKeyring  # the UI tests take it from here, with the rest

PASSPHRASE = "correct horse battery staple"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)


def user_row(user_name: str, display_name: str | None, modified: datetime, **extra: object) -> dict[str, object]:
    document: dict[str, object] = {"schemas": [USER_SCHEMA], "userName": user_name, "active": True, **extra}
    if display_name is not None:
        document["displayName"] = display_name
    return {
        "id": str(uuid.uuid4()),
        "resource_type": "User",
        "external_id": None,
        "user_name": user_name,
        "user_name_ci": user_name.lower(),
        "display_name": display_name,
        "display_name_ci": display_name.lower() if display_name is not None else None,
        "active": True,
        "document": json.dumps(document),
        "version": 1,
        "created": modified,
        "modified": modified,
    }


def group_row(display_name: str, modified: datetime = BASE_TIME) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "resource_type": "Group",
        "external_id": None,
        "user_name": None,
        "user_name_ci": None,
        "display_name": display_name,
        "display_name_ci": display_name.lower(),
        "active": None,
        "document": json.dumps({"schemas": [GROUP_SCHEMA], "displayName": display_name}),
        "version": 1,
        "created": modified,
        "modified": modified,
    }


def insert_rows(vault: Vault, rows: list[dict[str, object]]) -> list[str]:
    with vault.write_session() as session:
        session.execute(insert(ScimResource), rows)
    return [str(row["id"]) for row in rows]


def add_member(vault: Vault, group_id: str, member_id: str) -> None:
    with vault.write_session() as session:
        session.add(GroupMember(group_id=group_id, member_id=member_id, member_type="User"))


def many_users(count: int) -> list[dict[str, object]]:
    """Users with unique names, some display names missing (NULL sort keys) and some duplicated."""
    rows = []
    for i in range(count):
        display = None if i % 7 == 0 else f"Person {(i * 7919) % 97:02d}"  # duplicates: ties broken by id
        rows.append(user_row(f"user{(i * 7919) % count:05d}@example.org", display, BASE_TIME + timedelta(minutes=i)))
    return rows


def answer_passphrase_dialog(text: str | None) -> None:
    """When the modal re-authentication dialog is up, type ``text`` and press OK (None: Cancel)."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QLineEdit

    deadline = time.monotonic() + 15  # an answerer left armed must not answer a later test's dialog

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            if time.monotonic() < deadline:
                QTimer.singleShot(20, answer)
            return
        if text is None:
            dialog.reject()
            return
        dialog.findChild(QLineEdit).setText(text)
        dialog.check()  # type: ignore[attr-defined]

    QTimer.singleShot(20, answer)


def free_port() -> int:
    """A loopback port free right now (for settings that need a real number, unlike the server's port 0), that no
    other test's port-0 server or client can take before the app binds it (tests/ports.py)."""
    from tests.ports import port_for_a_server_of_its_own

    return port_for_a_server_of_its_own()


def answer_question_with_keys(*keys: object) -> list[str]:
    """When a modal question box is up, press ``keys`` in it (Qt.Key values); returns the box's text once seen.

    Keyboard only, as a person answering "Quit?" with Enter, Escape or Y would."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[str] = []
    deadline = time.monotonic() + 15  # an answerer left armed must not answer a later test's question

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if time.monotonic() < deadline:
                QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        for key in keys:
            QTest.keyClick(box, key)  # type: ignore[call-overload]

    QTimer.singleShot(0, answer)
    return seen
