"""A vault whose policy names the three recipients, with targets of chosen erase modes, and subjects held there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete

from app.core.events import EventBus
from app.directory.schema import ENTERPRISE_SCHEMA, USER_SCHEMA
from app.dsr.restriction import is_restricted
from app.erasure.worker import ErasureWorker
from app.feed import links
from app.feed.tables import OutboxItem
from app.policy.in_force import PolicyInForce
from app.scim.service import ScimService
from app.store.vault import Vault
from app.targets.client import TargetClient
from app.targets.config import TargetConfig, add_target
from app.targets.dispatcher import Dispatcher
from app.targets.policy_change import apply_policy
from tests.targets.conftest import ScimTarget
from tests.targets.support import policy_with_recipients


@dataclass(frozen=True)
class TargetSpec:
    name: str
    base_url: str
    token: str
    recipient: str = "app3"
    erase_mode: str = "delete"


def add_targets(vault: Vault, specs: list[TargetSpec]) -> dict[str, int]:
    """The policy with the recipients the targets use (of app1..app3) and the targets; returns ids by name."""
    apply_policy(vault, policy_with_recipients({spec.recipient for spec in specs}), "dpo")
    ids = {}
    with vault.write_transaction() as conn:
        for spec in specs:
            config = TargetConfig(
                id=0,
                name=spec.name,
                base_url=spec.base_url,
                recipient_id=spec.recipient,
                auth_kind="bearer",
                secret=spec.token,
                erase_mode=spec.erase_mode,
            )
            ids[spec.name] = add_target(conn, config).id
    return ids


def person(user_name: str, given: str = "Seven", family: str = "Subject") -> dict[str, object]:
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "userName": user_name,
        "displayName": f"{given} {family}",
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "title": "Engineer",
        "active": True,
        ENTERPRISE_SCHEMA: {"department": "R&D"},
    }


def service_for(vault: Vault) -> ScimService:
    return ScimService(vault, "https://custos.test/scim/v2", EventBus(), PolicyInForce(vault))


def dispatcher_for(vault: Vault) -> Dispatcher:
    dispatcher = Dispatcher(vault, PolicyInForce(vault), restricted=is_restricted, poll_seconds=0.05)
    dispatcher.start()
    return dispatcher


def held_without_push(vault: Vault, resource_id: str, remote_ids: dict[int, str]) -> None:
    """As if the dispatcher had pushed the subject: links saved, its outbox items done and gone."""
    with vault.write_transaction() as conn:
        conn.execute(delete(OutboxItem.__table__))
        for target_id, remote_id in remote_ids.items():
            links.save(conn, target_id, "User", resource_id, remote_id, 1)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts every request per (target, method): proves no duplicate DELETE reaches a target."""

    def __init__(self, name: str, counts: dict[tuple[str, str], int]) -> None:
        self.name = name
        self.counts = counts
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (self.name, request.method)
        self.counts[key] = self.counts.get(key, 0) + 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def counting_worker(vault: Vault, counts: dict[tuple[str, str], int], **options: object) -> ErasureWorker:
    def factory(config: TargetConfig) -> TargetClient:
        return TargetClient(config, transport=CountingTransport(config.name, counts))

    return ErasureWorker(vault, client_factory=factory, **options)  # type: ignore[arg-type]


def held_at_target(vault: Vault, app: ScimTarget, user_name: str, base_url: str | None = None) -> tuple[str, str]:
    """(the subject's id, its account's id at ``app``): a subject in the mirror and an account for it at the real
    target, linked as a push would have. The target is registered at ``base_url`` (a fault proxy in front of
    ``app``) or at the app's own address."""
    ids = add_targets(vault, [TargetSpec(app.name, base_url or app.base_url, app.token, app.name)])
    service = service_for(vault)
    rid = str(service.create("User", person(user_name)).body["id"])  # type: ignore[index]
    service.close()
    with app.client() as http:
        remote = str(http.post("/Users", json={"userName": user_name}).json()["id"])
    held_without_push(vault, rid, {ids[app.name]: remote})
    return rid, remote
