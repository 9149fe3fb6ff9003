"""A vault holding one person, a fake clock, and the controller set in England (holidays of GB-ENG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.dsr import settings
from app.dsr.register import DsrRegister
from app.store.vault import Vault
from tests.erasure.support import person, service_for
from tests.policy_support import hold_everything

REQUESTER = "Ottoline Vexbridge"
ADDRESS = "12 Quarry Lane, Leeds"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def in_england(vault: Vault) -> None:
    settings.save(vault.path.parent, country="GB", subdivision="ENG", zone="Europe/London")


def with_person(vault: Vault, user_name: str = "ottoline@example.org") -> str:
    hold_everything(vault)
    in_england(vault)
    created = service_for(vault).create("User", person(user_name, "Ottoline", "Vexbridge"))
    return str(created.body["id"])  # type: ignore[index]


def register_at(vault: Vault, when: str = "2026-02-10T09:00:00+00:00") -> tuple[DsrRegister, Clock]:
    clock = Clock(datetime.fromisoformat(when).astimezone(UTC))
    return DsrRegister(vault, now=clock), clock


def sealed_details() -> dict[str, object]:
    return {"requester": {"name": REQUESTER}, "answer": {"channel": "letter", "address": ADDRESS},
            "note": "asked by letter for everything held"}  # fmt: skip
