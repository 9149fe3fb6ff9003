"""Pruning the trail at a signed checkpoint (app/audit/prune.py): what goes, what stays, and what verification says
afterwards, on a real SQLCipher vault with the clock given (decision 0055)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from app.audit import prune
from app.audit.bundle import export_bundle, verify_bundle
from app.audit.checkpoints import all_checkpoints, checkpoint_now
from app.audit.query import EventFilter, count, total
from app.audit.trail import Event, append, iso_utc
from app.audit.verify import verify_trail
from app.store.vault import Vault
from tests.audit.conftest import SUBJECTS
from tests.conftest import VaultTemplate

PERIOD = "P1D"
T0 = datetime(2030, 1, 1, tzinfo=UTC)  # after the template vault's own entries, which are timed when it was made
LATER = T0 + timedelta(days=400)


def _trail(conn: Connection, n: int, every: int = 25) -> None:
    """``n`` entries timed T0 + 7 s * i (some naming subjects, some with sealed parts), signed every ``every``."""
    rng = random.Random(55)
    for i in range(n):
        subject = rng.choice((*SUBJECTS, None))
        private = {"old": f"person{i}@example.org"} if subject and i % 5 == 0 else None
        details = {"i": i, "attributes": ["userName", "title"]}
        at = T0 + timedelta(seconds=7 * i)
        event = Event("scim.resource.updated", "token:okta", subject=subject, details=details, at=at, private=private)
        append(conn, event)
        if (i + 1) % every == 0:
            checkpoint_now(conn)
    checkpoint_now(conn)


@pytest.fixture
def trail(tmp_path: Path, vault_template: VaultTemplate) -> Iterator[Vault]:
    opened = vault_template.open_copy(tmp_path)
    with opened.write_transaction() as conn:
        _trail(conn, 120)
    yield opened
    opened.close()


def _cutoff_after(vault: Vault, seq: int) -> datetime:
    """A cutoff just after the time of entry ``seq``: it and every entry before it are past the period."""
    with vault.read_connection() as conn:
        at = conn.execute(text("SELECT at FROM audit_events WHERE seq = :s"), {"s": seq}).scalar_one()
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) + timedelta(milliseconds=1)


def _prune(
    vault: Vault, cutoff: datetime, holds: list[prune.Hold] | None = None, now: datetime = LATER
) -> prune.PrunePlan:
    with vault.write_transaction() as conn:
        chosen = prune.plan(conn, PERIOD, cutoff, holds)
        prune.prune(conn, chosen, now)
    return chosen


def _sizes(vault: Vault) -> list[int]:
    with vault.read_connection() as conn:
        return [c.tree_size for c in all_checkpoints(conn)]


def test_plan_cuts_at_the_newest_checkpoint_older_than_the_period(trail: Vault) -> None:
    sizes = _sizes(trail)
    with trail.read_connection() as conn:
        chosen = prune.plan(conn, PERIOD, _cutoff_after(trail, 60))
    anchor = max(s for s in sizes if s <= 60)
    assert chosen.anchor is not None and chosen.anchor.tree_size == anchor
    assert (chosen.first_seq, chosen.last_seq, chosen.count) == (1, anchor, anchor)


def test_a_hold_stops_the_cut_before_it(trail: Vault) -> None:
    sizes = _sizes(trail)
    with trail.read_connection() as conn:
        chosen = prune.plan(conn, PERIOD, _cutoff_after(trail, 110), [prune.Hold(40, "SIEM destination 'soc'")])
    assert chosen.anchor is not None and chosen.anchor.tree_size == max(s for s in sizes if s < 40)
    assert [h.why for h in chosen.holds] == ["SIEM destination 'soc'"]
    with trail.read_connection() as conn:
        held = prune.plan(conn, PERIOD, _cutoff_after(trail, 110), [prune.Hold(1, "incident 3")])
    assert held.anchor is None and held.count == 0


def test_nothing_newer_than_the_period_goes(trail: Vault) -> None:
    with trail.read_connection() as conn:
        assert prune.plan(conn, PERIOD, T0).anchor is None  # every entry is newer than the cutoff


def test_a_pruned_trail_verifies_from_its_anchor_and_says_so(trail: Vault) -> None:
    chosen = _prune(trail, _cutoff_after(trail, 60))
    n = chosen.last_seq
    with trail.read_connection() as conn:
        assert prune.first_seq(conn) == n + 1
        assert min(_sizes(trail)) == n  # the checkpoints before the anchor went with the entries
        record = conn.execute(text("SELECT details FROM audit_events WHERE kind = 'audit.pruned'")).scalar_one()
        report = verify_trail(conn)
    details = json.loads(record)
    assert (details["first_seq"], details["last_seq"], details["count"], details["period"]) == (1, n, n, PERIOD)
    assert details["anchor"]["tree_size"] == n and len(details["keys"]) == 1  # the key announced at seq 1
    assert report.ok, report.breaches
    assert report.first_seq == n + 1 and report.pruned is not None
    said = report.summary() + " " + (report.covered() or "")
    assert f"entries 1–{n} pruned under the retention period {PERIOD} on " in said
    assert f"verified from the signed checkpoint at {n}" in said
    assert "entries 1–" not in (report.covered() or "").split(",")[0]  # the range held starts after the prune
    assert (report.covered() or "").startswith(f"entries {n + 1}–")


def test_a_second_prune_carries_the_keys_and_verifies(trail: Vault) -> None:
    _prune(trail, _cutoff_after(trail, 30), now=T0 + timedelta(hours=1))
    with trail.write_transaction() as conn:  # more entries after the first prune's record, then signed
        for i in range(30):
            at = T0 + timedelta(hours=2, seconds=i)
            append(conn, Event("scim.resource.updated", "token:okta", details={"i": i}, at=at))
        checkpoint_now(conn)
        append(conn, Event("scim.resource.updated", "token:okta", details={"i": 30}, at=T0 + timedelta(hours=3)))
        last = int(conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()) - 1
    second = _prune(trail, _cutoff_after(trail, last))
    with trail.read_connection() as conn:
        report = verify_trail(conn)
        kept = prune.records(conn)
    assert second.last_seq == last  # past the first prune's record: its carried key goes on in the second's
    assert len(kept) == 1 and kept[0].up_to == last and len(kept[0].keys) == 1
    assert report.ok, report.breaches
    assert report.pruned is not None and report.pruned.up_to == last


def test_deleting_the_first_entries_without_a_prune_is_tampering(trail: Vault) -> None:
    sizes = _sizes(trail)
    boundary = max(s for s in sizes if s <= 60)
    with trail.write_transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq <= :n"), {"n": boundary})
        report = verify_trail(conn)
        conn.rollback()
    assert not report.ok
    assert report.first_breach is not None and report.first_breach.kind == "removed"
    assert f"entries 1–{boundary} are missing" in report.summary()


def test_deleting_more_after_a_prune_is_tampering(trail: Vault) -> None:
    n = _prune(trail, _cutoff_after(trail, 30)).last_seq
    with trail.write_transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq <= :n"), {"n": n + 10})
        report = verify_trail(conn)
        conn.rollback()
    assert not report.ok and report.first_breach is not None
    assert report.first_breach.kind == "removed" and report.first_breach.seq == 1


def test_an_altered_entry_after_a_prune_is_still_found(trail: Vault) -> None:
    n = _prune(trail, _cutoff_after(trail, 30)).last_seq
    with trail.write_transaction() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = :s"), {"s": n + 5})
        report = verify_trail(conn)
        conn.rollback()
    assert not report.ok and report.first_breach is not None
    assert (report.first_breach.kind, report.first_breach.seq) == ("altered", n + 5)


def test_a_prune_whose_anchor_was_removed_is_reported(trail: Vault) -> None:
    n = _prune(trail, _cutoff_after(trail, 60)).last_seq
    with trail.write_transaction() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints WHERE tree_size = :n"), {"n": n})
        report = verify_trail(conn)
        conn.rollback()
    assert not report.ok
    assert any("gone or altered" in b.what for b in report.breaches)


def test_a_bundle_of_a_pruned_trail_verifies(trail: Vault, tmp_path: Path) -> None:
    n = _prune(trail, _cutoff_after(trail, 60)).last_seq
    out = tmp_path / "bundle.zip"
    with trail.write_transaction() as conn:
        info = export_bundle(conn, None, None, out, seqs=(n + 3, n + 20))
    assert info.first_seq == n + 3
    report = verify_bundle(out)
    assert report.ok, report.breaches
    with trail.write_transaction() as conn, pytest.raises(Exception, match="not a range of the trail"):
        export_bundle(conn, None, None, tmp_path / "b2.zip", seqs=(1, n + 3))


def test_the_newest_entry_always_stays(trail: Vault) -> None:
    with trail.read_connection() as conn:
        last = int(conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one())
        chosen = prune.plan(conn, PERIOD, LATER + timedelta(days=1000))  # every entry is past the period
    assert chosen.anchor is not None and chosen.last_seq < last


def test_counts_and_time_filters_start_at_the_first_entry_held(trail: Vault) -> None:
    """query.total was max(seq), and the time bisection started at seq 1: on a pruned trail the count was too high
    and a filter with an end found nothing (the bisection read the removed entries as timed after any moment)."""
    n = _prune(trail, _cutoff_after(trail, 60)).last_seq
    until = _cutoff_after(trail, n + 20)
    with trail.read_connection() as conn:
        held = int(conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one())
        timed = text("SELECT count(*) FROM audit_events WHERE at < :u")
        before = int(conn.execute(timed, {"u": iso_utc(until)}).scalar_one())
        assert total(conn) == held
        assert count(conn, EventFilter(until=until)) == before == 20


def test_a_whole_trail_bundle_after_a_prune_says_the_first_entries_were_pruned(trail: Vault, tmp_path: Path) -> None:
    """The bundle read 'Not proved: the content of entries 1–N is not in this bundle', as if they had been left out
    of it; they were pruned, and the record that says so is among the entries it verifies."""
    from app.audit.bundle import split_proved

    n = _prune(trail, _cutoff_after(trail, 60)).last_seq
    out = tmp_path / "whole.zip"
    with trail.write_transaction() as conn:
        export_bundle(conn, None, None, out)
    report = verify_bundle(out)
    assert report.ok, report.breaches
    proved, not_proved = split_proved(report.proved)
    assert any(line.startswith(f"entries 1–{n} were removed by the prune recorded at entry ") for line in proved)
    assert f"the content of entries 1–{n}: they were pruned and no longer exist in the vault" in not_proved
    assert not any("is not in this bundle" in line for line in not_proved)
    assert not any(line.startswith("the whole trail") for line in proved)
