"""Signed checkpoints (signed tree heads) of the audit trail.

A checkpoint states: the trail's first ``tree_size`` entries have Merkle root ``root_hash`` and chain hash
``chain_hash`` (time, log id, key id), signed with Ed25519 over its canonical JSON. One is made every 1,000
entries or 10 minutes of activity (checked after each append, at the cost of a dictionary lookup when none is
due) and at every export. Checkpoints live in their own table, so the tree never covers its own checkpoints.

The signing key is generated on first use and kept in the vault (``signing_keys``). Its public half is
announced on the trail itself ("audit.key.created"), so a verifier learns which key may sign which tree sizes
from the entries the earlier checkpoints already cover: a checkpoint re-signed with a key announced later (or
never) is rejected — each seal is bound to its epoch, the lesson of CVE-2023-31439 in systemd's FSS.

The short fingerprint (16 hex digits of the SHA-256 of the signed checkpoint) is for anchoring outside the
machine: paper, e-mail, a SIEM.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, insert, select

from app.audit.merkle import Frontier
from app.audit.tables import AuditCheckpoint, AuditEvent, SigningKey
from app.audit.trail import GENESIS, Event, append_many, canonical, content_bytes, iso_utc, parse_utc
from app.core.clock_step import STEP_SECONDS
from app.core.errors import CustosError
from app.store.models import VaultInfo

log = logging.getLogger(__name__)

FORMAT = "custos-checkpoint/1"
KEY_EVENT = "audit.key.created"
EVERY_N = 1000
EVERY_SECONDS = 600
_ACTOR = "system:audit"
_STATE = "custos.audit.last_checkpoint"  # (tree size, epoch seconds) cached on the pooled DB-API connection
_C = AuditCheckpoint.__table__
_K = SigningKey.__table__
_A = AuditEvent.__table__
_LAST = select(_C).order_by(_C.c.tree_size.desc()).limit(1)


class AuditTrailBroken(CustosError):
    """The entries to be signed do not verify: signing them would vouch for a tampered trail."""

    def __init__(self, what: str, seq: int | None = None) -> None:
        where = f" at seq {seq}" if seq is not None else ""
        super().__init__(f"Audit trail broken{where}: {what}. Run 'audit verify'; nothing was signed.")
        self.seq = seq


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str
    chain_hash: str
    time: str
    log_id: str
    key_id: str
    signature: str

    def statement(self) -> dict[str, Any]:
        """The signed content (``format`` keeps these signatures apart from anything else the key signs)."""
        return {
            "format": FORMAT,
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "chain_hash": self.chain_hash,
            "time": self.time,
            "key_id": self.key_id,
        }

    def signed(self) -> dict[str, Any]:
        return {**self.statement(), "signature": self.signature}

    @property
    def fingerprint(self) -> str:
        """16 hex digits to copy onto paper: SHA-256 of the canonical signed checkpoint."""
        return hashlib.sha256(canonical(self.signed())).hexdigest()[:16]

    def signature_valid(self, public_key: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                bytes.fromhex(self.signature), canonical(self.statement())
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def from_signed(cls, document: dict[str, Any]) -> Checkpoint:
        if document.get("format") != FORMAT:
            raise ValueError("not a Custos checkpoint")
        return cls(
            int(document["tree_size"]),
            str(document["root_hash"]),
            str(document["chain_hash"]),
            str(document["time"]),
            str(document["log_id"]),
            str(document["key_id"]),
            str(document["signature"]),
        )


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_pem(public_key: bytes) -> bytes:
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes) -> bytes:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _row_checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(row.tree_size, row.root_hash, row.chain_hash, row.time, row.log_id, row.key_id, row.signature)


def all_checkpoints(conn: Connection) -> list[Checkpoint]:
    return [_row_checkpoint(row) for row in conn.execute(select(_C).order_by(_C.c.tree_size))]


def last_checkpoint(conn: Connection) -> Checkpoint | None:
    row = conn.execute(_LAST).first()
    return None if row is None else _row_checkpoint(row)


def _signing_key(conn: Connection) -> tuple[str, Ed25519PrivateKey]:
    """The newest signing key; made, stored in the vault and announced on the trail on first use."""
    row = conn.execute(select(_K.c.id, _K.c.private_key).order_by(_K.c.created.desc()).limit(1)).first()
    if row is not None:
        return row.id, Ed25519PrivateKey.from_private_bytes(row.private_key)
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = key_id_of(raw_public)
    conn.execute(
        insert(_K),
        {"id": key_id, "created": datetime.now(UTC), "private_key": raw_private, "public_key": raw_public},
    )
    details = {"key_id": key_id, "algorithm": "Ed25519", "public_key": raw_public.hex()}
    append_many(conn, [Event(KEY_EVENT, _ACTOR, details=details)], checkpoint=False)
    log.info("audit signing key %s created", key_id)
    return key_id, private


def _log_id(conn: Connection) -> str:
    return conn.execute(select(VaultInfo.value).where(VaultInfo.key == "vault_id")).scalar() or ""


def _frontier_after(conn: Connection, last: Any) -> tuple[Frontier, str]:
    """The frontier and chain hash of the whole trail, from the last checkpoint on; checks what it adds."""
    frontier, chain = Frontier(), GENESIS
    if last is not None:
        frontier, chain = Frontier.from_hex(last.tree_size, last.frontier), last.chain_hash
        if frontier.root().hex() != last.root_hash:
            raise AuditTrailBroken(f"the last checkpoint (tree size {last.tree_size}) was altered")
    expected = frontier.size + 1
    rows = conn.execute(
        select(
            _A.c.seq,
            _A.c.at,
            _A.c.kind,
            _A.c.actor,
            _A.c.outcome,
            _A.c.subject,
            _A.c.details,
            _A.c.leaf_hash,
            _A.c.chain_hash,
        )
        .where(_A.c.seq >= expected)
        .order_by(_A.c.seq)
    )
    for seq, at, kind, actor, outcome, subject, details, leaf_hex, chain_hex in rows:
        if seq != expected:
            raise AuditTrailBroken("an entry is missing", expected)
        leaf = hashlib.sha256(b"\x00" + content_bytes(seq, at, kind, actor, outcome, subject, details)).digest()
        if leaf.hex() != leaf_hex:
            raise AuditTrailBroken("the entry does not match its leaf hash", seq)
        if hashlib.sha256(bytes.fromhex(chain) + leaf).hexdigest() != chain_hex:
            raise AuditTrailBroken("the chain hash does not follow from the previous entry", seq)
        frontier.append(leaf)
        chain = chain_hex
        expected += 1
    return frontier, chain


def checkpoint_now(conn: Connection, now: datetime | None = None) -> Checkpoint:
    """Sign the current tree head (in the caller's write transaction); the last one if nothing was appended.

    Reads only the entries appended since the last checkpoint, re-hashing them first (AuditTrailBroken if they
    do not verify: a checkpoint must never vouch for a tampered entry).
    """
    key_id, private = _signing_key(conn)
    last = conn.execute(_LAST).first()
    frontier, chain = _frontier_after(conn, last)
    if last is not None and frontier.size == last.tree_size:
        _remember(conn, last.tree_size, _epoch(last.time))
        return _row_checkpoint(last)
    moment = now or datetime.now(UTC)
    unsigned = Checkpoint(frontier.size, frontier.root().hex(), chain, iso_utc(moment), _log_id(conn), key_id, "")
    signature = private.sign(canonical(unsigned.statement())).hex()
    checkpoint = Checkpoint(**{**unsigned.__dict__, "signature": signature})
    conn.execute(insert(_C), {**checkpoint.__dict__, "frontier": frontier.to_hex()})
    _remember(conn, checkpoint.tree_size, moment.timestamp())
    return checkpoint


def _epoch(iso: str) -> float:
    return parse_utc(iso).timestamp()


def _remember(conn: Connection, size: int, epoch: float) -> None:
    conn.info[_STATE] = (size, epoch)


def _load_state(conn: Connection) -> tuple[int, float]:
    last = conn.execute(select(_C.c.tree_size, _C.c.time).order_by(_C.c.tree_size.desc()).limit(1)).first()
    state = (last.tree_size, _epoch(last.time)) if last else (0, time.time())
    conn.info[_STATE] = state
    return state


def _tail_size(conn: Connection) -> int:
    return int(conn.execute(select(_A.c.seq).order_by(_A.c.seq.desc()).limit(1)).scalar() or 0)


def _is_due(state: tuple[int, float], size: int, every_n: int, every_seconds: float) -> bool:
    """Due after ``every_n`` entries or ``every_seconds``; also when the last checkpoint lies ahead of the clock (set
    back since): waiting for the clock to catch up left the tail unsigned that much longer (an hour back: an hour)."""
    last_size, last_time = state
    elapsed = time.time() - last_time
    return size > last_size and (size - last_size >= every_n or elapsed >= every_seconds or elapsed < -STEP_SECONDS)


def maybe_checkpoint(
    conn: Connection, every_n: int = EVERY_N, every_seconds: float = EVERY_SECONDS, size: int | None = None
) -> Checkpoint | None:
    """A new checkpoint if ``every_n`` entries or ``every_seconds`` passed since the last one, else None.

    Cheap when not due: the last checkpoint's size and time are cached on the pooled connection, and the
    table is read only to confirm a checkpoint that looks due (another connection may have made it).
    """
    size = _tail_size(conn) if size is None else size
    state = conn.info.get(_STATE)
    if state is None or size < state[0]:  # unknown, or a rolled-back checkpoint: ask the table
        state = _load_state(conn)
    if not _is_due(state, size, every_n, every_seconds):
        return None
    if not _is_due(_load_state(conn), size, every_n, every_seconds):
        return None
    return checkpoint_now(conn)


def after_append(conn: Connection, size: int) -> None:
    """Called by append(): a due checkpoint, in a savepoint, never failing the change being recorded."""
    state = conn.info.get(_STATE)
    if state is not None and size >= state[0] and not _is_due(state, size, EVERY_N, EVERY_SECONDS):
        return  # the common case: one dict lookup and two comparisons
    conn.exec_driver_sql("SAVEPOINT custos_checkpoint")
    try:
        maybe_checkpoint(conn, size=size)
    except Exception as exc:  # the change must be recorded even if its checkpoint cannot be signed
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT custos_checkpoint")
        _remember(conn, size, time.time())  # do not retry on every append; the next one is due later
        log.error("audit checkpoint not made: %s", exc if isinstance(exc, CustosError) else type(exc).__name__)
    conn.exec_driver_sql("RELEASE SAVEPOINT custos_checkpoint")


def key_announcements(conn: Connection) -> list[tuple[int, str, bytes]]:
    """(seq, key id, public key) of every signing key announced on the trail, oldest first."""
    rows = conn.execute(select(_A.c.seq, _A.c.details).where(_A.c.kind == KEY_EVENT).order_by(_A.c.seq)).fetchall()
    found = []
    for seq, details in rows:
        try:
            parsed = json.loads(details)
            found.append((seq, str(parsed["key_id"]), bytes.fromhex(parsed["public_key"])))
        except (ValueError, KeyError, TypeError):
            continue  # an altered announcement; verification reports the entry itself
    return found


def key_in_force(announcements: list[tuple[int, str, bytes]], tree_size: int) -> tuple[str, bytes] | None:
    """The key that may sign a checkpoint of ``tree_size``: the newest one announced within those entries."""
    chosen = None
    for seq, key_id, public_key in announcements:
        if seq <= tree_size:
            chosen = (key_id, public_key)
    return chosen
