"""Verifying an evidence bundle on its own (no vault, no network): manifest, checkpoints, anchor, entries; and
the statements of what an intact bundle proved, and what it did not."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit import prune
from app.audit.bundle_format import (
    ANCHOR,
    ENTRIES,
    ENTRY_FIELDS,
    MANIFEST,
    PROOFS,
    SIGNATURE,
    checkpoints_of,
    final_checkpoint,
    read_checkpoint_documents,
    read_manifest,
    read_public_key,
)
from app.audit.checkpoints import (
    Checkpoint,
    key_id_of,
)
from app.audit.merkle import verify_consistency, verify_inclusion
from app.audit.trail import GENESIS, canonical
from app.audit.verify_report import Breach, VerifyReport


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
    leaf = hashlib.sha256(b"\x00" + canonical({name: entry[name] for name in ENTRY_FIELDS})).digest()
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
