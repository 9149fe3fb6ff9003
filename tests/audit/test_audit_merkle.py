"""The RFC 9162 tree: published vectors, an independent recursive reference, proofs that verify and fail."""

from __future__ import annotations

import hashlib
import random

import pytest

from app.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    hash_leaf,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of the Certificate Transparency reference tests and their published roots (sizes 1 to 8).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


# -- an independent reference: the RFC's recursive definitions on lists, as literally as possible ---------
def ref_mth(data: list[bytes]) -> bytes:
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:])).digest()


def ref_path(m: int, data: list[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, data[:k]), ref_mth(data[k:])]
    return [*ref_path(m - k, data[k:]), ref_mth(data[:k])]


def ref_subproof(m: int, data: list[bytes], whole: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if whole else [ref_mth(data)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, data[:k], whole), ref_mth(data[k:])]
    return [*ref_subproof(m - k, data[k:], False), ref_mth(data[:k])]


def tree_of(data: list[bytes]) -> MerkleTree:
    return MerkleTree(hash_leaf(d) for d in data)


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleTree().root() == EMPTY_ROOT == root_of([]) == Frontier().root()


def test_published_roots() -> None:
    tree = tree_of(CT_LEAVES)
    assert [tree.root(n).hex() for n in range(1, 9)] == CT_ROOTS


def test_hand_computed_small_trees() -> None:
    a, b, c = (hashlib.sha256(b"\x00" + x).digest() for x in (b"a", b"b", b"c"))
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    assert tree_of([b"a"]).root() == a
    assert tree_of([b"a", b"b"]).root() == ab
    assert tree_of([b"a", b"b", b"c"]).root() == hashlib.sha256(b"\x01" + ab + c).digest()  # split at k = 2


def test_published_proofs() -> None:
    tree = tree_of(CT_LEAVES)
    assert [p.hex() for p in tree.inclusion_proof(0, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in tree.consistency_proof(6, 8)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]


@pytest.mark.parametrize("seed", range(3))
def test_matches_the_reference_for_every_size_index_and_prefix(seed: int) -> None:
    rng = random.Random(seed)
    data = [rng.randbytes(rng.randint(0, 40)) for _ in range(67)]
    tree = tree_of(data)
    for n in range(1, len(data) + 1):
        root = ref_mth(data[:n])
        assert tree.root(n) == root
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            assert proof == ref_path(m, data[:n])
            assert verify_inclusion(m, n, hash_leaf(data[m]), proof, root)
        for m in range(1, n):
            proof = tree.consistency_proof(m, n)
            assert proof == ref_subproof(m, data[:n], True)
            assert verify_consistency(m, n, ref_mth(data[:m]), root, proof)


def test_trees_built_in_any_way_agree() -> None:
    rng = random.Random(11)
    leaves = [rng.randbytes(32) for _ in range(1000)]
    whole = MerkleTree.from_concatenated(b"".join(leaves))
    piecewise = MerkleTree()
    for start in range(0, 1000, 37):
        piecewise.extend(leaves[start : start + 37])
    frontier = Frontier()
    for n, leaf in enumerate(leaves, 1):
        frontier.append(leaf)
        if n in (1, 2, 3, 511, 512, 513, 1000):
            assert frontier.root() == whole.root(n) == piecewise.root(n)
            restored = Frontier.from_hex(n, whole.frontier(n).to_hex())
            assert restored.root() == frontier.root()
    assert root_of(leaves) == whole.root()


def test_inclusion_proofs_fail_for_another_leaf_place_size_or_root() -> None:
    rng = random.Random(5)
    data = [rng.randbytes(8) for _ in range(37)]
    tree = tree_of(data)
    root, leaf, proof = tree.root(), hash_leaf(data[12]), tree.inclusion_proof(12)
    assert verify_inclusion(12, 37, leaf, proof, root)
    assert not verify_inclusion(13, 37, leaf, proof, root)
    assert not verify_inclusion(12, 20, leaf, proof, root)  # another shape (sizes 33-37 share this one)
    assert not verify_inclusion(12, 37, hash_leaf(data[12] + b"!"), proof, root)
    assert not verify_inclusion(12, 37, leaf, proof[:-1], root)
    assert not verify_inclusion(12, 37, leaf, [*proof, proof[0]], root)
    assert not verify_inclusion(37, 37, leaf, proof, root)
    flipped = bytearray(proof[2])
    flipped[0] ^= 1
    assert not verify_inclusion(12, 37, leaf, [*proof[:2], bytes(flipped), *proof[3:]], root)


@pytest.mark.parametrize("first", [1, 4, 6, 13, 32, 40])
def test_consistency_fails_for_a_rewritten_prefix(first: int) -> None:
    rng = random.Random(first)
    data = [rng.randbytes(8) for _ in range(45)]
    old_root = ref_mth(data[:first])
    rewritten = list(data)
    rewritten[rng.randrange(first)] = b"rewritten"
    tree = tree_of(rewritten)
    proof = tree.consistency_proof(first, 45)
    assert verify_consistency(first, 45, tree.root(first), tree.root(), proof)
    assert not verify_consistency(first, 45, old_root, tree.root(), proof)  # the signed old head is not a prefix
    honest = tree_of(data)
    assert not verify_consistency(first, 45, old_root, tree.root(), honest.consistency_proof(first, 45))
    assert verify_consistency(first, 45, old_root, honest.root(), honest.consistency_proof(first, 45))


def test_consistency_edge_cases() -> None:
    tree = tree_of(CT_LEAVES)
    assert verify_consistency(8, 8, tree.root(), tree.root(), [])
    assert not verify_consistency(8, 8, tree.root(), tree.root(7), [])
    assert verify_consistency(0, 8, EMPTY_ROOT, tree.root(), [])
    assert not verify_consistency(3, 8, tree.root(3), tree.root(), [])
    assert not verify_consistency(5, 3, tree.root(5), tree.root(3), tree.consistency_proof(3, 5))


def test_a_tree_from_a_frontier_answers_as_the_whole_tree_for_every_kept_leaf() -> None:
    """A pruned trail (decision 0055): the frontier of the first n leaves stands in for them; every root from n on,
    every inclusion proof of a kept leaf and every consistency proof from n on equal the whole tree's."""
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(140)]
    whole = MerkleTree(leaves)
    for n in [1, 2, 3, 5, 8, 13, 31, 32, 33, 64, 100, 127, 128]:
        for size in (n, n + 1, n + 7, 140):
            tree = MerkleTree.from_frontier(whole.frontier(n), b"".join(leaves[n:size]))
            assert tree.root() == whole.root(size)
            assert all(tree.root(s) == whole.root(s) for s in range(n, size + 1))
            assert all(tree.inclusion_proof(i) == whole.inclusion_proof(i, size) for i in range(n, size))
            assert all(tree.consistency_proof(m) == whole.consistency_proof(m, size) for m in range(n, size + 1))
        grown = MerkleTree.from_frontier(whole.frontier(n), b"")
        grown.extend(leaves[n:])
        assert grown.root() == whole.root()
