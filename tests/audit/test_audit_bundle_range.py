"""A bundle of part of the trail: its chain is anchored in a signed checkpoint, tampering with the anchor is named,
and the verdict says which entries it proved and that it is not the whole trail."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from app.audit.bundle import checkpoints_of, export_bundle, verify_bundle
from app.audit.bundle_read import fact_lines, read_bundle
from app.audit.checkpoints import all_checkpoints
from app.audit.trail import canonical
from app.core.errors import ConfigError
from app.store.vault import Vault
from tests.audit.conftest import START, rolled_back
from tests.audit.test_audit_bundle import Members, members, rewrite

# The module trail (tests/audit/conftest.py): 122 entries, checkpoints at tree sizes 27, 52, 77, 102 and 122.


@pytest.fixture(scope="module")
def bundles(trail_vault: Vault, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ranges")
    paths = {name: folder / f"{name}.zip" for name in ("by_time", "by_seq", "at_checkpoint", "whole")}
    with rolled_back(trail_vault) as conn:
        assert [c.tree_size for c in all_checkpoints(conn)] == [27, 52, 77, 102, 122]
        export_bundle(conn, START + timedelta(seconds=7 * 18), START + timedelta(seconds=7 * 89), paths["by_time"])
        export_bundle(conn, None, None, paths["by_seq"], seqs=(60, 70))
        export_bundle(conn, None, None, paths["at_checkpoint"], seqs=(53, 53))
        export_bundle(conn, None, None, paths["whole"])
    return paths


def signing_key(vault: Vault) -> Ed25519PrivateKey:
    with vault.read_connection() as conn:
        raw = conn.execute(text("SELECT private_key FROM signing_keys")).scalar_one()
    return Ed25519PrivateKey.from_private_bytes(bytes(raw))


def test_a_range_bundle_verifies_and_its_verdict_names_the_range_and_its_anchor(bundles: dict[str, Path]) -> None:
    report = verify_bundle(bundles["by_seq"])

    assert report.ok, report.breaches
    place, chain, extent = report.proved
    assert place.startswith("entries 60–70 (11) are unchanged and at their places in the trail of 122 entries")
    assert chain.startswith("their hash chain is unbroken from entry 59's chain hash ")
    assert chain.endswith("which follows from checkpoint " + fingerprint_at(bundles["by_seq"], 52) + " at tree size "
                          "52 through the leaf hashes of entries 53–59")  # fmt: skip
    assert extent == (
        "not the whole trail: the content of entries 1–59 and 71–122 is not in this bundle and was not checked"
    )


def test_the_anchor_is_the_start_of_the_trail_or_a_checkpoint_right_before_the_range(
    bundles: dict[str, Path],
) -> None:
    by_time, at_checkpoint, whole = (verify_bundle(bundles[n]) for n in ("by_time", "at_checkpoint", "whole"))

    assert by_time.ok and at_checkpoint.ok and whole.ok
    assert by_time.proved[1].endswith("which follows from the trail's start through the leaf hashes of entries 1–19")
    assert at_checkpoint.proved[1].endswith(f"which follows from checkpoint {fingerprint_at(bundles['whole'], 52)} "
                                            "at tree size 52")  # fmt: skip
    assert whole.proved[1:] == [
        "their hash chain is unbroken from the trail's start",
        f"the whole trail as signed by checkpoint {fingerprint_at(bundles['whole'], 122)}",
    ]


def fingerprint_at(bundle: Path, size: int) -> str:
    documents = json.loads(members(bundle)["checkpoints.json"])
    return next(c.fingerprint for c in checkpoints_of(documents) if c.tree_size == size)


def resigned(source: Path, target: Path, change: object, key: Ed25519PrivateKey) -> Path:
    """Tampering by someone who holds the signing key: the manifest is re-signed, so only the proofs can tell."""
    rewrite(source, target, change)  # type: ignore[arg-type]
    contents = members(target)
    contents["manifest.sig"] = key.sign(contents["manifest.json"]).hex().encode() + b"\n"
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return target


def test_a_forged_starting_hash_is_refused_even_with_the_manifest_re_signed(
    bundles: dict[str, Path], trail_vault: Vault, tmp_path: Path
) -> None:
    """Before: the verifier started the chain from whatever prev_chain_hash the manifest stated."""
    key = signing_key(trail_vault)

    def forge_start(contents: Members) -> None:
        # a forger who rewrote entry 60's chain hash picks the start that makes it follow
        entries = [json.loads(line) for line in contents["entries.jsonl"].splitlines()]
        forged = hashlib.sha256(b"forged").hexdigest()
        previous = bytes.fromhex(forged)
        for entry in entries:
            entry["chain_hash"] = hashlib.sha256(previous + bytes.fromhex(entry["leaf_hash"])).hexdigest()
            previous = bytes.fromhex(entry["chain_hash"])
        contents["entries.jsonl"] = b"".join(canonical(e) + b"\n" for e in entries)
        manifest = json.loads(contents["manifest.json"])
        manifest["range"]["prev_chain_hash"] = forged
        contents["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"

    report = verify_bundle(resigned(bundles["by_seq"], tmp_path / "forged.zip", forge_start, key))

    assert not report.ok and report.proved == []
    assert report.summary("Evidence bundle") == (
        "Evidence bundle BROKEN at seq 60: the chain hash the range starts from is not entry 59's as the signed "
        "checkpoints establish it"
    )


def test_a_tampered_bridge_or_anchor_is_refused_with_a_clear_message(
    bundles: dict[str, Path], trail_vault: Vault, tmp_path: Path
) -> None:
    key = signing_key(trail_vault)

    def alter_bridge(contents: Members) -> None:
        anchor = json.loads(contents["anchor.json"])
        leaf = anchor["bridge"][3]["leaf_hash"]
        anchor["bridge"][3]["leaf_hash"] = ("0" if leaf[0] != "0" else "1") + leaf[1:]
        contents["anchor.json"] = json.dumps(anchor).encode()

    def drop_bridge_link(contents: Members) -> None:
        anchor = json.loads(contents["anchor.json"])
        anchor["bridge"] = anchor["bridge"][:-1]
        contents["anchor.json"] = json.dumps(anchor).encode()

    def move_anchor(contents: Members) -> None:
        anchor = json.loads(contents["anchor.json"])
        anchor["checkpoint_tree_size"] = 77
        contents["anchor.json"] = json.dumps(anchor).encode()

    bridge = verify_bundle(resigned(bundles["by_seq"], tmp_path / "bridge.zip", alter_bridge, key))
    short = verify_bundle(resigned(bundles["by_seq"], tmp_path / "short.zip", drop_bridge_link, key))
    moved = verify_bundle(resigned(bundles["by_seq"], tmp_path / "moved.zip", move_anchor, key))
    unsigned = verify_bundle(rewrite(bundles["by_seq"], tmp_path / "unsigned.zip", alter_bridge))

    assert bridge.summary("Evidence bundle") == (
        "Evidence bundle BROKEN at seq 56: the bridge to entry 59 is not in the signed tree at entry 56 "
        "(inclusion proof fails)"
    )
    assert short.summary("Evidence bundle") == "Evidence bundle BROKEN: anchor.json does not reach entry 59"
    assert moved.summary("Evidence bundle") == (
        "Evidence bundle BROKEN: anchor.json starts at tree size 77, not before the range"
    )
    assert not unsigned.ok and any("signature does not verify" in b.what for b in unsigned.breaches)
    assert all(report.proved == [] for report in (bridge, short, moved, unsigned))


def test_a_bundle_without_anchor_says_its_starting_hash_is_not_proven(
    bundles: dict[str, Path], trail_vault: Vault, tmp_path: Path
) -> None:
    """A bundle written before anchor.json existed still verifies, and says what it could not prove."""
    key = signing_key(trail_vault)

    def as_before(contents: Members) -> None:
        del contents["anchor.json"]
        manifest = json.loads(contents["manifest.json"])
        del manifest["files"]["anchor.json"]
        contents["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"

    report = verify_bundle(resigned(bundles["by_seq"], tmp_path / "old.zip", as_before, key))

    assert report.ok, report.breaches
    assert report.proved[1].endswith(
        "as the signed manifest states it; no checkpoint proves that hash (a bundle from an earlier version, "
        "without anchor.json)"
    )


def test_a_range_by_sequence_number_is_checked_and_shown_as_such(
    bundles: dict[str, Path], trail_vault: Vault, tmp_path: Path
) -> None:
    facts = dict(fact_lines(read_bundle(bundles["by_seq"]).facts))
    assert facts["Range requested"] == "entries 60 to 70, by sequence number"
    assert "Range requested (UTC)" in dict(fact_lines(read_bundle(bundles["by_time"]).facts))
    with rolled_back(trail_vault) as conn:
        for seqs in ((0, 5), (70, 60), (100, 500)):
            with pytest.raises(ConfigError, match="not a range of the trail"):
                export_bundle(conn, None, None, tmp_path / "bad.zip", seqs=seqs)
    assert not (tmp_path / "bad.zip").exists()


def test_a_bundle_that_cannot_be_recorded_is_not_left_behind(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.audit import bundle_export

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the trail refused the entry")

    monkeypatch.setattr(bundle_export, "append", refuse)
    with pytest.raises(RuntimeError):
        bundle_export.export_recorded_bundle(vault, tmp_path / "unrecorded.zip", "operator:dpo", seqs=(1, 1))
    assert list(tmp_path.glob("*.zip")) == [] and not list(tmp_path.glob(".custos-bundle-*"))
    with vault.read_connection() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events WHERE kind = 'export.audit_bundle'")).scalar() == 0


def test_a_bundle_chosen_by_time_names_its_time_range_and_what_that_rests_on(bundles: dict[str, Path]) -> None:
    """Asked for the events of a time range, the verdict said only 'entries 20–91': neither the range asked for
    nor that the bundle cannot itself show that no entry timed in it lies outside those entries."""
    by_time, by_seq = verify_bundle(bundles["by_time"]), verify_bundle(bundles["by_seq"])
    manifest = json.loads(members(bundles["by_time"])["manifest.json"])["range"]
    first, last = manifest["first_seq"], manifest["last_seq"]
    assert by_time.ok and by_seq.ok
    assert by_time.proved[2] == (
        f"not the whole trail: that every entry timed from {manifest['from']} to before {manifest['to']} is among "
        f"entries {first}–{last}: Custos chose them by their times when it exported them, as the signed manifest "
        "says; the entries outside were not checked"
    )
    assert by_time.proved[-1].startswith("not the whole trail: the content of entries 1–")
    assert not [s for s in by_seq.proved if "timed" in s]
