"""The Overview's tiles (app/dashboard/figures.py), read from a real vault at an injected time: each figure as the
page it opens would state it, marked by how soon something must be done, and never naming a person."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.audit.trail import Event, append
from app.dashboard.figures import BAD, OK, WARN, read_dashboard
from app.feed import outbox
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.policy_change import apply_policy
from tests.dsr.dsr_support import REQUESTER, Clock, register_at, sealed_details, with_person
from tests.targets.support import policy_with_recipients


def tiles(vault: Vault, now: datetime) -> dict[str, tuple[str, str, str]]:
    board = read_dashboard(vault, PolicyInForce(vault).get().policy, now)
    return {tile.key: (tile.value, tile.detail, tile.level) for tile in board.tiles}


def test_an_empty_vault_has_nothing_to_do(vault: Vault) -> None:
    board = read_dashboard(vault, PolicyInForce(vault).get().policy, datetime.now(UTC))
    assert [(t.key, t.value, t.level) for t in board.tiles] == [
        ("users", "0", OK), ("groups", "0", OK), ("targets", "0", OK), ("requests", "0", OK),
        ("incidents", "0", OK), ("refusals", "0", OK),
    ]  # fmt: skip
    assert [t.page for t in board.tiles] == ["identities", "identities", "targets", "requests", "incidents", "audit"]
    assert board.requests.slots == 168 and board.erasures.slots == 30 and board.entries > 0


def test_targets_show_their_true_state(vault: Vault) -> None:
    apply_policy(vault, policy_with_recipients(), "dpo")
    with vault.write_transaction() as conn:
        for name in ("app1", "app2"):
            add_target(conn, TargetConfig(0, name, f"https://{name}.example.test/scim/v2", name, "bearer", "s3cret"))
        outbox.enqueue(conn, "User", "01a2-not-a-real-user", "upsert")
    value, detail, level = tiles(vault, datetime.now(UTC))["targets"]
    assert (value, detail, level) == ("0/2", "0 in sync; 2 catching up", WARN)  # never "in sync" with a queue


def test_a_target_never_checked_is_not_said_to_be_in_sync(vault: Vault) -> None:
    """Nothing queued and nothing missing is Custos's bookkeeping only: without a check of the target itself the
    tile says "not verified", never "all in sync" (decision 0036)."""
    apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", "https://app1.example.test/scim/v2", "app1", "bearer", "s3cret"))
    assert tiles(vault, datetime.now(UTC))["targets"] == ("0/1", "0 in sync; 1 not verified", WARN)


def test_requests_incidents_and_refusals_with_their_clocks(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    register.open(["access"], "email", "dpo", datetime(2026, 1, 31, 10, 0, tzinfo=UTC), private=sealed_details())
    assert tiles(vault, datetime(2026, 2, 10, 9, tzinfo=UTC))["requests"] == (
        "1", "nearest: 20 days left (due 2026-03-02)", OK
    )
    assert tiles(vault, datetime(2026, 2, 27, 9, tzinfo=UTC))["requests"][2] == WARN
    overdue = tiles(vault, datetime(2026, 3, 4, 9, tzinfo=UTC))["requests"]
    assert overdue == ("1", "nearest: OVERDUE by 2 days (was due 2026-03-02); 1 overdue", BAD)
    assert REQUESTER not in json.dumps(overdue)

    clock = Clock(datetime.now(UTC))
    incidents = IncidentRegister(vault, now=clock)
    incident = incidents.open_incident("Lost laptop of Ottoline Vexbridge", "dpo")
    incidents.open_incident("Another one", "dpo")
    assert tiles(vault, clock.now)["incidents"] == ("2", "no 72-hour clock running; 2 awaiting awareness", OK)
    incidents.set_aware(incident, "dpo", "confirmed")
    value, detail, level = tiles(vault, clock.now + timedelta(hours=2))["incidents"]
    assert (value, detail, level) == ("2", f"#{incident}: 2 d 22 h 00 min left; 1 awaiting awareness", WARN)
    assert "Ottoline" not in detail
    assert tiles(vault, clock.now + timedelta(hours=73))["incidents"][2] == BAD

    later = datetime.now(UTC) + timedelta(hours=1)  # after every entry so far: the trail is in time order
    with vault.write_transaction() as conn:
        for status in (200, 201, 400, 409):
            append(conn, Event("scim.request", "token:entra", "success" if status < 400 else "failure",
                               details={"status": status}, at=later))  # fmt: skip
        append(conn, Event("scim.auth.failed", "anonymous", "failure", details={"count": 7}, at=later))
    assert tiles(vault, later + timedelta(minutes=1))["refusals"][:1] == ("9",)
    assert tiles(vault, later + timedelta(hours=25))["refusals"] == (
        "0", "SCIM requests answered 4xx/5xx or not authenticated", OK
    )


def test_the_refusals_tile_and_the_requests_chart_read_one_snapshot(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in a screenshot: "Refused, last 24 h: 0" beside a chart with 4 refused, a request having been recorded
    between the two statements. Here a refused request is committed right after the tile's count."""
    from app.audit import timeseries

    original = timeseries.refusals_since
    when = datetime.now(UTC) + timedelta(minutes=1)

    def count_then_record(conn: object, since: datetime) -> int:
        counted = original(conn, since)  # type: ignore[arg-type]
        with vault.write_transaction() as other:
            append(other, Event("scim.request", "token:entra", "failure", details={"status": 400}, at=when))
        return counted

    monkeypatch.setattr("app.dashboard.figures.timeseries.refusals_since", count_then_record)
    board = read_dashboard(vault, PolicyInForce(vault).get().policy, when + timedelta(minutes=1))
    refused_tile = next(t for t in board.tiles if t.key == "refusals")
    assert refused_tile.value == str(board.requests.total("refused")) == "0"
