"""Evidence bundles: a slice of the audit trail that anyone can verify offline, without the vault.

One ZIP file:
- ``entries.jsonl``   the stored entries of the range, one canonical JSON object a line, with their hashes;
- ``proofs.json``     the RFC 9162 inclusion proof of each entry in the tree signed by the final checkpoint;
- ``checkpoints.json`` the signed checkpoints (the final one, made at export, last), each with the consistency
  proof that the final tree extends it;
- ``public_key.pem``  the Ed25519 key that signed them;
- ``README.txt``      how to verify, by hand or with ``custos audit verify-bundle``;
- ``manifest.json``   format, range, counts, the SHA-256 of each file; ``manifest.sig`` its signature, so that
  entries cannot be cut off the ends of the range unnoticed.

- ``anchor.json``     what proves the chain hash of the entry before the range (``prev_chain_hash``): the
  newest bundled checkpoint at or before that entry (its signed ``chain_hash``; tree size 0 is the trail's
  start) and the leaf hashes from there to the entry before the range, each with its inclusion proof.

A bundle of a range does not hold the entries before it, so it cannot check them: it proves each included
entry's content and place (inclusion proofs in the signed tree) and their chain from the hash of the entry
before the range, and that hash from a signed checkpoint through the bridging leaf hashes. Bundles written
before anchor.json existed state ``prev_chain_hash`` in the signed manifest only; the verifier says so.
"""

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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, bindparam, func, select

from app.audit import prune
from app.audit.checkpoints import (
    AuditTrailBroken,
    Checkpoint,
    all_checkpoints,
    checkpoint_now,
    key_id_of,
    public_key_from_pem,
    public_key_pem,
)
from app.audit.merkle import Frontier, MerkleTree, verify_consistency, verify_inclusion
from app.audit.tables import AuditCheckpoint, AuditEvent, SigningKey
from app.audit.trail import GENESIS, canonical, iso_utc
from app.audit.verify import Breach, VerifyReport
from app.core.errors import ConfigError
from app.store.fastsql import FastStatement

FORMAT = "custos-audit-bundle/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
ENTRIES, PROOFS, CHECKPOINTS, PUBLIC_KEY, README, ANCHOR = (
    "entries.jsonl",
    "proofs.json",
    "checkpoints.json",
    "public_key.pem",
    "README.txt",
    "anchor.json",
)
_A = AuditEvent.__table__
_K = SigningKey.__table__
_C = AuditCheckpoint.__table__
_BATCH = 5000
_ENTRY_FIELDS = ("seq", "at", "kind", "actor", "outcome", "subject", "details")


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


# -- export ----------------------------------------------------------------------------------------------
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


# -- reading (shared by verification and app.audit.bundle_read) -------------------------------------------
def read_manifest(bundle: zipfile.ZipFile) -> tuple[bytes, dict[str, Any]]:
    """The manifest's bytes (what manifest.sig signs) and its content; ValueError if not a known bundle format."""
    manifest_bytes = bundle.read(MANIFEST)
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != FORMAT:
        raise ValueError("not a Custos audit bundle of a known format")
    return manifest_bytes, manifest


def read_public_key(bundle: zipfile.ZipFile) -> bytes:
    """The raw Ed25519 key of public_key.pem; ValueError if it is not one."""
    return public_key_from_pem(bundle.read(PUBLIC_KEY))


def read_checkpoint_documents(bundle: zipfile.ZipFile) -> list[dict[str, Any]]:
    """checkpoints.json as written: each signed checkpoint with its ``consistency_to_final`` proof."""
    documents: list[dict[str, Any]] = json.loads(bundle.read(CHECKPOINTS))
    return documents


def checkpoints_of(documents: list[dict[str, Any]]) -> list[Checkpoint]:
    return [Checkpoint.from_signed({k: v for k, v in d.items() if k != "consistency_to_final"}) for d in documents]


def final_checkpoint(checkpoints: list[Checkpoint]) -> Checkpoint:
    """The one every proof leads to: the largest tree (ValueError if there is none)."""
    return max(checkpoints, key=lambda c: c.tree_size)


# -- verification ----------------------------------------------------------------------------------------
def _hex32(text: Any) -> bytes:
    value = bytes.fromhex(text)
    if len(value) != 32:
        raise ValueError("not a SHA-256 hash")
    return value


def _check_manifest(
    bundle: zipfile.ZipFile, public_key: bytes, trusted_key_id: str | None
) -> tuple[dict[str, Any], list[Breach]]:
    breaches: list[Breach] = []
    manifest_bytes, manifest = read_manifest(bundle)
    key_id = key_id_of(public_key)
    if trusted_key_id and key_id != trusted_key_id.lower():
        breaches.append(Breach("bundle", f"the bundled public key is {key_id}, not the trusted key {trusted_key_id}"))
    if manifest.get("key_id") != key_id:
        breaches.append(Breach("bundle", "the manifest names another key than the bundled public key"))
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(bundle.read(SIGNATURE).decode().strip()), manifest_bytes
        )
    except (InvalidSignature, ValueError, KeyError):
        breaches.append(Breach("bundle", "the manifest's signature does not verify with the bundled public key"))
    breaches.extend(_unlisted_members(bundle, manifest))
    for name, expected in sorted(manifest.get("files", {}).items()):
        try:
            actual = hashlib.sha256(bundle.read(name)).hexdigest()
        except KeyError:
            breaches.append(Breach("bundle", f"{name} is missing"))
            continue
        if actual != expected:
            breaches.append(Breach("bundle", f"{name} does not match the SHA-256 in the manifest (altered)"))
    return manifest, breaches


def _unlisted_members(bundle: zipfile.ZipFile, manifest: dict[str, Any]) -> list[Breach]:
    """Every member must be signed for: a file added to a bundle (a forged note, a second copy of the entries that
    another reader might open instead) is a breach, not a bonus."""
    signed = set(manifest.get("files", {})) | {MANIFEST, SIGNATURE}
    names = bundle.namelist()
    breaches = []
    for name in sorted(set(names)):
        if name not in signed:
            breaches.append(Breach("bundle", f"{name} is not listed in the signed manifest (added to the bundle)"))
        elif names.count(name) > 1:
            breaches.append(Breach("bundle", f"{name} appears {names.count(name)} times (a copy was added)"))
    return breaches


def _check_checkpoints(documents: list[dict[str, Any]], public_key: bytes) -> tuple[Checkpoint, list[Breach]]:
    breaches: list[Breach] = []
    key_id = key_id_of(public_key)
    checkpoints = checkpoints_of(documents)
    final = final_checkpoint(checkpoints)
    if checkpoints[-1] is not final:
        breaches.append(Breach("checkpoint", "the final checkpoint is not the last one listed"))
    for checkpoint, document in zip(checkpoints, documents, strict=True):
        label = f"the checkpoint at tree size {checkpoint.tree_size} ({checkpoint.fingerprint})"
        if checkpoint.key_id != key_id or not checkpoint.signature_valid(public_key):
            breaches.append(Breach("checkpoint", f"{label} is not signed by the bundled public key"))
        if checkpoint is final:
            continue
        proof = [_hex32(node) for node in document.get("consistency_to_final", [])]
        roots = _hex32(checkpoint.root_hash), _hex32(final.root_hash)
        if not verify_consistency(checkpoint.tree_size, final.tree_size, *roots, proof):
            breaches.append(Breach("checkpoint", f"the final tree does not extend {label} (consistency proof fails)"))
    return final, breaches


def _entry_breach(
    entry: dict[str, Any],
    expected: int,
    previous: bytes,
    proof: dict[str, Any],
    final: Checkpoint,
    signed_chains: dict[int, Checkpoint],
) -> tuple[Breach | None, bytes]:
    """Check one entry, which carries the seq expected here; returns the breach (or None) and the chain hash to
    continue from."""
    seq = expected  # the caller has checked that the entry carries it
    stored_chain = _hex32(entry["chain_hash"])
    leaf = hashlib.sha256(b"\x00" + canonical({name: entry[name] for name in _ENTRY_FIELDS})).digest()
    if leaf.hex() != entry["leaf_hash"]:
        return Breach("altered", "its content does not match its leaf hash", seq), stored_chain
    path = [_hex32(node) for node in proof.get("path", [])] if proof.get("seq") == seq else None
    if path is None or not verify_inclusion(seq - 1, final.tree_size, leaf, path, _hex32(final.root_hash)):
        return Breach(
            "altered", "it is not at this place in the signed tree (inclusion proof fails)", seq
        ), stored_chain
    if hashlib.sha256(previous + leaf).digest() != stored_chain:
        return Breach("altered", "its chain hash does not follow from the previous entry", seq), stored_chain
    signed = signed_chains.get(seq)
    if signed is not None and entry["chain_hash"] != signed.chain_hash:
        what = f"its chain hash differs from the one checkpoint {signed.fingerprint} signs for it"
        return Breach("altered", what, seq), stored_chain
    return None, stored_chain


def _misplaced(expected: int, seq: object, following: set[int]) -> Breach:
    """Another entry where entry ``expected`` belongs: was it moved (it comes later in the bundle), or is it gone?
    "Entries are missing before it" was said of both, at the seq of the entry that is not there, so two swapped
    entries read as a deletion and a deletion did not say which entry went."""
    if not isinstance(seq, int) or isinstance(seq, bool):
        return Breach("altered", f"the entry here carries no valid seq (entry {expected} belongs here)", expected)
    if seq < expected:
        return Breach("reordered", f"entry {seq} is here, out of order: entry {expected} belongs here", expected)
    if expected in following:
        return Breach("reordered", f"entry {seq} is here, and entry {expected} comes later in the bundle", expected)
    gone = [n for n in range(expected, seq) if n not in following]
    span = f"entry {gone[0]} is" if len(gone) == 1 else f"entries {gone[0]}–{gone[-1]} are"
    moved = "" if len(gone) == seq - expected else " (others of them come later in the bundle, out of order)"
    return Breach("removed", f"{span} missing: entry {seq} follows entry {expected - 1}{moved}", expected)


def _seqs(lines: list[bytes]) -> set[int]:
    seqs = set()
    for line in lines:
        try:
            seq = json.loads(line).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int):
            seqs.add(seq)
    return seqs


def _check_entries(
    bundle: zipfile.ZipFile, manifest: dict[str, Any], final: Checkpoint, checkpoints: list[Checkpoint]
) -> tuple[int, list[Breach]]:
    proofs = json.loads(bundle.read(PROOFS))
    if proofs.get("tree_size") != final.tree_size or proofs.get("root_hash") != final.root_hash:
        return 0, [Breach("bundle", "proofs.json is not made for the final checkpoint")]
    span = manifest["range"]
    expected, previous = int(span["first_seq"]), _hex32(span["prev_chain_hash"])
    breaches: list[Breach] = []
    count = 0
    lines = bundle.read(ENTRIES).splitlines()
    signed_chains = {c.tree_size: c for c in checkpoints}  # a checkpoint signs the chain hash of its last entry
    for index, line in enumerate(lines):
        count += 1
        proof = proofs["proofs"][index] if index < len(proofs["proofs"]) else {}
        try:
            entry = json.loads(line)
            breach: Breach | None
            if entry.get("seq") != expected:  # the rest of the bundle says whether it moved or went
                breach = _misplaced(expected, entry.get("seq"), _seqs(lines[index + 1 :]))
            else:
                breach, previous = _entry_breach(entry, expected, previous, proof, final, signed_chains)
        except (ValueError, KeyError, TypeError, AttributeError):
            breach = Breach("altered", "the entry is not readable", expected)
        if breach is not None:
            breaches.append(breach)
            break  # the first failing entry is what a reviewer needs; later ones depend on it
        expected += 1
    if not breaches and (expected - 1 != span["last_seq"] or count != manifest["counts"]["entries"]):
        breaches.append(_wrong_end(expected, int(span["last_seq"])))
    return count, breaches


def _wrong_end(expected: int, last: int) -> Breach:
    """Every entry in order, but the run does not end where the signed manifest says."""
    if expected <= last:
        span = f"entry {last} is" if expected == last else f"entries {expected}–{last} are"
        return Breach(
            "removed", f"{span} missing at the end: the signed manifest says the range ends at seq {last}", expected
        )
    what = f"entries after seq {last} were added: the signed manifest says the range ends there"
    return Breach("inserted", what, last + 1)


@dataclass(frozen=True)
class _Anchor:
    """How the chain hash before the range was established: from a signed checkpoint (``checkpoint``; None with
    ``size`` 0: the trail's start) through ``bridge`` leaf hashes, or (``proven`` False) only as the manifest
    states it (bundles written before anchor.json)."""

    proven: bool
    size: int = 0
    checkpoint: Checkpoint | None = None
    bridge: int = 0


def _check_anchor(
    bundle: zipfile.ZipFile, manifest: dict[str, Any], checkpoints: list[Checkpoint], final: Checkpoint
) -> tuple[_Anchor, list[Breach]]:
    """Does the chain hash the range starts from (``prev_chain_hash``) follow from a signed checkpoint?"""
    span = manifest["range"]
    first, stated = int(span["first_seq"]), str(span["prev_chain_hash"])
    if ANCHOR not in manifest.get("files", {}):
        if first == 1 and stated == GENESIS:  # the trail's start needs no proof
            return _Anchor(True), []
        if first == 1:
            return _Anchor(False), [Breach("altered", "the first entry of the trail does not start the chain", 1)]
        return _Anchor(False), []
    anchor = json.loads(bundle.read(ANCHOR))
    size = int(anchor["checkpoint_tree_size"])
    by_size = {c.tree_size: c for c in checkpoints}
    start = by_size.get(size)
    where = f"entry {first - 1}" if first > 1 else "the trail's start"
    if not 0 <= size <= first - 1:
        return _Anchor(False), [Breach("bundle", f"anchor.json starts at tree size {size}, not before the range")]
    if size != 0 and start is None:
        return _Anchor(False), [Breach("bundle", f"anchor.json names a checkpoint at tree size {size} not bundled")]
    chain = bytes.fromhex(start.chain_hash if start else GENESIS)
    bridge = anchor.get("bridge", [])
    root = _hex32(final.root_hash)
    for expected, link in enumerate(bridge, start=size + 1):
        leaf = _hex32(link["leaf_hash"])
        path = [_hex32(node) for node in link["path"]]
        if link.get("seq") != expected or not verify_inclusion(expected - 1, final.tree_size, leaf, path, root):
            what = f"the bridge to {where} is not in the signed tree at entry {expected} (inclusion proof fails)"
            return _Anchor(False), [Breach("altered", what, expected)]
        chain = hashlib.sha256(chain + leaf).digest()
    if size + len(bridge) != first - 1:
        return _Anchor(False), [Breach("bundle", f"anchor.json does not reach {where}")]
    if chain.hex() != stated:
        what = f"the chain hash the range starts from is not {where}'s as the signed checkpoints establish it"
        return _Anchor(False), [Breach("altered", what, first)]
    return _Anchor(True, size, start, len(bridge)), []


NOT_PROVED = "not the whole trail: "  # the prefix of the statement that says what a bundle did not prove


def split_proved(statements: list[str]) -> tuple[list[str], list[str]]:
    """(what a bundle proved, what it did not): printed as "Proved:" and "Not proved:" lines, so that a caveat
    is never read as a proof."""
    return ([s for s in statements if not s.startswith(NOT_PROVED)],
            [s.removeprefix(NOT_PROVED) for s in statements if s.startswith(NOT_PROVED)])  # fmt: skip


@dataclass(frozen=True)
class _Pruned:
    """A prune record among a bundle's (verified) entries: entries 1–``up_to`` were removed under ``period``."""

    seq: int
    up_to: int
    period: str
    before: str


def _pruned_in(bundle: zipfile.ZipFile) -> _Pruned | None:
    """The newest ``audit.pruned`` entry the bundle holds, read only once the entries verified."""
    found = None
    for line in bundle.read(ENTRIES).splitlines():
        entry = json.loads(line)
        if entry.get("kind") != prune.KIND:
            continue
        details = entry["details"] if isinstance(entry["details"], dict) else json.loads(entry["details"])
        record = _Pruned(int(entry["seq"]), int(details["last_seq"]), str(details["period"]), str(details["before"]))
        if found is None or record.up_to > found.up_to:
            found = record
    return found


def _pruned_statements(pruned: _Pruned | None, first: int) -> tuple[list[str], bool]:
    """What the bundle says of entries 1–``first - 1`` when a prune it verifies removed exactly those: that they
    were pruned, by which record (proved, since the record is among the entries checked), and that their content no
    longer exists (not proved: it is gone). ``False``: not that case, the usual "not in this bundle" stands."""
    if pruned is None or first <= 1 or pruned.up_to != first - 1:
        return [], False
    return [
        f"entries 1–{pruned.up_to} were removed by the prune recorded at entry {pruned.seq} (the trail's retention "
        f"period {pruned.period}: entries timed before {pruned.before})",
        f"{NOT_PROVED}the content of entries 1–{pruned.up_to}: they were pruned and no longer exist in the vault",
    ], True


def proved_statements(
    manifest: dict[str, Any], final: Checkpoint, count: int, anchor: _Anchor, pruned: _Pruned | None = None
) -> list[str]:
    """What an intact bundle proves, and what it does not: every sentence is what the checks above established."""
    span = manifest["range"]
    first, last, size = int(span["first_seq"]), int(span["last_seq"]), final.tree_size
    place = (
        f"entries {first}–{last} ({count:,}) are unchanged and at their places in the trail of {size:,} entries "
        f"whose Merkle root checkpoint {final.fingerprint} signs ({final.time})"
    )
    statements = [place]
    previous = str(span["prev_chain_hash"])[:16]
    if first == 1:
        statements.append("their hash chain is unbroken from the trail's start")
    elif not anchor.proven:
        statements.append(
            f"their hash chain is unbroken from entry {first - 1}'s chain hash {previous}… as the signed manifest "
            "states it; no checkpoint proves that hash (a bundle from an earlier version, without anchor.json)"
        )
    else:
        source = (
            f"checkpoint {anchor.checkpoint.fingerprint} at tree size {anchor.size:,}"
            if anchor.checkpoint
            else "the trail's start"
        )
        bridged = f"entry {first - 1}" if anchor.bridge == 1 else f"entries {anchor.size + 1}–{first - 1}"
        through = f" through the leaf hash{'es' if anchor.bridge > 1 else ''} of {bridged}" if anchor.bridge else ""
        statements.append(
            f"their hash chain is unbroken from entry {first - 1}'s chain hash {previous}…, "
            f"which follows from {source}{through}"
        )
    said, prefix_pruned = _pruned_statements(pruned, first)
    statements += said
    outside = [(low, high) for low, high in ((1, first - 1), (last + 1, size)) if low <= high]
    window = [f"from {span['from']}" if span.get("from") else "", f"to before {span['to']}" if span.get("to") else ""]
    if outside and span.get("by") == "time" and any(window):  # asked for a time range: say it, and what it rests on
        statements.append(
            f"{NOT_PROVED}that every entry timed {' '.join(w for w in window if w)} is among entries {first}–{last}: "
            "Custos chose them by their times when it exported them, as the signed manifest says; the entries "
            "outside were not checked"
        )
    unread = outside[1:] if prefix_pruned else outside  # a pruned prefix is said above: no content left to read
    if unread:
        noun = "entry" if len(unread) == 1 and unread[0][0] == unread[0][1] else "entries"
        spans = " and ".join(f"{low}–{high}" if low < high else f"{low}" for low, high in unread)
        statements.append(  # a limit, not a proof: printed as "Not proved:" (see ``limits_of``)
            f"{NOT_PROVED}the content of {noun} {spans} is not in this bundle and was not checked"
        )
    elif not outside:
        statements.append(f"the whole trail as signed by checkpoint {final.fingerprint}")
    else:
        statements.append(f"every entry the trail still holds, as signed by checkpoint {final.fingerprint}")
    return statements


def verify_bundle(path: Path, trusted_key_id: str | None = None) -> VerifyReport:
    """Verify an evidence bundle on its own: no vault, no database, no network.

    ``trusted_key_id``: the signing key's id as anchored elsewhere; without it, a bundle wholly re-signed with
    another key is only told apart by comparing the printed key id and fingerprints with their anchors.
    """
    report = VerifyReport()
    try:
        with zipfile.ZipFile(path) as archive:
            public_key = read_public_key(archive)
            manifest, manifest_breaches = _check_manifest(archive, public_key, trusted_key_id)
            documents = read_checkpoint_documents(archive)
            final, checkpoint_breaches = _check_checkpoints(documents, public_key)
            checkpoints = checkpoints_of(documents)
            anchor, anchor_breaches = _check_anchor(archive, manifest, checkpoints, final)
            count, entry_breaches = _check_entries(archive, manifest, final, checkpoints)
    except (OSError, zipfile.BadZipFile) as exc:
        report.breaches.append(Breach("bundle", f"not a readable ZIP file ({type(exc).__name__})"))
        return report
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        report.breaches.append(Breach("bundle", f"a file of the bundle is missing or malformed ({type(exc).__name__})"))
        return report
    report.entries = count
    report.checkpoints = len(documents)
    report.root = final.root_hash
    report.last_checkpoint = final
    report.breaches = anchor_breaches + entry_breaches + checkpoint_breaches + manifest_breaches
    span = manifest["range"]
    report.notes.append(
        f"entries {span['first_seq']}–{span['last_seq']} of a trail of {final.tree_size}; "
        f"key {key_id_of(public_key)}, final checkpoint {final.fingerprint} signed {final.time}"
    )
    if report.ok:  # a broken bundle proves nothing
        with zipfile.ZipFile(path) as archive:
            pruned = _pruned_in(archive)
        report.proved = proved_statements(manifest, final, count, anchor, pruned)
        if not trusted_key_id:
            report.assumed.append(unanchored_key(key_id_of(public_key)))
    return report


def unanchored_key(key_id: str) -> str:
    """Every signature of a bundle is checked against the public key it carries: a bundle wholly re-signed with
    another key verifies as well. Without a key id known from elsewhere, the verdict must say so."""
    return (
        f"that key {key_id} is the vault's signing key: no trusted key id was given, so the signatures were checked "
        f"against the key the bundle carries; compare {key_id} with the key id kept elsewhere (paper, e-mail, SIEM) "
        "or verify with --key-id"
    )
