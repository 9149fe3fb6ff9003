"""The target service both the CLI and the Targets page call: a change keeps the credential unless a new one is
given and never writes it on the trail; a new recipient (or renames, or re-enabling) queues everyone in scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.tables import AuditEvent
from app.audit.trail import of_kind
from app.core.errors import ConfigError
from app.feed import outbox
from app.store.vault import Vault
from app.targets import service
from app.targets.config import TargetConfig, get_target
from app.targets.policy_change import apply_policy
from tests.erasure.support import person, service_for
from tests.targets.support import policy_with_recipients


def _target(vault: Vault) -> TargetConfig:
    with vault.read_connection() as conn:
        found = get_target(conn, "app1")
    assert found is not None
    return found


def test_change_keeps_the_credential_and_requeues_when_the_recipient_changes(vault: Vault) -> None:
    apply_policy(vault, policy_with_recipients({"app1", "app3"}), "dpo")
    scim = service_for(vault)
    for name in ("a@example.test", "b@example.test"):
        scim.create("User", person(name))
    scim.close()
    added, receives = service.add(vault, TargetConfig(0, "app1", "https://app1.example.test/v2", "app1", "bearer",
                                                      "first-secret"))  # fmt: skip
    assert receives == ["User userName", "User displayName", "User emails.value"]
    with vault.read_connection() as conn:
        queued = outbox.stats(conn, added.id).pending

    service.change(vault, "app1", max_concurrency=2, secret="")  # an empty credential box: the stored one stays
    assert _target(vault).secret == "first-secret" and _target(vault).max_concurrency == 2
    with vault.read_connection() as conn:
        assert outbox.stats(conn, added.id).pending == queued  # nothing about whom or what changed

    service.change(vault, "app1", recipient_id="app3", secret="second-secret")
    assert _target(vault).secret == "second-secret" and _target(vault).recipient_id == "app3"
    with vault.read_connection() as conn:
        assert outbox.stats(conn, added.id).pending > queued  # everyone in app3's scope queued again
        changed = [e.details for e in of_kind(conn, "target.changed")]
        trail = " ".join(row[0] for row in conn.execute(select(AuditEvent.details)))
    assert "first-secret" not in trail and "second-secret" not in trail
    assert {"target": "app1", "fields": ["credential", "recipient_id"]} in changed

    with pytest.raises(ConfigError, match="no recipient 'nobody'"):
        service.change(vault, "app1", recipient_id="nobody")
    with pytest.raises(ConfigError, match="only allowed to a loopback"):
        service.change(vault, "app1", auth_kind="oauth2", oauth_client_id="c", oauth_token_url="http://idp.test/token")
    assert _target(vault).auth_kind == "bearer"  # a refused change changes nothing
