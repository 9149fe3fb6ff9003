"""Random audit trails with fixed seeds, and tampering done the way an intruder would: SQL on the table."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from app.audit.checkpoints import checkpoint_now
from app.audit.trail import Event, append, content_bytes
from app.store.vault import Vault
from tests.conftest import VaultTemplate

KINDS = ("scim.request", "scim.resource.created", "scim.resource.updated", "policy.applied", "token.created")
ACTORS = ("token:okta-prod", "operator:dpo", "system:retention", "anonymous")
SUBJECTS = tuple(f"2819c223-7f76-453a-919d-41{n:010d}" for n in range(6))
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def random_trail(conn: Connection, rng: random.Random, n: int, checkpoint_every: int = 25) -> None:
    """``n`` varied events (unicode, nesting, sealed private parts), with checkpoints now and then and at the end."""
    for i in range(n):
        subject = rng.choice((*SUBJECTS, None))
        details = {
            "i": i,
            "attributes": rng.sample(["userName", "name.givenName", "emails", "title", 'ü\u2028"\\'], k=2),
            "nested": {"count": rng.randint(0, 9), "ratio": round(rng.random(), 3), "flag": rng.random() < 0.5},
        }
        private = {"old": f"person{i}@example.org", "new": "Zoë Ñandú"} if subject and rng.random() < 0.2 else None
        event = Event(
            rng.choice(KINDS),
            rng.choice(ACTORS),
            rng.choice(("success", "failure")),
            subject=subject,
            details=details,
            at=START + timedelta(seconds=7 * i),
            private=private,
        )
        append(conn, event)
        if (i + 1) % checkpoint_every == 0:
            checkpoint_now(conn)
    checkpoint_now(conn)


@pytest.fixture(scope="module")
def trail_vault(tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate) -> Iterator[Vault]:
    """One vault with a 120-entry trail; tests tamper inside transactions that are rolled back."""
    opened = vault_template.open_copy(tmp_path_factory.mktemp("trail"))
    with opened.write_transaction() as conn:
        random_trail(conn, random.Random(20250301), 120)
    yield opened
    opened.close()


@contextmanager
def rolled_back(vault: Vault) -> Iterator[Connection]:
    """A write transaction whose changes are undone afterwards, whatever happens inside."""
    with vault.engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


# -- tampering ---------------------------------------------------------------------------------------
TEXT_FIELDS = ("at", "kind", "actor", "outcome", "subject", "details", "leaf_hash", "chain_hash")


def size(conn: Connection) -> int:
    return int(conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one())


def row(conn: Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).mappings().one())


def flip_byte(conn: Connection, rng: random.Random, seq: int, field: str) -> None:
    """Change one character of one stored field (a NULL subject becomes a value)."""
    value = row(conn, seq)[field]
    if value is None:
        changed = "0" * 64
    else:
        chars = list(str(value))
        index = rng.randrange(len(chars))
        flipped = chr(ord(chars[index]) ^ (1 << rng.randrange(5)))
        chars[index] = flipped if flipped != chars[index] else chr(ord(chars[index]) ^ 1)
        changed = "".join(chars)
    conn.execute(text(f"UPDATE audit_events SET {field} = :v WHERE seq = :s"), {"v": changed, "s": seq})


def shift_from(conn: Connection, seq: int, by: int) -> None:
    """Renumber the entries from ``seq`` on (through negative values: the primary key must stay unique)."""
    conn.execute(text("UPDATE audit_events SET seq = -seq WHERE seq >= :s"), {"s": seq})
    conn.execute(text("UPDATE audit_events SET seq = -seq + :by WHERE seq < 0"), {"by": by})


def delete(conn: Connection, seq: int, renumber: bool = False) -> None:
    conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": seq})
    if renumber:
        shift_from(conn, seq + 1, -1)


def swap(conn: Connection, a: int, b: int) -> None:
    conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :a"), {"a": a})
    conn.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    conn.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": b})


def forged_row(conn: Connection, rng: random.Random, seq: int, consistent: bool) -> dict[str, object]:
    """A plausible entry for ``seq``; ``consistent`` gives it the right leaf and chain hashes (a careful forger)."""
    forged: dict[str, object] = {
        "seq": seq,
        "at": (START + timedelta(seconds=7 * seq - 3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "kind": "scim.resource.deleted",
        "actor": "operator:dpo",
        "outcome": "success",
        "subject": None,
        "details": '{"resource_type":"User"}',
    }
    if consistent:
        leaf = hashlib.sha256(b"\x00" + content_bytes(*forged.values())).digest()  # type: ignore[arg-type]
        previous = conn.execute(text("SELECT chain_hash FROM audit_events WHERE seq = :s"), {"s": seq - 1}).scalar()
        forged["leaf_hash"] = leaf.hex()
        forged["chain_hash"] = hashlib.sha256(bytes.fromhex(previous or "0" * 64) + leaf).hexdigest()
    else:
        forged["leaf_hash"] = rng.randbytes(32).hex()
        forged["chain_hash"] = rng.randbytes(32).hex()
    return forged


def insert(conn: Connection, forged: dict[str, object]) -> None:
    conn.execute(
        text(
            "INSERT INTO audit_events (seq, at, kind, actor, outcome, subject, details, leaf_hash, chain_hash) "
            "VALUES (:seq, :at, :kind, :actor, :outcome, :subject, :details, :leaf_hash, :chain_hash)"
        ),
        forged,
    )


def table_dump(conn: Connection, tables: tuple[str, ...]) -> str:
    """Everything stored in ``tables``, decrypted (the vault file itself is encrypted), as one string."""
    parts = []
    for table in tables:
        for values in conn.execute(text(f"SELECT * FROM {table}")):
            parts.extend(v.hex() if isinstance(v, bytes) else str(v) for v in values)
    return "\n".join(parts)


def scan_bundle(path: Path) -> bytes:
    """The bundle's bytes and every member decompressed, to search for identifiers."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = b"\n".join(archive.read(name) for name in archive.namelist())
    return path.read_bytes() + b"\n" + members
