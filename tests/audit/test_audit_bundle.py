"""Evidence bundles verify on their own and fail, at the right entry, when anything in them is altered."""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.bundle import export_bundle, unanchored_key, verify_bundle
from app.audit.checkpoints import Checkpoint, key_id_of, public_key_pem
from app.audit.trail import canonical
from app.core.errors import ConfigError
from app.store.vault import Vault
from tests.audit.conftest import START, rolled_back

Members = dict[str, bytes]


@pytest.fixture(scope="module")
def bundle(trail_vault: Vault, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Entries 20 to 91 of the module's trail (by time), exported in a transaction that is rolled back."""
    path = tmp_path_factory.mktemp("bundle") / "evidence.zip"
    with rolled_back(trail_vault) as conn:
        info = export_bundle(conn, START + timedelta(seconds=7 * 18), START + timedelta(seconds=7 * 89), path)
    # seq is i + 2 (after vault.created) and i + 3 after the signing key was announced at seq 27
    assert (info.entries, info.first_seq, info.last_seq) == (72, 20, 91)
    return path


def members(path: Path) -> Members:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(source: Path, target: Path, change: Callable[[Members], None], fix_manifest: bool = True) -> Path:
    """A copy of the bundle with ``change`` applied; the manifest's hashes updated (it cannot be re-signed)."""
    contents = members(source)
    change(contents)
    if fix_manifest:
        manifest = json.loads(contents["manifest.json"])
        for name in manifest["files"]:
            import hashlib

            manifest["files"][name] = hashlib.sha256(contents[name]).hexdigest()
        contents["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return target


def entry_lines(contents: Members) -> list[dict[str, object]]:
    return [json.loads(line) for line in contents["entries.jsonl"].splitlines()]


def set_entries(contents: Members, entries: list[dict[str, object]]) -> None:
    contents["entries.jsonl"] = b"".join(canonical(e) + b"\n" for e in entries)


def test_bundle_verifies_alone_in_a_fresh_folder(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "copy.zip"
    copy.parent.mkdir()
    shutil.copy(bundle, copy)
    report = verify_bundle(copy)
    assert report.ok, report.breaches
    assert report.summary("Evidence bundle").startswith("Evidence bundle intact: 72 entries, 5 checkpoints, root ")
    assert set(members(copy)) == {
        "entries.jsonl",
        "proofs.json",
        "checkpoints.json",
        "public_key.pem",
        "manifest.json",
        "manifest.sig",
        "README.txt",
        "anchor.json",
    }
    manifest = json.loads(members(copy)["manifest.json"])
    assert manifest["range"]["first_seq"] == 20 and manifest["counts"] == {"entries": 72, "checkpoints": 5}
    anchored = verify_bundle(copy, trusted_key_id=manifest["key_id"])
    assert anchored.ok and anchored.assumed == [] and report.assumed == [unanchored_key(manifest["key_id"])]


@pytest.mark.parametrize("seed", range(10))
def test_an_altered_entry_is_named(bundle: Path, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)

    def alter(contents: Members) -> None:
        entries = entry_lines(contents)
        victim = entries[rng.randrange(len(entries))]
        field = rng.choice(["at", "kind", "actor", "outcome", "details", "leaf_hash", "chain_hash"])
        value = str(victim[field])
        victim[field] = {"forged": True} if field == "details" else value[:-1] + ("1" if value[-1] == "0" else "0")
        altered.append(int(victim["seq"]))  # type: ignore[call-overload]
        set_entries(contents, entries)

    altered: list[int] = []
    report = verify_bundle(rewrite(bundle, tmp_path / "altered.zip", alter))
    assert report.first_breach is not None and report.first_breach.seq == altered[0], report.breaches


def test_removed_reordered_and_inserted_entries_are_named(bundle: Path, tmp_path: Path) -> None:
    def remove(contents: Members) -> None:
        entries = entry_lines(contents)
        set_entries(contents, entries[:30] + entries[31:])

    def reorder(contents: Members) -> None:
        entries = entry_lines(contents)
        entries[40], entries[41] = entries[41], entries[40]
        set_entries(contents, entries)

    def insert(contents: Members) -> None:
        entries = entry_lines(contents)
        set_entries(contents, [*entries[:10], {**entries[10], "actor": "operator:forger"}, *entries[10:]])

    removed = verify_bundle(rewrite(bundle, tmp_path / "removed.zip", remove)).first_breach
    reordered = verify_bundle(rewrite(bundle, tmp_path / "reordered.zip", reorder)).first_breach
    inserted = verify_bundle(rewrite(bundle, tmp_path / "inserted.zip", insert)).first_breach
    assert removed is not None and (removed.seq, removed.kind) == (50, "removed")
    assert reordered is not None and reordered.seq == 60
    assert inserted is not None and inserted.seq == 30


def test_a_removed_or_moved_entry_is_told_apart_and_named(bundle: Path, tmp_path: Path) -> None:
    """Two swapped entries read "entries are missing before it", as a deletion did, and neither said which entry:
    a reviewer was told entries were missing from a bundle that held every one."""

    def remove(contents: Members) -> None:
        entries = entry_lines(contents)
        set_entries(contents, entries[:30] + entries[33:])

    def swap(contents: Members) -> None:
        entries = entry_lines(contents)
        entries[40], entries[41] = entries[41], entries[40]
        set_entries(contents, entries)

    def cut(contents: Members) -> None:
        set_entries(contents, entry_lines(contents)[:-4])

    removed = verify_bundle(rewrite(bundle, tmp_path / "removed.zip", remove)).first_breach
    swapped = verify_bundle(rewrite(bundle, tmp_path / "swapped.zip", swap)).first_breach
    cut_off = verify_bundle(rewrite(bundle, tmp_path / "cut.zip", cut)).first_breach
    assert removed is not None and swapped is not None and cut_off is not None
    assert (removed.kind, removed.render()) == (
        "removed",
        "at seq 50: entries 50–52 are missing: entry 53 follows entry 49",
    )
    assert (swapped.kind, swapped.render()) == (
        "reordered",
        "at seq 60: entry 61 is here, and entry 60 comes later in the bundle",
    )
    assert (cut_off.kind, cut_off.render()) == (
        "removed",
        "at seq 88: entries 88–91 are missing at the end: the signed manifest says the range ends at seq 91",
    )


def test_cutting_the_end_of_the_range_is_caught_by_the_manifest_signature(bundle: Path, tmp_path: Path) -> None:
    def cut(contents: Members) -> None:
        entries = entry_lines(contents)[:-5]
        set_entries(contents, entries)
        proofs = json.loads(contents["proofs.json"])
        proofs["proofs"] = proofs["proofs"][:-5]
        contents["proofs.json"] = json.dumps(proofs).encode()
        manifest = json.loads(contents["manifest.json"])
        manifest["range"]["last_seq"] -= 5
        manifest["counts"]["entries"] -= 5
        contents["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"

    report = verify_bundle(rewrite(bundle, tmp_path / "cut.zip", cut))
    assert report.summary("Evidence bundle") == (
        "Evidence bundle BROKEN: the manifest's signature does not verify with the bundled public key"
    )


def test_an_altered_proof_names_its_entry(bundle: Path, tmp_path: Path) -> None:
    def alter(contents: Members) -> None:
        proofs = json.loads(contents["proofs.json"])
        path = proofs["proofs"][25]["path"]
        path[1] = ("0" if path[1][0] != "0" else "1") + path[1][1:]
        contents["proofs.json"] = json.dumps(proofs).encode()

    breach = verify_bundle(rewrite(bundle, tmp_path / "proof.zip", alter)).first_breach
    assert breach is not None and breach.seq == 45 and "inclusion proof" in breach.what


def test_an_altered_checkpoint_or_public_key_is_rejected(bundle: Path, tmp_path: Path) -> None:
    def alter_checkpoint(contents: Members) -> None:
        documents = json.loads(contents["checkpoints.json"])
        documents[1]["time"] = "2020-01-01T00:00:00.000000Z"
        contents["checkpoints.json"] = json.dumps(documents).encode()

    intruder = Ed25519PrivateKey.generate()
    intruder_public = intruder.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def swap_key(contents: Members) -> None:
        contents["public_key.pem"] = public_key_pem(intruder_public)

    checkpoint = verify_bundle(rewrite(bundle, tmp_path / "checkpoint.zip", alter_checkpoint))
    key = verify_bundle(rewrite(bundle, tmp_path / "key.zip", swap_key))
    assert "is not signed by the bundled public key" in checkpoint.summary()
    assert not key.ok and all(b.kind in ("checkpoint", "bundle") for b in key.breaches)
    assert len([b for b in key.breaches if "not signed by the bundled public key" in b.what]) == 5


def test_a_bundle_resigned_wholesale_with_another_key_fails_against_the_anchored_key(
    bundle: Path, tmp_path: Path
) -> None:
    """Everything re-signed by an intruder verifies in itself; the anchored key id is what tells it apart."""
    intruder = Ed25519PrivateKey.generate()
    public = intruder.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    original_key_id = json.loads(members(bundle)["manifest.json"])["key_id"]

    def resign(contents: Members) -> None:
        documents = json.loads(contents["checkpoints.json"])
        for document in documents:
            checkpoint = Checkpoint.from_signed({k: v for k, v in document.items() if k != "consistency_to_final"})
            unsigned = Checkpoint(**{**checkpoint.__dict__, "key_id": key_id_of(public), "signature": ""})
            document.update(key_id=unsigned.key_id, signature=intruder.sign(canonical(unsigned.statement())).hex())
        contents["checkpoints.json"] = json.dumps(documents).encode()
        contents["public_key.pem"] = public_key_pem(public)

    forged = rewrite(bundle, tmp_path / "resigned.zip", resign)
    contents = members(forged)
    manifest = json.loads(contents["manifest.json"])
    manifest["key_id"] = key_id_of(public)
    contents["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    contents["manifest.sig"] = intruder.sign(contents["manifest.json"]).hex().encode()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    unanchored = verify_bundle(forged)
    assert unanchored.ok  # in itself; its verdict says what it rests on: the intruder's key, not an anchored one
    assert unanchored.assumed == [unanchored_key(key_id_of(public))] and key_id_of(public) in unanchored.assumed[0]
    anchored = verify_bundle(forged, trusted_key_id=original_key_id)
    assert not anchored.ok and "not the trusted key" in anchored.summary()


def test_garbage_and_empty_ranges(trail_vault: Vault, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert verify_bundle(junk).summary("Evidence bundle").startswith("Evidence bundle BROKEN: not a readable ZIP")
    with rolled_back(trail_vault) as conn, pytest.raises(ConfigError, match="no audit entries"):
        export_bundle(conn, START - timedelta(days=2), START - timedelta(days=1), tmp_path / "none.zip")
    assert not (tmp_path / "none.zip").exists()


def test_an_added_unsigned_file_is_rejected(bundle: Path, tmp_path: Path) -> None:
    added = tmp_path / "added.zip"
    shutil.copyfile(bundle, added)
    with zipfile.ZipFile(added, "a") as archive:
        archive.writestr("corrections.txt", b"Entries 40-45 were test data and may be ignored.\n")

    report = verify_bundle(added)

    assert not report.ok
    assert report.summary("Evidence bundle") == (
        "Evidence bundle BROKEN: corrections.txt is not listed in the signed manifest (added to the bundle)"
    )


def test_a_second_copy_of_a_signed_member_is_rejected(bundle: Path, tmp_path: Path) -> None:
    """Readers differ in which of two same-named members they open: a copy is a breach even if unaltered."""
    copied = tmp_path / "copied.zip"
    shutil.copyfile(bundle, copied)
    with zipfile.ZipFile(bundle) as original:
        entries = original.read("entries.jsonl")
    with zipfile.ZipFile(copied, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("entries.jsonl", entries)

    report = verify_bundle(copied)

    assert [b.what for b in report.breaches] == ["entries.jsonl appears 2 times (a copy was added)"]


def test_the_untouched_bundle_has_only_signed_members(bundle: Path) -> None:
    assert verify_bundle(bundle).ok
