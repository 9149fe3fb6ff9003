"""Reading an evidence bundle without a vault: the manifest facts, the entries in order, sealed parts sealed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app.audit.bundle import export_bundle
from app.audit.bundle_read import BundleUnreadable, EntryPages, detail_text, fact_lines, read_bundle
from app.audit.trail import iso_utc
from app.core.errors import CustosError
from app.store.vault import Vault
from tests.audit.conftest import START, rolled_back

ROOT = Path(__file__).resolve().parents[2]
Members = dict[str, bytes]


@pytest.fixture(scope="module")
def bundle(trail_vault: Vault, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Entries 20 to 91 of the module's trail, exported in a transaction that is rolled back."""
    path = tmp_path_factory.mktemp("bundle-read") / "evidence.zip"
    with rolled_back(trail_vault) as conn:
        export_bundle(conn, START + timedelta(seconds=7 * 18), START + timedelta(seconds=7 * 89), path)
    return path


def members(path: Path) -> Members:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewritten(source: Path, target: Path, change: Callable[[Members], None]) -> Path:
    contents = members(source)
    change(contents)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return target


def test_facts_are_the_manifest_and_the_entries(bundle: Path) -> None:
    contents = read_bundle(bundle)
    facts = contents.facts
    manifest = json.loads(members(bundle)["manifest.json"])
    lines = members(bundle)["entries.jsonl"].splitlines()
    assert (facts.first_seq, facts.last_seq, facts.entries, facts.lines) == (20, 91, 72, 72)
    assert facts.checkpoints == len(contents.checkpoints) == 5
    assert facts.key_id == manifest["key_id"]
    assert facts.final.fingerprint == manifest["final_checkpoint"]["fingerprint"]
    assert facts.final.tree_size == manifest["final_checkpoint"]["tree_size"]
    assert facts.exported == manifest["created"] and facts.log_id == manifest["log_id"]
    assert facts.requested_from == iso_utc(START + timedelta(seconds=7 * 18))
    assert facts.requested_to == iso_utc(START + timedelta(seconds=7 * 89))
    assert facts.first_at == json.loads(lines[0])["at"] and facts.last_at == json.loads(lines[-1])["at"]
    assert facts.sha256 == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert facts.file_name == "evidence.zip"
    shown = dict(fact_lines(facts))
    assert shown["Entries"] == "72" and shown["Sequence numbers"] == "20 to 91"
    assert shown["Signing key id"] == facts.key_id


def test_entries_are_the_stored_rows_in_order(bundle: Path, trail_vault: Vault) -> None:
    entries = list(read_bundle(bundle).entries())
    assert [e.seq for e in entries] == list(range(20, 92))
    with trail_vault.read_connection() as conn:
        rows = conn.execute(text("SELECT * FROM audit_events WHERE seq BETWEEN 20 AND 91 ORDER BY seq")).mappings()
        stored = [
            {**dict(row), "details": json.loads(row["details"])}  # the vault keeps details as canonical JSON
            for row in rows
        ]
    assert [{**e.content(), "leaf_hash": e.leaf_hash, "chain_hash": e.chain_hash} for e in entries] == stored


def test_pages_stream_the_entries_and_stop_when_closed(bundle: Path) -> None:
    pages = read_bundle(bundle).pages()
    sizes = [len(pages.next_page(30)) for _ in range(4)]
    assert sizes == [30, 30, 12, 0] and pages.closed
    again = EntryPages(bundle)
    assert [e.seq for e in again.next_page(3)] == [20, 21, 22]
    again.close()
    assert again.next_page(3) == [] and again.closed


def test_sealed_parts_stay_sealed(bundle: Path) -> None:
    """The bundle has no key: the ciphertext is kept as exported, and no private value appears anywhere."""
    entries = list(read_bundle(bundle).entries())
    sealed = [e for e in entries if "sealed" in e.details]
    assert sealed, "the trail of the fixture seals some private parts"
    for event in sealed:
        assert set(event.details["sealed"]) == {"alg", "nonce", "ct"}
        shown = detail_text(event)
        assert event.details["sealed"]["ct"] not in shown and "Sealed personal data: present" in shown
    everything = "\n".join(json.dumps(e.details, ensure_ascii=False) + detail_text(e) for e in entries)
    assert "@example.org" not in everything and "Ñandú" not in everything


def test_detail_text_names_every_field(bundle: Path) -> None:
    event = next(read_bundle(bundle).entries())
    shown = detail_text(event)
    for value in (str(event.seq), event.at, event.kind, event.actor, event.outcome, event.leaf_hash):
        assert value in shown
    assert '"nested"' in shown  # the details, as indented JSON


def test_a_file_that_is_not_a_zip_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "notes.zip"
    junk.write_bytes(b"not a zip at all\n" * 10)
    with pytest.raises(BundleUnreadable) as caught:
        read_bundle(junk)
    assert (
        caught.value.user_message
        == "notes.zip is not an evidence bundle: it is not a ZIP file, or the file is damaged."
    )
    assert isinstance(caught.value, CustosError) and caught.value.__cause__ is None
    with pytest.raises(BundleUnreadable, match=re.escape("There is no file gone.zip")):
        read_bundle(tmp_path / "gone.zip")
    with pytest.raises(BundleUnreadable, match="is a folder"):
        read_bundle(tmp_path)


@pytest.mark.parametrize("member", ["entries.jsonl", "manifest.json", "checkpoints.json", "public_key.pem"])
def test_a_missing_member_is_named(bundle: Path, tmp_path: Path, member: str) -> None:
    broken = rewritten(bundle, tmp_path / "cut.zip", lambda contents: contents.pop(member))
    with pytest.raises(BundleUnreadable) as caught:
        read_bundle(broken)
    assert caught.value.user_message == f"cut.zip is not a complete evidence bundle: {member} is missing."


@pytest.mark.parametrize(
    ("member", "data", "message"),
    [
        ("manifest.json", b"{not json", "manifest.json is not valid JSON"),
        ("manifest.json", b"[1, 2]", "manifest.json is not a manifest"),
        ("manifest.json", b'{"format": "something-else/1"}', "of a known format (custos-audit-bundle/1 expected)"),
        ("checkpoints.json", b'{"a": 1}', "checkpoints.json does not hold signed checkpoints"),
        ("checkpoints.json", b"[]", "checkpoints.json holds no checkpoint"),
        ("public_key.pem", b"-----BEGIN PUBLIC KEY-----\nxx\n", "public_key.pem is not an Ed25519 public key"),
        ("entries.jsonl", b'{"seq": 20}\n', "line 1 of entries.jsonl is not an audit entry"),
    ],
)
def test_wrong_content_is_named(bundle: Path, tmp_path: Path, member: str, data: bytes, message: str) -> None:
    def replace(contents: Members) -> None:
        contents[member] = data

    with pytest.raises(BundleUnreadable, match=re.escape(message)):
        read_bundle(rewritten(bundle, tmp_path / "wrong.zip", replace))


def test_a_manifest_without_its_range_is_named(bundle: Path, tmp_path: Path) -> None:
    def drop_range(contents: Members) -> None:
        manifest = json.loads(contents["manifest.json"])
        manifest["range"]["first_seq"] = "twenty"
        contents["manifest.json"] = json.dumps(manifest).encode()

    with pytest.raises(BundleUnreadable, match=re.escape("manifest.json has no valid 'first_seq'")):
        read_bundle(rewritten(bundle, tmp_path / "range.zip", drop_range))


def test_an_unreadable_entry_in_the_middle_stops_paging_with_its_line(bundle: Path, tmp_path: Path) -> None:
    def garble(contents: Members) -> None:
        lines = contents["entries.jsonl"].splitlines(keepends=True)
        lines[40] = b"{garbled\n"
        contents["entries.jsonl"] = b"".join(lines)

    contents = read_bundle(rewritten(bundle, tmp_path / "garbled.zip", garble))  # first and last lines are fine
    pages = contents.pages()
    assert len(pages.next_page(40)) == 40
    with pytest.raises(BundleUnreadable, match=re.escape("line 41 of entries.jsonl is not an audit entry")):
        pages.next_page(40)
    assert pages.closed and pages.next_page(40) == []


def test_cli_view_bundle_refuses_a_non_bundle_without_importing_qt(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"junk")
    empty_home = tmp_path / "no-vault-here"
    empty_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CUSTOS_PASSPHRASE"} | {"CUSTOS_DATA_DIR": str(empty_home)}
    script = (
        "import sys\nfrom app.cli import main\n"
        f"code = main(['audit', 'view-bundle', {str(junk)!r}])\n"
        "print(code, 'PySide6' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "2 False", done.stderr
    assert "custos: junk.zip is not an evidence bundle: it is not a ZIP file" in done.stderr
    assert list(empty_home.iterdir()) == []  # no vault was created or opened
