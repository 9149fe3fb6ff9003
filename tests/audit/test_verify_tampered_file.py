"""`custos audit verify` on a vault file tampered with by someone holding its key: straight SQL through sqlcipher3.

The intruder of decision 0007 who opened the vault but does not re-sign: an edited entry, a deleted one, a tail cut
into the signed range, a reordered pair, a forged checkpoint. Each must exit 1 and name the place; a tail cut only
from the unsigned end is not detectable here, and the verdict must say so rather than claim the whole trail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher

from app.audit.checkpoints import checkpoint_now
from app.audit.trail import Event, append_many
from app.store import engine
from app.store.vault import Vault, vault_path
from tests.cli.test_cli import run
from tests.conftest import PASSPHRASE, VaultTemplate

START = datetime.now(UTC) - timedelta(minutes=3)  # recent: opening the vault to verify signs nothing new
SIGNED = 50  # the newest checkpoint covers the first 50 entries; ten more come after it, unsigned


@pytest.fixture(scope="module")
def trail_dir(tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("trail")
    vault = vault_template.open_copy(folder)
    try:
        with vault.write_transaction() as conn:
            checkpoint_now(conn, START)  # announces the signing key first (one entry), then signs
            base = conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar_one()
            events = [Event("scim.resource.created", "token:entra", subject=f"u{i}", details={"resource_type": "User"},
                            at=START + timedelta(seconds=i)) for i in range(SIGNED - base)]  # fmt: skip
            append_many(conn, events, checkpoint=False)
            assert checkpoint_now(conn, START + timedelta(minutes=1)).tree_size == SIGNED
        with vault.write_transaction() as conn:
            more = [Event("scim.resource.deleted", "token:entra", details={"resource_type": "User"},
                          at=START + timedelta(minutes=2, seconds=i)) for i in range(10)]  # fmt: skip
            append_many(conn, more, checkpoint=False)
    finally:
        vault.close()
    yield folder


@pytest.fixture
def copy(trail_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(trail_dir, target)
    return target


def tamper(data_dir: Path, *statements: str) -> None:
    """Run SQL on the vault file with its real key, as an intruder with the passphrase would."""
    path = vault_path(data_dir)
    salt = engine.read_salt(path)
    raw_key = Vault.derive_key(data_dir, PASSPHRASE)
    connection = sqlcipher.connect(str(path))
    try:
        connection.execute(engine.raw_key_pragma(raw_key, salt))
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


SWAP = [  # the contents of entries 20 and 21 exchanged, each keeping its own seq
    "CREATE TEMP TABLE pair AS SELECT * FROM audit_events WHERE seq IN (20, 21)",
    "UPDATE audit_events SET (at, kind, actor, outcome, subject, details, leaf_hash, chain_hash) = (SELECT at, kind, "
    "actor, outcome, subject, details, leaf_hash, chain_hash FROM pair WHERE pair.seq = 41 - audit_events.seq) "
    "WHERE seq IN (20, 21)",
]


@pytest.mark.parametrize(
    ("statements", "place"),
    [
        (["UPDATE audit_events SET outcome = 'failure' WHERE seq = 30"], "BROKEN at seq 30"),
        (["DELETE FROM audit_events WHERE seq = 30"], "BROKEN at seq 30"),
        # cut at 45: the verify's own unlock then writes entries 46… in the place of the removed ones
        ([f"DELETE FROM audit_events WHERE seq > {SIGNED - 5}"], f"BROKEN at seq {SIGNED - 4}: entries {SIGNED - 4}–"),
        (SWAP, "BROKEN at seq 20"),
        (
            [f"UPDATE audit_checkpoints SET root_hash = '{'ab' * 32}' WHERE tree_size = {SIGNED}"],
            f"the checkpoint at tree size {SIGNED} (",
        ),
    ],
    ids=["edited", "deleted", "truncated into the signed range", "reordered pair", "forged checkpoint"],
)
def test_tampering_is_named(copy: Path, statements: list[str], place: str) -> None:
    tamper(copy, *statements)
    verdict = run(copy, "audit", "verify")
    assert verdict.returncode == 1, verdict.stdout
    first = verdict.stdout.splitlines()[0]
    assert first.startswith("Audit trail BROKEN") and place in first, verdict.stdout
    assert "Traceback" not in verdict.stderr


def test_the_untouched_copy_is_intact(copy: Path) -> None:
    verdict = run(copy, "audit", "verify")
    assert verdict.returncode == 0 and verdict.stdout.startswith("Audit trail intact: "), verdict.stdout


def test_a_tail_cut_from_the_unsigned_end_is_not_claimed_as_the_whole_trail(copy: Path) -> None:
    tamper(copy, f"DELETE FROM audit_events WHERE seq > {SIGNED + 3}")
    verdict = run(copy, "audit", "verify")
    assert verdict.returncode == 0  # a prefix of the trail: nothing in the vault can tell
    lines = verdict.stdout.splitlines()
    covered = next(line for line in lines if line.startswith("Covered:"))
    assert f"signed up to entry {SIGNED} (" in covered and f"entries {SIGNED + 1}–" in covered  # + the verify's own
    assert "cut off the end, they would leave no trace" in covered
