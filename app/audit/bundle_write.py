"""Writing an evidence bundle: the entries of a range, their proofs in a tree signed now, the checkpoints, the
anchor of the chain before the range, and a signed manifest (the format: ``app.audit.bundle``)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, bindparam, func, select

from app.audit import prune
from app.audit.bundle_format import (
    ANCHOR,
    CHECKPOINTS,
    ENTRIES,
    FORMAT,
    MANIFEST,
    PROOFS,
    PUBLIC_KEY,
    README,
    SIGNATURE,
)
from app.audit.checkpoints import (
    AuditTrailBroken,
    Checkpoint,
    all_checkpoints,
    checkpoint_now,
    public_key_pem,
)
from app.audit.merkle import Frontier, MerkleTree
from app.audit.tables import AuditCheckpoint, AuditEvent, SigningKey
from app.audit.trail import GENESIS, canonical, iso_utc
from app.core.errors import ConfigError
from app.store.fastsql import FastStatement

_A = AuditEvent.__table__
_K = SigningKey.__table__
_C = AuditCheckpoint.__table__
_BATCH = 5000


@dataclass(frozen=True)
class BundleInfo:
    path: Path
    entries: int
    first_seq: int
    last_seq: int
    sha256: str  # of the whole ZIP file
    checkpoint: Checkpoint  # the final one, made at export


_README = """Custos audit evidence bundle ({format})

What it proves: every entry in entries.jsonl is, unchanged and at its place, part of the audit trail whose
Merkle root the final checkpoint signs; the earlier checkpoints are prefixes of that trail (consistency
proofs); nothing was cut from the range (manifest.sig). What it cannot prove: events that were never logged,
or history forged before the first checkpoint you hold a copy of by someone who held the signing key. Compare
the key id and the checkpoint fingerprints with copies kept elsewhere (paper, e-mail, SIEM).

Verify with Custos (no vault, no network):    custos audit verify-bundle THIS.zip [--key-id KEY_ID]

Verify by hand:
1. manifest.sig is the Ed25519 signature (hex) of the bytes of manifest.json by public_key.pem; the key id
   is the first 16 hex digits of SHA-256 of the raw 32-byte public key. Each file's SHA-256 is in the manifest.
2. Each checkpoint in checkpoints.json is signed (Ed25519, hex) over the canonical JSON of its fields without
   "signature" and "consistency_to_final": keys sorted, no spaces, UTF-8. Its fingerprint is the first 16 hex
   digits of SHA-256 of the canonical JSON of its fields with "signature".
3. For each line of entries.jsonl: leaf = SHA-256(0x00 || canonical JSON of seq, at, kind, actor, outcome,
   subject, details) must equal leaf_hash; chain_hash = SHA-256(previous chain_hash || leaf), starting from
   range.prev_chain_hash of the manifest; the inclusion proof in proofs.json (RFC 9162 section 2.1.3.2, leaf
   index = seq - 1) must lead to the final checkpoint's root_hash.
4. Each checkpoint's consistency_to_final proof (RFC 9162 section 2.1.4.2) must verify against the final root.
5. anchor.json: start from the chain_hash of the checkpoint at checkpoint_tree_size (64 zeros for size 0, the
   trail's start); for each bridge leaf (seq checkpoint_tree_size + 1 on) check its inclusion proof as in 3,
   then chain_hash = SHA-256(chain_hash || leaf_hash). The result must be range.prev_chain_hash.

Subjects appear only as keyed pseudonyms; "sealed" details are AES-256-GCM ciphertext that only the vault's
per-subject key can open (and no one, once the subject was erased).
"""


def _chosen_seqs(conn: Connection, seqs: tuple[int, int]) -> tuple[int, int]:
    """A range of sequence numbers (inclusive), checked against the trail."""
    first, last = seqs
    highest = int(conn.execute(select(func.max(_A.c.seq))).scalar() or 0)
    lowest = max(prune.first_seq(conn), 1)  # after a prune, the trail starts later
    if not lowest <= first <= last <= highest:
        raise ConfigError(
            f"Entries {first} to {last} are not a range of the trail (it holds entries {lowest} to {highest}); "
            "nothing was exported."
        )
    return first, last


def _seq_range(conn: Connection, start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """First and last seq of the entries timed in [start, end) (read by time, with no assumption about order).

    A bundle is one unbroken run of the chain, so it holds every entry timed in the range and, between them, any
    entry written among them but timed just outside it (a request timed when answered and written later, in a
    batch: decision 0034); each entry's own time is in the bundle."""
    statement = select(func.min(_A.c.seq), func.max(_A.c.seq))
    if start is not None:
        statement = statement.where(_A.c.at >= iso_utc(start))
    if end is not None:
        statement = statement.where(_A.c.at < iso_utc(end))
    first, last = conn.execute(statement).one()
    if first is None:
        raise ConfigError("There are no audit entries in that time range; nothing was exported.")
    return int(first), int(last)


_LEAVES = FastStatement(select(_A.c.leaf_hash).where(_A.c.seq <= bindparam("size")).order_by(_A.c.seq))


def _tree(conn: Connection, size: int) -> MerkleTree:
    """The tree over every stored leaf hash up to ``size`` (a million in about a second); on a pruned trail, over
    the anchor checkpoint's frontier and the leaves held (every proof a bundle needs is about entries held)."""
    leaves = bytearray()
    for rows in _LEAVES.batches(conn, {"size": size}):
        leaves += bytes.fromhex("".join(row[0] for row in rows))
    first = prune.first_seq(conn)
    if first <= 1:
        return MerkleTree.from_concatenated(leaves)
    nodes = conn.execute(select(_C.c.frontier).where(_C.c.tree_size == first - 1)).scalar()
    if nodes is None:
        raise AuditTrailBroken(f"the trail starts at entry {first} and no checkpoint at {first - 1} anchors it")
    return MerkleTree.from_frontier(Frontier.from_hex(first - 1, nodes), leaves)


def _entries(conn: Connection, first: int, last: int) -> Iterator[dict[str, Any]]:
    position = first
    while position <= last:
        upper = min(last, position + _BATCH - 1)
        rows = conn.execute(select(_A).where(_A.c.seq.between(position, upper)).order_by(_A.c.seq)).fetchall()
        for row in rows:
            yield {
                "seq": row.seq,
                "at": row.at,
                "kind": row.kind,
                "actor": row.actor,
                "outcome": row.outcome,
                "subject": row.subject,
                "details": json.loads(row.details),
                "leaf_hash": row.leaf_hash,
                "chain_hash": row.chain_hash,
            }
        position = upper + 1


class _HashingWriter:
    """Writes one ZIP member and keeps the SHA-256 of what it wrote, for the manifest."""

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self._stream: IO[bytes] = archive.open(name, "w", force_zip64=True)
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except BaseException:
            # Closed here, or the archive's own close refuses ("an open writing handle") and hides why it failed
            # (a full disk). The archive is discarded: what this close could not write does not matter.
            with contextlib.suppress(OSError):
                self._stream.close()
            raise
        self.sha256.update(data)

    def close(self) -> str:
        self._stream.close()
        return self.sha256.hexdigest()


def _write_member(archive: zipfile.ZipFile, name: str, data: bytes) -> str:
    writer = _HashingWriter(archive, name)
    writer.write(data)
    return writer.close()


def _anchor(
    conn: Connection, tree: MerkleTree, final: Checkpoint, earlier: list[Checkpoint], first: int, previous: str
) -> dict[str, Any]:
    """What proves ``previous`` (the chain hash of entry first - 1): the newest bundled checkpoint at or before it
    and the leaf hashes between, each with its inclusion proof. Checked here: a tampered trail is not exported."""
    below = [c for c in earlier if c.tree_size <= first - 1]
    start = max(below, key=lambda c: c.tree_size) if below else None
    size, chain = (start.tree_size, start.chain_hash) if start else (0, GENESIS)
    bridge = []
    rows = conn.execute(
        select(_A.c.seq, _A.c.leaf_hash).where(_A.c.seq.between(size + 1, first - 1)).order_by(_A.c.seq)
    ).all()
    for seq, leaf in rows:
        path = [node.hex() for node in tree.inclusion_proof(seq - 1, final.tree_size)]
        bridge.append({"seq": seq, "leaf_hash": leaf, "path": path})
        chain = hashlib.sha256(bytes.fromhex(chain) + bytes.fromhex(leaf)).hexdigest()
    if len(rows) != first - 1 - size or chain != previous:
        raise AuditTrailBroken(f"the chain before entry {first} does not follow from the checkpoint at {size}")
    return {"checkpoint_tree_size": size, "bridge": bridge}


def export_bundle(
    conn: Connection,
    start: datetime | None,
    end: datetime | None,
    out: Path,
    *,
    seqs: tuple[int, int] | None = None,
) -> BundleInfo:
    """Write the evidence bundle of the entries timed in [start, end) to ``out`` (a ZIP, replaced atomically).

    ``seqs`` (first, last), given instead of times, bundles that range of sequence numbers (the Audit page's
    selection). Runs in a write transaction: a checkpoint is signed now, and every proof leads to its root.
    """
    if seqs is not None and (start is not None or end is not None):
        raise ValueError("a bundle is chosen by time or by sequence numbers, not both")
    out = Path(out)
    if not out.parent.is_dir():  # as every other export: a mistyped folder is said, not made
        raise ConfigError(f"The folder {out.parent} does not exist.")
    first, last = _chosen_seqs(conn, seqs) if seqs is not None else _seq_range(conn, start, end)
    final = checkpoint_now(conn)
    key = conn.execute(select(_K.c.private_key, _K.c.public_key).where(_K.c.id == final.key_id)).one()
    tree = _tree(conn, final.tree_size)
    if tree.size != final.tree_size or tree.root().hex() != final.root_hash:
        raise AuditTrailBroken("the stored leaf hashes do not give the signed root")
    previous = _chain_before(conn, first)
    earlier = [c for c in all_checkpoints(conn) if c.key_id == final.key_id and c.tree_size < final.tree_size]
    anchor = _anchor(conn, tree, final, earlier, first, previous)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".custos-bundle-", suffix=".zip", dir=out.parent)
    except OSError as exc:
        raise _cannot_write(out, exc) from exc
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            hashes, count = _write_contents(archive, conn, tree, final, earlier, first, last, key.public_key)
            hashes[ANCHOR] = _write_member(archive, ANCHOR, json.dumps(anchor, indent=1).encode() + b"\n")
            manifest = {
                "format": FORMAT,
                "log_id": final.log_id,
                "created": final.time,
                "range": {
                    "by": "seq" if seqs is not None else "time",
                    "from": iso_utc(start) if start else None,
                    "to": iso_utc(end) if end else None,
                    "first_seq": first,
                    "last_seq": last,
                    "prev_chain_hash": previous,
                },
                "counts": {"entries": count, "checkpoints": len(earlier) + 1},
                "final_checkpoint": {"tree_size": final.tree_size, "fingerprint": final.fingerprint},
                "key_id": final.key_id,
                "files": hashes,
            }
            manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
            archive.writestr(MANIFEST, manifest_bytes)
            signature = Ed25519PrivateKey.from_private_bytes(key.private_key).sign(manifest_bytes)
            archive.writestr(SIGNATURE, signature.hex() + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, out)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        found = _os_error(exc)
        if found is not None:  # a folder in its place, a full disk: a sentence, not a traceback
            raise _cannot_write(out, found) from exc
        raise
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    return BundleInfo(out, count, first, last, digest, final)


def _os_error(exc: BaseException | None) -> OSError | None:
    """The OSError behind ``exc``: the archive's close, failing in turn, may raise another error over it."""
    while exc is not None and not isinstance(exc, OSError):
        exc = exc.__context__
    return exc


def _cannot_write(out: Path, exc: OSError) -> ConfigError:
    return ConfigError(f"Cannot write {out}: {exc.strerror or type(exc).__name__}.")


def _chain_before(conn: Connection, first: int) -> str:
    """The chain hash of entry ``first - 1``: its own, or, when a prune removed it, the one its anchor checkpoint
    signs (the trail now starts at ``first``). It was read as the genesis hash, and a bundle of the whole trail of a
    pruned vault could not be exported ("the chain before entry N+1 does not follow")."""
    if first <= 1:
        return GENESIS
    stored = conn.execute(select(_A.c.chain_hash).where(_A.c.seq == first - 1)).scalar()
    if stored is not None:
        return str(stored)
    anchored = conn.execute(select(_C.c.chain_hash).where(_C.c.tree_size == first - 1)).scalar()
    if anchored is None:
        raise AuditTrailBroken(f"entry {first - 1} is missing and no checkpoint stands in for it")
    return str(anchored)


def _write_contents(
    archive: zipfile.ZipFile,
    conn: Connection,
    tree: MerkleTree,
    final: Checkpoint,
    earlier: list[Checkpoint],
    first: int,
    last: int,
    public_key: bytes,
) -> tuple[dict[str, str], int]:
    hashes: dict[str, str] = {}
    entries = _HashingWriter(archive, ENTRIES)
    count = 0
    proof_lines: list[bytes] = []
    for entry in _entries(conn, first, last):
        entries.write(canonical(entry) + b"\n")
        path = [node.hex() for node in tree.inclusion_proof(entry["seq"] - 1, final.tree_size)]
        proof_lines.append(canonical({"seq": entry["seq"], "path": path}))
        count += 1
    hashes[ENTRIES] = entries.close()
    proofs = _HashingWriter(archive, PROOFS)
    proofs.write(canonical({"tree_size": final.tree_size, "root_hash": final.root_hash})[:-1] + b',"proofs":[\n')
    proofs.write(b",\n".join(proof_lines) + b"\n]}\n")
    hashes[PROOFS] = proofs.close()
    documents = [
        {**c.signed(), "consistency_to_final": [n.hex() for n in tree.consistency_proof(c.tree_size, final.tree_size)]}
        for c in earlier
    ]
    documents.append({**final.signed(), "consistency_to_final": []})
    hashes[CHECKPOINTS] = _write_member(archive, CHECKPOINTS, json.dumps(documents, indent=1).encode() + b"\n")
    hashes[PUBLIC_KEY] = _write_member(archive, PUBLIC_KEY, public_key_pem(public_key))
    hashes[README] = _write_member(archive, README, _README.format(format=FORMAT).encode())
    return hashes, count
