"""Token expiry warnings (decision 0057): 14 days before, within the last day, and once expired, each raised once
per token and expiry as an alert on the trail; after a pause only the most urgent level; none for a revoked token
or one without an expiry; never the secret or its hint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from app.audit.trail import of_kind
from app.setup.token_expiry import RULE, check_token_expiry, expiring
from app.setup.tokens import TokenStore
from app.store.vault import Vault


def _alerts(vault: Vault) -> list[dict[str, object]]:
    with vault.read_connection() as conn:
        return [event.details for event in reversed(of_kind(conn, "alert.raised")) if event.details["rule"] == RULE]


def _created(vault: Vault, name: str, days: int | None) -> tuple[datetime, str, str]:
    info, secret = TokenStore(vault).create(name, days)
    assert info.expires is not None or days is None
    return (info.expires or datetime.now(UTC)), secret, info.hint


def test_each_level_is_raised_once_as_the_expiry_nears(vault: Vault) -> None:
    expires, secret, hint = _created(vault, "entra-production", 30)

    assert check_token_expiry(vault, expires - timedelta(days=20)) == []  # 20 days left: nothing yet
    soon = check_token_expiry(vault, expires - timedelta(days=13))
    assert [(item.name, item.marker) for item in soon] == [("entra-production", "14d")]
    assert check_token_expiry(vault, expires - timedelta(days=12)) == []  # said already
    assert [item.marker for item in check_token_expiry(vault, expires - timedelta(hours=20))] == ["1d"]
    assert [item.marker for item in check_token_expiry(vault, expires + timedelta(minutes=1))] == ["expired"]
    assert check_token_expiry(vault, expires + timedelta(days=3)) == []

    alerts = _alerts(vault)
    assert [(a["token"], a["marker"]) for a in alerts] == [("entra-production", m) for m in ("14d", "1d", "expired")]
    assert alerts[0]["summary"] == f"SCIM token 'entra-production' expires in 13 days, at {expires:%Y-%m-%d %H:%M} UTC"
    assert alerts[2]["summary"] == f"SCIM token 'entra-production' expired at {expires:%Y-%m-%d %H:%M} UTC"
    text = json.dumps(alerts)
    assert secret not in text and hint not in text


def test_after_a_pause_only_the_most_urgent_level_is_raised(vault: Vault) -> None:
    expires, _secret, _hint = _created(vault, "okta", 30)
    assert [item.marker for item in check_token_expiry(vault, expires + timedelta(days=2))] == ["expired"]
    assert check_token_expiry(vault, expires + timedelta(days=2, hours=1)) == []
    assert [a["marker"] for a in _alerts(vault)] == ["expired"]


def test_revoked_tokens_and_tokens_without_expiry_raise_nothing(vault: Vault) -> None:
    expires, _secret, _hint = _created(vault, "old-okta", 10)
    TokenStore(vault).revoke("old-okta")
    _created(vault, "forever", None)
    assert check_token_expiry(vault, expires + timedelta(days=1)) == []
    assert _alerts(vault) == []


def test_expiring_lists_the_soonest_first_with_what_is_left(vault: Vault) -> None:
    later, _s, _h = _created(vault, "google", 12)
    sooner, _s, _h = _created(vault, "onelogin", 5)
    _created(vault, "jumpcloud", 60)
    with vault.read_connection() as conn:
        found = expiring(conn, datetime.now(UTC))
    assert [(item.name, item.marker) for item in found] == [("onelogin", "14d"), ("google", "14d")]
    assert found[0].describe() == f"expires in 5 days, at {sooner:%Y-%m-%d %H:%M} UTC"
    assert found[0].rank == 1 and found[0].expires == sooner and found[1].expires == later


def test_the_overview_line_counts_working_tokens_and_names_those_near_expiry(vault: Vault) -> None:
    from app.setup.token_expiry import overview_line

    now = datetime.now(UTC)
    with vault.read_connection() as conn:
        assert overview_line(conn, now).startswith("none active")
    _created(vault, "forever", None)
    with vault.read_connection() as conn:
        assert overview_line(conn, now) == "1 active, none expiring within 14 days"
    expires, _secret, _hint = _created(vault, "okta", 3)
    with vault.read_connection() as conn:
        assert overview_line(conn, now).splitlines() == [
            "2 active",
            f"okta expires in 3 days, at {expires:%Y-%m-%d %H:%M} UTC",
        ]
        later = overview_line(conn, expires + timedelta(hours=1)).splitlines()
    assert later == ["1 active", f"okta expired at {expires:%Y-%m-%d %H:%M} UTC"]
