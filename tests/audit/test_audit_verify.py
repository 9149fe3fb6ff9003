"""verify_trail: untouched trails pass; any edit, removal, insertion or reordering is found and named by seq."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, text

from app.audit.checkpoints import (
    AuditTrailBroken,
    Checkpoint,
    all_checkpoints,
    checkpoint_now,
    key_id_of,
    maybe_checkpoint,
)
from app.audit.trail import Event, append, canonical
from app.audit.verify import verify_trail
from app.store.vault import Vault
from tests.audit.conftest import (
    TEXT_FIELDS,
    delete,
    flip_byte,
    forged_row,
    insert,
    rolled_back,
    shift_from,
    size,
    swap,
)

SEEDS = range(12)


def test_untouched_trail_is_intact(trail_vault: Vault) -> None:
    with trail_vault.read_connection() as conn:
        report = verify_trail(conn)
    assert report.ok, report.breaches
    assert report.entries == size_of(trail_vault)
    assert report.checkpoints == 5  # every 25 of 120 entries (4), and at the end
    assert report.summary().startswith(f"Audit trail intact: {report.entries} entries, 5 checkpoints, root ")
    assert report.root == all_checkpoints_of(trail_vault)[-1].root_hash


def size_of(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return size(conn)


def all_checkpoints_of(vault: Vault) -> list[Checkpoint]:
    with vault.read_connection() as conn:
        return all_checkpoints(conn)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_flipped_byte_in_any_field_is_named(trail_vault: Vault, seed: int) -> None:
    rng = random.Random(seed)
    with rolled_back(trail_vault) as conn:
        for _ in range(len(TEXT_FIELDS)):
            target, field = rng.randint(1, size(conn)), rng.choice(TEXT_FIELDS)
            conn.exec_driver_sql("SAVEPOINT flip")
            flip_byte(conn, rng, target, field)
            breach = verify_trail(conn).first_breach
            assert breach is not None, (target, field)
            assert (breach.seq, breach.kind) == (target, "altered"), (field, breach)
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT flip")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_changed_seq_is_named(trail_vault: Vault, seed: int) -> None:
    rng = random.Random(seed)
    with rolled_back(trail_vault) as conn:
        target = rng.randint(1, size(conn) - 1)
        moved_to = target ^ (1 << rng.randint(10, 20))  # one flipped bit, beyond the end of the trail
        conn.execute(text("UPDATE audit_events SET seq = :m WHERE seq = :s"), {"m": moved_to, "s": target})
        breach = verify_trail(conn).first_breach
    assert breach is not None and breach.seq == target
    assert breach.kind == "reordered" and str(moved_to) in breach.what


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("renumber", [False, True])
def test_a_removed_entry_is_named(trail_vault: Vault, seed: int, renumber: bool) -> None:
    rng = random.Random(seed)
    with rolled_back(trail_vault) as conn:
        target = rng.randint(1, size(conn))
        delete(conn, target, renumber)
        breach = verify_trail(conn).first_breach
    assert breach is not None and (breach.seq, breach.kind) == (target, "removed"), breach


def test_removing_the_newest_entry_is_caught_by_the_checkpoint(trail_vault: Vault) -> None:
    with rolled_back(trail_vault) as conn:
        last = size(conn)
        delete(conn, last)
        breach = verify_trail(conn).first_breach
    assert breach is not None and (breach.seq, breach.kind) == (last, "removed")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("careful", [False, True])
def test_an_inserted_entry_is_named(trail_vault: Vault, seed: int, careful: bool) -> None:
    """In the middle (later entries renumbered), by a forger who computes hashes or one who does not."""
    rng = random.Random(seed)
    with rolled_back(trail_vault) as conn:
        target = rng.randint(2, size(conn))
        shift_from(conn, target, +1)
        insert(conn, forged_row(conn, rng, target, consistent=careful))
        breach = verify_trail(conn).first_breach
    assert breach is not None and (breach.seq, breach.kind) == (target, "inserted"), breach


def test_an_entry_appended_by_hand_is_named(trail_vault: Vault) -> None:
    rng = random.Random(7)
    with rolled_back(trail_vault) as conn:
        target = size(conn) + 1
        insert(conn, forged_row(conn, rng, target, consistent=False))
        report = verify_trail(conn)
    assert report.first_breach is not None and (report.first_breach.seq, report.first_breach.kind) == (
        target,
        "inserted",
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_reordered_entries_are_named(trail_vault: Vault, seed: int) -> None:
    rng = random.Random(seed)
    with rolled_back(trail_vault) as conn:
        first = rng.randint(1, size(conn) - 1)
        second = first + 1 if seed % 2 else rng.randint(first + 1, size(conn))  # neighbours and far apart
        swap(conn, first, second)
        breach = verify_trail(conn).first_breach
    assert breach is not None and (breach.seq, breach.kind) == (first, "reordered"), breach


def test_a_rewrite_with_every_hash_recomputed_is_caught_by_the_signed_root(trail_vault: Vault) -> None:
    """Local checks all pass; the signed checkpoints do not, and the breach is placed before the change."""
    from app.audit.trail import chain_hash, leaf_hash

    with rolled_back(trail_vault) as conn:
        good, covering = (c.tree_size for c in all_checkpoints(conn)[1:3])
        target = good + 10
        conn.execute(text("UPDATE audit_events SET actor = 'operator:someone-else' WHERE seq = :s"), {"s": target})
        previous = conn.execute(text("SELECT chain_hash FROM audit_events WHERE seq = :s"), {"s": target - 1}).scalar()
        for stored in conn.execute(
            text("SELECT * FROM audit_events WHERE seq >= :s ORDER BY seq"), {"s": target}
        ).all():
            import json

            content = {k: getattr(stored, k) for k in ("seq", "at", "kind", "actor", "outcome", "subject")}
            leaf = leaf_hash({**content, "details": json.loads(stored.details)})
            previous = chain_hash(previous, leaf)
            conn.execute(
                text("UPDATE audit_events SET leaf_hash = :l, chain_hash = :c WHERE seq = :s"),
                {"l": leaf, "c": previous, "s": stored.seq},
            )
        report = verify_trail(conn)
    breach = report.first_breach
    assert breach is not None and breach.kind == "rewritten"
    assert breach.seq is not None and good < breach.seq <= target < covering  # after the last good checkpoint
    assert "history rewritten" in breach.what


def test_a_checkpoint_resigned_with_another_key_is_rejected(trail_vault: Vault) -> None:
    intruder = Ed25519PrivateKey.generate()
    public = intruder.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with rolled_back(trail_vault) as conn:
        original = all_checkpoints(conn)[1]
        forged = Checkpoint(**{**original.__dict__, "key_id": key_id_of(public), "signature": ""})
        signature = intruder.sign(canonical(forged.statement())).hex()
        conn.execute(
            text("UPDATE audit_checkpoints SET key_id = :k, signature = :s WHERE tree_size = :n"),
            {"k": forged.key_id, "s": signature, "n": original.tree_size},
        )
        # also planting the key in the vault's key table does not help: the trail never announced it
        conn.execute(
            text("INSERT INTO signing_keys (id, created, private_key, public_key) VALUES (:i, '2025-01-01', :p, :q)"),
            {"i": forged.key_id, "p": b"\x00" * 32, "q": public},
        )
        report = verify_trail(conn)
    assert not report.ok
    assert report.summary().startswith(f"Audit trail BROKEN: the checkpoint at tree size {original.tree_size} (")
    assert "not in force" in report.summary()


def test_an_altered_signed_root_is_rejected(trail_vault: Vault) -> None:
    with rolled_back(trail_vault) as conn:
        altered = all_checkpoints(conn)[2].tree_size
        conn.execute(
            text("UPDATE audit_checkpoints SET root_hash = :r WHERE tree_size = :n"), {"r": "ab" * 32, "n": altered}
        )
        report = verify_trail(conn)
    whats = [b.what for b in report.breaches]
    assert any(f"tree size {altered} (" in what and "signature that does not verify" in what for what in whats)
    assert len(whats) == 1  # the entries are not blamed for an altered checkpoint


def test_clock_regressions_are_reported_not_failed(vault: Vault) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with vault.write_transaction() as conn:
        append(conn, Event("scim.request", "token:a", at=now + timedelta(hours=1)))
        append(conn, Event("scim.request", "token:a", at=now))  # the clock was set back
        checkpoint_now(conn)
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    assert report.ok
    assert any("clock went back 1 time(s), first at seq 3" in note for note in report.notes)


def test_checkpoints_come_by_count_and_refuse_a_tampered_tail(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        for i in range(25):
            append(conn, Event("scim.request", "token:a", details={"i": i}))
            maybe_checkpoint(conn, every_n=10, every_seconds=10**6)
        sizes = [c.tree_size for c in all_checkpoints(conn)]
    assert sizes == [11, 21]  # vault.created + 9 events, then the key's announcement, then signed
    with rolled_back(vault) as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 23"))
        with pytest.raises(AuditTrailBroken) as refused:
            checkpoint_now(conn)
    assert refused.value.seq == 23


def test_automatic_checkpoint_every_thousand_entries(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        for i in range(2100):
            append(conn, Event("scim.request", "token:a", details={"i": i}))
    with vault.read_connection() as conn:
        sizes = [c.tree_size for c in all_checkpoints(conn)]
        report = verify_trail(conn)
    assert len(sizes) == 2 and sizes[1] - sizes[0] >= 1000
    assert report.ok and report.checkpoints == 2


def test_the_fast_encoding_is_the_canonical_json(trail_vault: Vault) -> None:
    """Verification re-hashes rows without parsing them; the bytes must be those append() hashed."""
    from app.audit.trail import content_bytes, read

    with trail_vault.read_connection() as conn:
        for event in read(conn):
            stored_details = canonical(event.details).decode()
            fast = content_bytes(
                event.seq, event.at, event.kind, event.actor, event.outcome, event.subject, stored_details
            )
            assert fast == canonical(event.content())


# -- each tampering gets its own verdict (issue 11 §10) ------------------------------------------------------
def _announced_at(conn: Connection) -> int:
    return int(conn.execute(text("SELECT seq FROM audit_events WHERE kind = 'audit.key.created'")).scalar_one())


def _rehash_from(conn: Connection, target: int) -> None:
    """What a careful forger does after an insertion: every later leaf and chain hash recomputed."""
    import json

    from app.audit.trail import chain_hash, leaf_hash

    previous = conn.execute(text("SELECT chain_hash FROM audit_events WHERE seq = :s"), {"s": target - 1}).scalar()
    for stored in conn.execute(text("SELECT * FROM audit_events WHERE seq >= :s ORDER BY seq"), {"s": target}).all():
        content = {k: getattr(stored, k) for k in ("seq", "at", "kind", "actor", "outcome", "subject")}
        leaf = leaf_hash({**content, "details": json.loads(stored.details)})
        previous = chain_hash(previous, leaf)
        update = text("UPDATE audit_events SET leaf_hash = :l, chain_hash = :c WHERE seq = :s")
        conn.execute(update, {"l": leaf, "c": previous, "s": stored.seq})


def test_deleting_every_checkpoint_is_named(trail_vault: Vault) -> None:
    with rolled_back(trail_vault) as conn:
        announced = _announced_at(conn)
        conn.execute(text("DELETE FROM audit_checkpoints"))
        report = verify_trail(conn)
    assert not report.ok
    assert report.summary().startswith("Audit trail BROKEN: checkpoints were deleted: the one signed when the key ")
    assert f"was announced (tree size {announced}) is gone (0 checkpoint(s) left)" in report.summary()


def test_deleting_the_first_checkpoint_is_named(trail_vault: Vault) -> None:
    with rolled_back(trail_vault) as conn:
        first = all_checkpoints(conn)[0].tree_size
        conn.execute(text("DELETE FROM audit_checkpoints WHERE tree_size = :n"), {"n": first})
        report = verify_trail(conn)
    assert [b.what.split(":")[0] for b in report.breaches] == ["checkpoints were deleted"]
    assert f"(tree size {first}) is gone (4 checkpoint(s) left)" in report.breaches[0].what


@pytest.mark.parametrize("careful", [False, True])
def test_a_row_forged_before_the_key_announcement_names_the_entry_only(trail_vault: Vault, careful: bool) -> None:
    """Every later entry moves, the announcement too: the entries tell what happened; no checkpoint is blamed."""
    rng = random.Random(11)
    with rolled_back(trail_vault) as conn:
        target = _announced_at(conn) - 10
        shift_from(conn, target, +1)
        insert(conn, forged_row(conn, rng, target, consistent=careful))
        report = verify_trail(conn)
    assert report.first_breach is not None and (report.first_breach.seq, report.first_breach.kind) == (
        target,
        "inserted",
    )
    assert all(b.kind != "checkpoint" for b in report.breaches), report.breaches


def test_a_row_forged_and_every_later_hash_recomputed_is_placed_by_the_signed_root(trail_vault: Vault) -> None:
    rng = random.Random(12)
    with rolled_back(trail_vault) as conn:
        target = _announced_at(conn) - 10
        shift_from(conn, target, +1)
        insert(conn, forged_row(conn, rng, target, consistent=True))
        _rehash_from(conn, target + 1)
        report = verify_trail(conn)
    breach = report.first_breach
    assert breach is not None and breach.kind == "rewritten" and breach.seq is not None and breach.seq <= target
    assert not any("not in force" in b.what for b in report.breaches)


def test_the_first_rewritten_range_is_the_tightest(trail_vault: Vault) -> None:
    """A later checkpoint's looser range never hides the earlier, tighter one."""
    rng = random.Random(13)
    with rolled_back(trail_vault) as conn:
        sizes = [c.tree_size for c in all_checkpoints(conn)]
        target = sizes[0] + 13
        shift_from(conn, target, +1)
        insert(conn, forged_row(conn, rng, target, consistent=True))
        _rehash_from(conn, target + 1)
        report = verify_trail(conn)
    breach = report.first_breach
    assert breach is not None and breach.kind == "rewritten"
    assert breach.seq is not None and sizes[0] < breach.seq <= target and f"tree size {sizes[1]} (" in breach.what


@pytest.mark.parametrize("keep", ["past the announcement", "before the announcement", "nothing"])
def test_a_truncation_into_the_signed_range_names_the_first_missing_entry(trail_vault: Vault, keep: str) -> None:
    with rolled_back(trail_vault) as conn:
        announced, last = _announced_at(conn), size(conn)
        kept = {"past the announcement": announced + 5, "before the announcement": announced - 5, "nothing": 0}[keep]
        conn.execute(text("DELETE FROM audit_events WHERE seq > :k"), {"k": kept})
        report = verify_trail(conn)
    breach = report.first_breach
    assert breach is not None and (breach.seq, breach.kind) == (kept + 1, "removed"), report.breaches
    missing = "every entry is missing (the trail is empty)" if kept == 0 else f"entries {kept + 1}–{last} are missing"
    assert breach.what.startswith(missing)
    assert not any("not in force" in b.what for b in report.breaches)
    assert len(report.breaches) == 1


def test_deleting_the_latest_checkpoints_leaves_a_note_that_says_so(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        for i in range(2100):
            append(conn, Event("scim.request", "token:a", details={"i": i}))
    with rolled_back(vault) as conn:
        intact = verify_trail(conn)
        last = all_checkpoints(conn)[-1].tree_size
        conn.execute(text("DELETE FROM audit_checkpoints WHERE tree_size = :n"), {"n": last})
        report = verify_trail(conn)
    assert intact.ok and not any("were deleted" in note for note in intact.notes)
    assert report.ok  # the first checkpoint is still there: no entry is shown to be touched, so no breach
    assert [n for n in report.notes if "not signed yet" in n] == [
        f"{report.entries - all_checkpoints_of(vault)[0].tree_size} entries after the last checkpoint are not "
        "signed yet (a checkpoint is due every 1000 entries: checkpoints failed, or were deleted)"
    ]


def test_deleting_every_entry_and_every_checkpoint_is_named(trail_vault: Vault) -> None:
    """What is left looks like a young trail (the next unlock writes seq 1 again); the vault's key gives it away."""
    with rolled_back(trail_vault) as conn:
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(text("DELETE FROM audit_checkpoints"))
        append(conn, Event("vault.unlocked", "operator:someone"))
        report = verify_trail(conn)
    assert report.summary().startswith(
        "Audit trail BROKEN: entries and checkpoints were deleted: the vault's signing key "
    ), report.breaches



def test_a_trail_without_a_checkpoint_says_none_of_it_is_signed(vault: Vault) -> None:
    """'N entries after the last checkpoint' named a checkpoint that does not exist."""
    with vault.write_transaction() as conn:
        for i in range(3):
            append(conn, Event("scim.request", "token:a", details={"i": i}))
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    assert report.ok and report.checkpoints == 0
    assert f"none of the {report.entries} entries is signed yet: there is no checkpoint" in report.notes
    assert report.covered() == (
        f"entries 1–{report.entries} ({report.first_at} to {report.last_at}); none is under a signed checkpoint "
        "yet: entries cut off the end would leave no trace"
    )
    assert report.first_at and report.last_at and report.first_at <= report.last_at


def test_a_broken_trail_says_what_was_read_not_how_far_it_is_signed(trail_vault: Vault) -> None:
    """Cut off past its last checkpoint, a trail read 'every one under checkpoint …' beside the breach."""
    with rolled_back(trail_vault) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq > :n"), {"n": size(conn) - 5})
        report = verify_trail(conn)
    assert not report.ok
    assert report.covered() == (
        f"entries 1–{report.entries} ({report.first_at} to {report.last_at}) read; the problems above say what no "
        "longer holds"
    )


def test_an_entry_deleted_from_within_is_not_reported_as_entries_cut_off_the_end(trail_vault: Vault) -> None:
    """One entry deleted from the middle of a fully signed trail: the trail holds one entry fewer than the last
    checkpoint covers, but its end is still there. It read "entries N–N are missing … the trail ends at N-1" for
    the last entry, which is present, and "Covered: entries 1–(N-1)", a range that leaves out the last entry read
    and takes in the one that is gone."""
    with rolled_back(trail_vault) as conn:
        last = size(conn)
        delete(conn, 50)
        report = verify_trail(conn)
    assert report.first_breach is not None and report.first_breach.render() == "at seq 50: entry 50 is missing"
    rendered = [breach.render() for breach in report.breaches]
    assert not any(f"entries {last}–{last} are missing" in line or "the trail ends at" in line for line in rendered)
    assert any(
        f"the trail holds {last - 1} up to seq {last}: 1 signed entry is missing from within it" in line
        for line in rendered
    ), rendered
    assert report.covered() == (
        f"{last - 1} entries, seq 1 to {last} with some missing ({report.first_at} to {report.last_at}) read; "
        "the problems above say what no longer holds"
    )


def test_entries_cut_off_the_end_are_still_named_as_such(trail_vault: Vault) -> None:
    with rolled_back(trail_vault) as conn:
        last = size(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq > :n"), {"n": last - 3})
        report = verify_trail(conn)
    assert report.first_breach is not None
    assert report.first_breach.render().startswith(f"at seq {last - 2}: entries {last - 2}–{last} are missing: ")
