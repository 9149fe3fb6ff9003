"""The RFC 9162 (Certificate Transparency 2.0) Merkle tree over the audit trail's leaf hashes, §2.1.

leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right), and a tree of n leaves splits at k, the
largest power of two smaller than n. The leaf hashes themselves come from app.audit.trail (``leaf_hash``).

Two shapes of the same tree:
- :class:`MerkleTree` keeps every complete node, level by level, in one flat ``bytearray`` per level (32 bytes
  a node, 64 MB for a million leaves), so the root of any prefix, an inclusion proof or a consistency proof
  costs O(log n) lookups. Used by verification and bundle export, which have all leaves at hand.
- :class:`Frontier` keeps only the O(log n) perfect subtrees on the right edge (a "compact range" from 0): the
  root of everything appended so far without holding the leaves. Stored with each checkpoint, so the next one
  reads only the leaves appended since.

Proof generation follows the recursive definitions of §2.1.3.1 and §2.1.4.1 on index ranges (depth log n, no
list copies); verification follows the iterative algorithms of §2.1.3.2 and §2.1.4.2 to the letter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """Every complete node of the tree, appended leaf hash by leaf hash (or in bulk)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._known: dict[int, tuple[int, bytes]] = {}  # level -> (index, node): a pruned trail's frontier
        self.pruned = 0  # leaves before this are gone (from_frontier): no root or proof below it
        self.extend(leaf_hashes)

    @classmethod
    def from_concatenated(cls, leaves: bytes | bytearray) -> MerkleTree:
        """A tree over leaf hashes given back to back (32 bytes each): the fast path for a million leaves."""
        if len(leaves) % HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        tree = cls()
        tree._levels[0] = bytearray(leaves)
        tree._build_parents()
        return tree

    @classmethod
    def from_frontier(cls, frontier: Frontier, leaves: bytes | bytearray) -> MerkleTree:
        """The tree of a pruned trail: the leaves before ``frontier.size`` are gone, its subtree roots stand in.

        Every node that covers a kept leaf is a hash of frontier nodes and kept leaves only (dyadic ranges nest: a
        node reaching past the frontier contains whole frontier subtrees), so the root of any size from
        ``frontier.size`` on, the inclusion proof of any kept leaf and the consistency proof from any size from
        ``frontier.size`` on are exact. The nodes inside a frontier subtree are unknown (left as zeros):
        ``pruned`` says below which size nothing may be asked.
        """
        if len(leaves) % HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        tree = cls()
        tree._levels[0] = bytearray(frontier.size * HASH_SIZE) + bytearray(leaves)
        tree._known = {}
        start = 0
        for bit in reversed(range(frontier.size.bit_length())):
            if frontier.size & (1 << bit):
                tree._known[bit] = (start >> bit, frontier.nodes[len(tree._known)])
                start += 1 << bit
        tree._build_parents()
        tree.pruned = frontier.size
        return tree

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for leaf in leaf_hashes:
            if len(leaf) != HASH_SIZE:
                raise ValueError("a leaf hash is 32 bytes")
            self._levels[0] += leaf
        self._build_parents()

    def _build_parents(self) -> None:
        """Create the parents that became complete, level by level (each node is hashed exactly once)."""
        sha256 = hashlib.sha256
        level = 0
        while self._place_known(level) and len(self._levels[level]) >= 2 * HASH_SIZE:
            if level + 1 == len(self._levels):
                self._levels.append(bytearray())
            below, above = self._levels[level], self._levels[level + 1]
            view = memoryview(below)
            step = 2 * HASH_SIZE
            above += b"".join(
                sha256(b"\x01" + view[i * step : (i + 1) * step]).digest()
                for i in range(len(above) // HASH_SIZE, len(below) // step)
            )
            view.release()
            level += 1

    def _place_known(self, level: int) -> bool:
        """Put the frontier node of ``level`` (if any) in place before its parents are hashed; always True."""
        known = self._known.get(level)
        if known is not None:
            index, node = known
            self._levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE] = node
        return True

    def leaf(self, index: int) -> bytes:
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _node(self, level: int, index: int) -> bytes:
        return bytes(self._levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]). O(log n) for every range the RFC's recursion produces (aligned ranges)."""
        if not 0 <= start <= end <= self.size:
            raise ValueError("range outside the tree")
        width = end - start
        if width == 0:
            return EMPTY_ROOT
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            return self._node(level, start >> level)
        k = split_point(width)
        return hash_children(self.subtree_hash(start, start + k), self.subtree_hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (default: all): every earlier tree head can be recomputed."""
        return self.subtree_hash(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError("leaf index outside the tree")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split_point(n)
        if m < k:
            return [*self._path(m, start, start + k), self.subtree_hash(start + k, end)]
        return [*self._path(m - k, start + k, end), self.subtree_hash(start, start + k)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the tree of ``first`` leaves is a prefix of the one of ``second``."""
        second = self.size if second is None else second
        if not 0 <= first <= second <= self.size:
            raise ValueError("tree sizes outside the tree")
        if first == 0 or first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self.subtree_hash(start, end)]
        k = split_point(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self.subtree_hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.subtree_hash(start, start + k)]

    def frontier(self, size: int | None = None) -> Frontier:
        """The compact range of the first ``size`` leaves, to carry on appending without the leaves."""
        size = self.size if size is None else size
        nodes = []
        start = 0
        for bit in reversed(range(size.bit_length())):
            width = 1 << bit
            if size & width:
                nodes.append(self.subtree_hash(start, start + width))
                start += width
        return Frontier(size, nodes)


class Frontier:
    """The perfect subtrees covering leaves [0, size), largest first: enough to append and to give the root."""

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if len(nodes) != bin(size).count("1"):
            raise ValueError("a frontier has one node per set bit of its size")
        self.size = size
        self.nodes = list(nodes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash: merge equal-sized subtrees, as a binary counter carries."""
        node = leaf
        carry = self.size
        while carry & 1:
            node = hash_children(self.nodes.pop(), node)
            carry >>= 1
        self.nodes.append(node)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        node = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            node = hash_children(left, node)
        return node

    def to_hex(self) -> str:
        return "".join(node.hex() for node in self.nodes)

    @classmethod
    def from_hex(cls, size: int, text: str) -> Frontier:
        raw = bytes.fromhex(text)
        return cls(size, [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)])


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes, streaming with O(log n) memory."""
    frontier = Frontier()
    frontier.extend(leaf_hashes)
    return frontier.root()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: is ``leaf`` the ``index``-th leaf of the tree of ``size`` leaves with ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``first`` leaves (``first_root``) a prefix of the one of ``second``?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
