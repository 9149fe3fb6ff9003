"""The signed checkpoints against the entries read: roots, chain hashes, signatures, keys, and the
checkpoints or entries that are gone (a rewrite that recomputed every hash passes the entry checks and is caught
here, located to the smallest subtree that changed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from app.audit.checkpoints import Checkpoint, key_announcements, key_in_force
from app.audit.merkle import MerkleTree, verify_consistency
from app.audit.tables import SigningKey
from app.audit.verify_report import Breach
from app.audit.verify_scan import Scan, from_hex
from app.store.fastsql import driver_cursor
from app.store.models import VaultInfo

_K = SigningKey.__table__


def _rewritten_range(tree: MerkleTree, checkpoint: Checkpoint, frontier_hex: str | None, after: int) -> int:
    """The first seq a rewrite can have touched: after the last good checkpoint, within the first changed subtree."""
    if not frontier_hex:
        return after + 1
    try:
        nodes = bytes.fromhex(frontier_hex)
    except ValueError:
        return after + 1
    start, index = 0, 0
    for bit in reversed(range(checkpoint.tree_size.bit_length())):
        width = 1 << bit
        if checkpoint.tree_size & width:
            if nodes[32 * index : 32 * index + 32] != tree.subtree_hash(start, start + width):
                return max(after, start) + 1
            start, index = start + width, index + 1
    return after + 1


def _vault_keys(conn: Connection) -> dict[str, bytes]:
    """The public halves of the vault's own signing keys: trusted only to recognise this vault's checkpoints once
    the trail that announced them is gone (truncated or emptied)."""
    return {str(key_id): bytes(public) for key_id, public in conn.execute(select(_K.c.id, _K.c.public_key))}


_WRITTEN_AFTER = "SELECT min(seq) FROM audit_events WHERE seq > ? AND seq <= ? AND at > ?"


def _written_after(conn: Connection, checkpoint: Checkpoint, proven: int, count: int) -> int | None:
    """The first entry not proven by a sound checkpoint (after ``proven``) whose time is later than ``checkpoint``
    was signed although its seq is within the checkpoint: written after the trail was cut, in the place of what was
    removed. An entry's time is never later than its writing (request entries are timed before it), and the
    checkpoint signs entries already written, so on one clock this is never the case for an entry it covered."""
    cursor = driver_cursor(conn)
    try:
        cursor.execute(_WRITTEN_AFTER, (proven, count, checkpoint.time))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row and row[0] is not None else None


def _beyond_the_end(
    checkpoint: Checkpoint, label: str, scan: Scan, public: bytes | None, announced: bool, written_after: int | None
) -> Breach:
    """A checkpoint covering more entries than the trail holds: entries were cut off (when it is genuine).

    Entries appended after the cut (the next unlock writes one) take the removed entries' seqs: ``written_after``,
    the first of them, is where the trail stops being the one signed, not the first seq that is absent.

    The trail may also hold fewer entries because some went from within it while its last signed entry is still
    there (``scan.highest`` reaches the checkpoint): nothing was cut off the end then, and saying "entries
    count+1–size are missing" named entries that are present; the gaps themselves are reported where they are.
    """
    size, count = checkpoint.tree_size, scan.count
    if public is None or not checkpoint.signature_valid(public):
        what = (
            f"{label} covers {size} entries but the trail ends at {count}, and it cannot be verified (its key is "
            "neither announced on the trail nor held by the vault): entries were removed, or the checkpoint forged"
        )
        return Breach("checkpoint", what)
    gone = "" if announced else f"; its key {checkpoint.key_id} is this vault's, whose announcement went with them"
    if written_after is not None:
        what = (
            f"entries {written_after}–{size} are not the ones signed: {label} covers {size} entries, signed "
            f"{checkpoint.time}; the trail ends at {count}, and entries {written_after}–{count} were written after "
            f"that time in the place of removed ones{gone}"
        )
        return Breach("removed", what, written_after)
    if count and scan.highest >= size:
        fewer = size - count
        what = (
            f"{label} covers {size} entries and the trail holds {count} up to seq {scan.highest}: {fewer} signed "
            f"{'entry is' if fewer == 1 else 'entries are'} missing from within it, none cut off its end{gone}"
        )
        return Breach("removed", what, scan.missing[0] if scan.missing else None)
    missing = "every entry is missing (the trail is empty)" if count == 0 else _missing_span(count + 1, size)
    return Breach("removed", f"{missing}: {label} covers {size} entries, the trail ends at {count}{gone}", count + 1)


def _missing_span(first: int, last: int) -> str:
    return f"entry {first} is missing" if first == last else f"entries {first}–{last} are missing"


def check_checkpoints(
    conn: Connection,
    tree: MerkleTree,
    scan: Scan,
    checkpoints: list[Checkpoint],
    frontiers: dict[int, str],
    carried: tuple[tuple[int, str, bytes], ...] = (),
) -> list[Breach]:
    """``carried``: the key announcements a prune removed, as its record restates them (a pruned trail only)."""
    announcements = sorted([*carried, *key_announcements(conn)])
    walk = _Walk(
        conn,
        tree,
        scan,
        frontiers,
        announcements,
        announced={key_id: public for _, key_id, public in announcements},
        log_id=conn.execute(select(VaultInfo.value).where(VaultInfo.key == "vault_id")).scalar() or "",
        good_size=scan.start,
        # the failing entries explain the roots from the first of them on
        explained_up_to=scan.suspects[0].position if scan.suspects else scan.count + 1,
    )
    for checkpoint in checkpoints:
        if checkpoint.tree_size < scan.start:
            continue  # left from before a prune: it signs only removed entries, nothing held can be checked against it
        sound = walk.step(checkpoint)
        walk.previous, walk.previous_sound = checkpoint, sound
    return walk.finish(checkpoints)


@dataclass
class _Walk:
    """The checkpoints in tree-size order, and what one tells the next: how far the entries are proven
    (``good_size``), the previous checkpoint and whether it was sound, the largest cut-off the trail shows."""

    conn: Connection
    tree: MerkleTree
    scan: Scan
    frontiers: dict[int, str]
    announcements: list[tuple[int, str, bytes]]
    announced: dict[str, bytes]
    log_id: str
    good_size: int
    explained_up_to: int
    breaches: list[Breach] = field(default_factory=list)
    previous: Checkpoint | None = None
    previous_sound: bool = False
    truncation: Breach | None = None

    def step(self, checkpoint: Checkpoint) -> bool:
        """Judge one checkpoint; True when it is sound (trusted, and its root and chain hash match)."""
        label = f"the checkpoint at tree size {checkpoint.tree_size} ({checkpoint.fingerprint})"
        key = key_in_force(self.announcements, checkpoint.tree_size)
        in_force = key is not None and key[0] == checkpoint.key_id
        public = key[1] if in_force and key else self.announced.get(checkpoint.key_id)
        if checkpoint.tree_size > self.scan.count:  # before the key: a cut-off trail may have lost its announcement
            self._beyond_the_end(checkpoint, label, public)
            return False
        if not self._trusted(checkpoint, label, public):
            return False  # an untrusted checkpoint says nothing about the entries
        if checkpoint.log_id != self.log_id:
            self.breaches.append(Breach("checkpoint", f"{label} belongs to another vault's trail"))
        sound = self._matches(checkpoint, label, in_force)
        if sound and self.previous is not None and self.previous_sound:
            self._extends(self.previous, checkpoint, label)
        return sound

    def _beyond_the_end(self, checkpoint: Checkpoint, label: str, public: bytes | None) -> None:
        public = public or _vault_keys(self.conn).get(checkpoint.key_id)
        count = self.scan.count
        after = _written_after(self.conn, checkpoint, self.good_size, count) if count else None
        breach = _beyond_the_end(checkpoint, label, self.scan, public, checkpoint.key_id in self.announced, after)
        if breach.kind == "removed":  # the largest genuine checkpoint tells best how much is missing
            self.truncation = breach
        else:
            self.breaches.append(breach)

    def _trusted(self, checkpoint: Checkpoint, label: str, public: bytes | None) -> bool:
        if public is None:
            self.breaches.append(
                Breach("checkpoint", f"{label} is signed with a key that was not in force at that size")
            )
            return False
        if not checkpoint.signature_valid(public):
            self.breaches.append(Breach("checkpoint", f"{label} has a signature that does not verify"))
            return False
        return True

    def _matches(self, checkpoint: Checkpoint, label: str, in_force: bool) -> bool:
        """Its root and chain hash against the entries read.

        Signed with this trail's key but announced after ``size`` now: either entries before the announcement
        were inserted or renumbered (the entries or the root below say where), or the checkpoint was re-signed
        with a later key (the root still matches: the epoch rule of CVE-2023-31439 rejects it)."""
        size = checkpoint.tree_size
        if size >= self.explained_up_to:
            return False  # the roots from here on differ because of the failing entries already reported
        if self.tree.root(size).hex() != checkpoint.root_hash:
            first = _rewritten_range(self.tree, checkpoint, self.frontiers.get(size), self.good_size)
            what = f"entries {first}–{size} no longer match the signed root of {label} (history rewritten)"
            self.breaches.append(Breach("rewritten", what, first))
            self.good_size = first - 1  # its matching subtrees prove the entries before ``first`` unchanged
            return False
        if not in_force:
            what = f"{label} is signed with a key that was not in force at that size"
            self.breaches.append(Breach("checkpoint", what))
            return False
        if self.scan.chain_at.get(size) != checkpoint.chain_hash:
            self.breaches.append(Breach("rewritten", f"the chain hash at entry {size} differs from {label}", size))
            return False
        self.good_size = size
        return True

    def _extends(self, previous: Checkpoint, checkpoint: Checkpoint, label: str) -> None:
        """Two sound checkpoints in a row: the later tree must extend the earlier (RFC 9162 consistency)."""
        size = checkpoint.tree_size
        proof = self.tree.consistency_proof(previous.tree_size, size)
        old_root, new_root = from_hex(previous.root_hash), from_hex(checkpoint.root_hash)
        if (
            old_root is None
            or new_root is None
            or not verify_consistency(previous.tree_size, size, old_root, new_root, proof)
        ):
            what = f"{label} does not extend the checkpoint at tree size {previous.tree_size}"
            self.breaches.append(Breach("checkpoint", what))

    def finish(self, checkpoints: list[Checkpoint]) -> list[Breach]:
        """The breaches found one checkpoint at a time, then those of checkpoints and keys that are gone."""
        breaches = self.breaches
        if self.truncation is not None:
            breaches.append(self.truncation)
        # A prune removes the checkpoints before its anchor: the announcements it carried have none left (by design).
        kept = [a for a in self.announcements if a[0] >= self.scan.start]
        breaches.extend(_deleted_checkpoints(kept, checkpoints))
        if self.truncation is None:
            breaches.extend(_unannounced_keys(_vault_keys(self.conn), self.announced, checkpoints))
        return breaches


def _unannounced_keys(
    keys: dict[str, bytes], announced: dict[str, bytes], checkpoints: list[Checkpoint]
) -> list[Breach]:
    """A signing key is made, announced on the trail and used for a checkpoint in one transaction: a key of the
    vault with neither its announcement nor any checkpoint left means entries and checkpoints were both deleted
    (checkpoints still there are judged above)."""
    signed = {c.key_id for c in checkpoints}
    return [
        Breach(
            "removed",
            f"entries and checkpoints were deleted: the vault's signing key {key_id} was announced on the trail "
            "when it was made, and neither that entry nor any checkpoint it signed is left",
        )
        for key_id in sorted(keys)
        if key_id not in announced and key_id not in signed
    ]


def _deleted_checkpoints(announcements: list[tuple[int, str, bytes]], checkpoints: list[Checkpoint]) -> list[Breach]:
    """A key is announced on the trail only by the checkpoint signed with it right then, in the same transaction
    (app/audit/checkpoints.py): that checkpoint's tree size is the announcement's seq. Without it, checkpoints were
    deleted, and the entries they covered may no longer be under any signature."""
    breaches = []
    for seq, key_id, _ in announcements:
        # One at a smaller size means the announcement itself moved (entries inserted before it): reported there.
        if not any(c.key_id == key_id and c.tree_size <= seq for c in checkpoints):
            what = (
                f"checkpoints were deleted: the one signed when the key {key_id} was announced (tree size {seq}) is "
                f"gone ({len(checkpoints)} checkpoint(s) left)"
            )
            breaches.append(Breach("checkpoint", what))
    return breaches
