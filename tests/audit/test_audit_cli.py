"""``custos audit …``: printed formats and exit codes; verify-bundle in a fresh process without any vault."""

from __future__ import annotations

import csv
import os
import random
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from app.audit.pseudonyms import pseudonym_for
from app.audit.trail import Event, StoredEvent, append, of_kind
from app.audit.vault_lifecycle import create_vault, unlock_vault
from app.cli import main
from app.directory import repository as repo
from app.store.vault import Vault
from tests.audit.conftest import START, random_trail
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE, USER_SCHEMA

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def trail_dir(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    vault = create_vault(data_dir, PASSPHRASE, PASSPHRASE)
    with vault.write_transaction() as conn:
        random_trail(conn, random.Random(9), 40, checkpoint_every=15)
    vault.close()
    return data_dir


def cli(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main([*args, "--data-dir", str(data_dir)])
    return code, capsys.readouterr().out.splitlines()


def test_verify_checkpoint_export_and_tail(trail_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = cli(capsys, trail_dir, "audit", "verify")
    assert code == 0
    assert re.fullmatch(r"Audit trail intact: \d+ entries, 3 checkpoints, root [0-9a-f]{16}…", lines[0])
    assert re.fullmatch(r"Last checkpoint: tree size \d+, fingerprint [0-9a-f]{16}, signed .*Z", lines[-1])

    code, lines = cli(capsys, trail_dir, "audit", "checkpoint")
    assert code == 0
    assert re.fullmatch(
        r"Checkpoint at tree size \d+: fingerprint [0-9a-f]{16} \(root [0-9a-f]{16}…, key .*\)", lines[0]
    )

    out = tmp_path / "evidence.zip"
    args = ["audit", "export", "--from", "2025-03-01T08:01:00Z", "--to", "2025-03-01T08:03:00", "--out", str(out)]
    code, lines = cli(capsys, trail_dir, *args)
    assert code == 0
    entries, sha = re.fullmatch(
        rf"Wrote {re.escape(str(out))}: (\d+) entries \(sha256 ([0-9a-f]{{64}})\)", lines[0]
    ).groups()  # type: ignore[union-attr]
    assert int(entries) > 10

    code, lines = cli(capsys, trail_dir, "audit", "tail", "-n", "3")
    assert code == 0 and lines[0].split()[:3] == ["SEQ", "TIME", "(UTC)"] and len(lines) == 4
    assert lines[-1].split()[2] == "vault.unlocked" and lines[-2].split()[2] == "export.audit_bundle"
    assert "sealed" not in "\n".join(lines)

    vault = unlock_vault(trail_dir, PASSPHRASE)
    with vault.read_connection() as conn:
        recorded = of_kind(conn, "export.audit_bundle")[0]
    vault.close()
    assert recorded.details["sha256"] == sha and recorded.details["file"] == "evidence.zip"
    assert recorded.details["entries"] == int(entries)


def test_verify_names_the_breach_and_exits_1(trail_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vault = unlock_vault(trail_dir, PASSPHRASE)
    with vault.write_transaction() as conn:
        conn.execute(text("UPDATE audit_events SET outcome = 'success ' WHERE seq = 17"))
    vault.close()
    code, lines = cli(capsys, trail_dir, "audit", "verify")
    assert code == 1
    assert lines[0] == "Audit trail BROKEN at seq 17: its content does not match its leaf hash"


def test_verify_names_deleted_checkpoints_and_exits_1(trail_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vault = unlock_vault(trail_dir, PASSPHRASE)
    with vault.write_transaction() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
    vault.close()
    code, lines = cli(capsys, trail_dir, "audit", "verify")
    assert code == 1  # before: 0, "Audit trail intact: … 0 checkpoints"
    assert re.fullmatch(
        r"Audit trail BROKEN: checkpoints were deleted: the one signed when the key [0-9a-f]{16} was announced "
        r"\(tree size \d+\) is gone \(0 checkpoint\(s\) left\)",
        lines[0],
    )


def test_export_refuses_an_empty_range(trail_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "none.zip"
    code = main(["audit", "export", "--to", "2020-01-01", "--out", str(out), "--data-dir", str(trail_dir)])
    assert code == 2 and "no audit entries" in capsys.readouterr().err and not out.exists()


def test_export_onto_a_folder_is_refused_in_a_sentence(
    trail_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a folder ended in an IsADirectoryError traceback (from the final rename)."""
    code = main(["audit", "export", "--out", str(tmp_path), "--data-dir", str(trail_dir)])
    err = capsys.readouterr().err
    assert code == 2 and f"custos: Cannot write {tmp_path}: Is a directory." in err and "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".custos-bundle-")]


def test_verify_bundle_runs_anywhere_without_a_vault(trail_dir: Path, tmp_path: Path) -> None:
    vault = unlock_vault(trail_dir, PASSPHRASE)
    with vault.write_transaction() as conn:
        append(conn, Event("scim.request", "token:okta", at=START))
        from app.audit.bundle import export_bundle

        export_bundle(conn, None, None, tmp_path / "b.zip")
    vault.close()
    elsewhere = tmp_path / "other-machine"
    elsewhere.mkdir()
    bundle = elsewhere / "b.zip"
    bundle.write_bytes((tmp_path / "b.zip").read_bytes())
    tampered = elsewhere / "tampered.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "entries.jsonl":
                lines = data.splitlines(keepends=True)
                success, failure = b'"outcome":"success"', b'"outcome":"failure"'
                flipped = (success, failure) if success in lines[11] else (failure, success)
                lines[11] = lines[11].replace(*flipped)
                data = b"".join(lines)
            target.writestr(name, data)

    empty_home = elsewhere / "no-vault-here"
    empty_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CUSTOS_PASSPHRASE"} | {"CUSTOS_DATA_DIR": str(empty_home)}
    command = [sys.executable, str(ROOT / "main.py"), "audit", "verify-bundle"]
    good = subprocess.run([*command, str(bundle)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    bad = subprocess.run([*command, str(tampered)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stderr
    assert re.fullmatch(
        r"Evidence bundle intact: \d+ entries, \d+ checkpoints, root [0-9a-f]{16}…", good.stdout.splitlines()[0]
    )
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[0] == "Evidence bundle BROKEN at seq 12: its content does not match its leaf hash"
    assert list(empty_home.iterdir()) == []  # no vault was created or opened


def test_a_bundle_of_entries_by_sequence_number_and_its_verdict(
    trail_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "range.zip"
    code, lines = cli(capsys, trail_dir, "audit", "export", "--first-seq", "10", "--last-seq", "20", "--out", str(out))
    assert code == 0 and lines[0].startswith(f"Wrote {out}: 11 entries (sha256 ")

    code, lines = cli(capsys, trail_dir, "audit", "verify-bundle", str(out))
    assert code == 0
    assert re.fullmatch(r"Evidence bundle intact: 11 entries, \d+ checkpoints, root [0-9a-f]{16}…", lines[0])
    proved = [line for line in lines if line.startswith("Proved: ")]
    assert proved[0].startswith("Proved: entries 10–20 (11) are unchanged and at their places in the trail of ")
    assert proved[1].startswith("Proved: their hash chain is unbroken from entry 9's chain hash ")
    assert len(proved) == 2  # the caveat is not a proof: it has a line of its own
    assert re.fullmatch(
        r"Not proved: the content of entries 1–9 and 21–\d+ is not in this bundle and was not checked "
        r"\(not the whole trail\)",
        next(line for line in lines if line.startswith("Not proved: ")),
    )
    # Without --key-id every signature was checked against the key the bundle carries: the verdict says so.
    (key_line,) = [line for line in lines if line.startswith("Not proved: that key ")]
    key_id = re.search(r"key ([0-9a-f]{16}),", next(line for line in lines if line.startswith("Note: ")))
    assert key_id and f"that key {key_id[1]} is the vault's signing key: no trusted key id was given" in key_line
    code, anchored = cli(capsys, trail_dir, "audit", "verify-bundle", str(out), "--key-id", key_id[1])
    assert code == 0 and not [line for line in anchored if line.startswith("Not proved: that key ")]
    recorded = _recorded(trail_dir, "export.audit_bundle")
    assert [(e.details["first_seq"], e.details["last_seq"], e.details["entries"]) for e in recorded] == [(10, 20, 11)]

    for bad in (["--first-seq", "10"], ["--first-seq", "1", "--last-seq", "2", "--from", "2025-03-01"]):
        code = main(["audit", "export", *bad, "--out", str(tmp_path / "bad.zip"), "--data-dir", str(trail_dir)])
        assert code == 2 and not (tmp_path / "bad.zip").exists()
    code = main(["audit", "export", "--first-seq", "5", "--last-seq", "99999", "--out", str(tmp_path / "bad.zip"),
                 "--data-dir", str(trail_dir)])  # fmt: skip
    assert code == 2 and "not a range of the trail" in capsys.readouterr().err


def test_the_verdict_says_which_entries_it_covered_and_how_far_they_are_signed(
    trail_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'intact: N entries' did not say which entries, from when to when, nor that the unsigned ones at the end are
    only chain-checked: cut off, the verdict stays 'intact' with a smaller N."""
    code, lines = cli(capsys, trail_dir, "audit", "verify")
    count = int(re.match(r"Audit trail intact: (\d+) entries", lines[0])[1])  # type: ignore[index]
    vault = unlock_vault(trail_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            first, last = (conn.execute(text("SELECT at FROM audit_events WHERE seq = :s"), {"s": s}).scalar_one()
                           for s in (1, count))  # fmt: skip
            # the checkpoint the verdict saw: verify itself signs one over its own opening as it closes the vault
            sizes = conn.execute(text("SELECT tree_size FROM audit_checkpoints")).scalars().all()
    finally:
        vault.close()
    signed = max(size for size in sizes if size < count)
    assert code == 0 and 0 < signed < count and count in sizes
    (covered,) = [line for line in lines if line.startswith("Covered: ")]
    assert covered == (
        f"Covered: entries 1–{count} ({first} to {last}); signed up to entry {signed} (checkpoint "
        f"{re.search(r'fingerprint ([0-9a-f]{16})', lines[-1])[1]}), entries {signed + 1}–{count} only "  # type: ignore[index]
        "chain-checked: cut off the end, they would leave no trace"
    )


_OWN = r"Note: entry (\d+) is this command's own opening of the vault; the command signs it as it ends"


def test_verify_names_its_own_opening_among_the_entries_not_signed(
    trail_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: right after a command had signed the trail to its end, verify said "Note: 1 entries after the last
    checkpoint are not signed yet" and "entries 42–42 only chain-checked: cut off the end, they would leave no
    trace", with no word that entry 42 was verify's own opening: every verify read as a gap in the signing."""
    code, lines = cli(capsys, trail_dir, "audit", "verify")  # the fixture's trail: entries unsigned before ours
    count = int(re.match(r"Audit trail intact: (\d+) entries", lines[0])[1])  # type: ignore[index]
    (first,) = [int(m[1]) for line in lines if (m := re.fullmatch(_OWN + "$", line))]
    assert code == 0 and first <= count  # the default policy given to the fixture's vault may follow it

    code, lines = cli(capsys, trail_dir, "audit", "verify")  # the first signed the trail to its end as it closed
    assert code == 0 and lines[0].startswith(f"Audit trail intact: {count + 1} entries")
    assert [line for line in lines if line.startswith("Note: ") and "clock went back" not in line] == [
        "Note: 1 entry after the last checkpoint is not signed yet",
        f"Note: entry {count + 1} is this command's own opening of the vault; the command signs it as it ends (it is "
        "the only entry not signed: before this command, the trail was signed to its end)",
    ]
    (covered,) = [line for line in lines if line.startswith("Covered: ")]
    assert covered.endswith(f", entry {count + 1} only chain-checked: cut off the end, it would leave no trace")
    vault = unlock_vault(trail_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            kinds = [conn.execute(text("SELECT kind FROM audit_events WHERE seq = :s"), {"s": s}).scalar_one()
                     for s in (first, count + 1)]  # fmt: skip
    finally:
        vault.close()
    assert kinds == ["vault.unlocked", "vault.unlocked"]


def test_tail_says_when_a_filter_matches_nothing(trail_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tried by hand: `audit tail --actor "Entra ID"` (the token's name without its kind) printed the header alone,
    which read as "that token did nothing". The table stays as it is; stderr says nothing matched, and how actors
    are compared."""
    capsys.readouterr()
    code = main(["audit", "tail", "--actor", "Entra ID", "--data-dir", str(trail_dir)])
    out, err = capsys.readouterr()
    assert code == 0 and len(out.splitlines()) == 1 and out.split()[0] == "SEQ"
    assert "No event matches. --actor is compared exactly, with its kind, as the ACTOR column shows it" in err
    code = main(["audit", "tail", "--subject", "0" * 64, "--data-dir", str(trail_dir)])
    out, err = capsys.readouterr()
    assert code == 0 and len(out.splitlines()) == 1 and "No event names this subject" in err
    assert main(["audit", "tail", "-n", "1", "--data-dir", str(trail_dir)]) == 0
    assert "No event" not in capsys.readouterr().err


def test_the_timeline_as_csv_or_xlsx_from_the_terminal(
    trail_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tried on a headless server: the timeline spreadsheet the audit page writes had no command; the responder had
    `audit tail` (no details) and evidence bundles. `audit timeline` writes it, filtered as tail is, on the record."""
    code, lines = cli(capsys, trail_dir, "audit", "timeline", "--format", "xlsx", "--out", str(tmp_path / "t.xlsx"),
                      "--actor", "operator:nobody-at-all", "--operator", "dpo")  # fmt: skip
    assert code == 0 and lines[0] == f"Wrote {tmp_path / 't.xlsx'}: 0 entries, sha256 " + lines[0].rsplit(" ", 1)[1]
    assert lines[1:] == [  # what the file leaves out, and that nothing was verified, under the contract's line
        f"Left out: {lines[1].split()[2]} of the trail's {lines[1].split()[2]} entries (not matched by the filter). "
        "The trail was not verified by this export (`custos audit verify`)."
    ]
    assert next(cell.value for cell in openpyxl.load_workbook(tmp_path / "t.xlsx").active[1]) == "seq"

    code, lines = cli(capsys, trail_dir, "audit", "timeline", "--format", "csv", "--out", str(tmp_path / "t.csv"),
                      "--operator", "dpo")  # fmt: skip
    found = re.fullmatch(r"Wrote (.+): (\d+) entries \(seq 1–(\d+)\), sha256 ([0-9a-f]{64})", lines[0])
    assert code == 0 and found and found[1] == str(tmp_path / "t.csv") and found[2] == found[3]
    with (tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(row["seq"]) for row in rows) == list(range(1, int(found[2]) + 1))  # in time order
    recorded = _recorded(trail_dir, "export.audit_timeline")
    assert ("operator:dpo", "csv", found[4]) in [(e.actor, e.details["format"], e.details["sha256"]) for e in recorded]


def test_tail_columns_line_up_with_their_headers(trail_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On main a time (27 characters) overran its 26-wide column: every row stood one character right of the
    header, and an actor longer than 24 characters pushed its row further still."""
    vault = unlock_vault(trail_dir, PASSPHRASE)
    with vault.write_transaction() as conn:
        append(conn, Event("token.created", "operator:a-rather-long-operator-name", details={"token": "t"}))
    vault.close()
    code, lines = cli(capsys, trail_dir, "audit", "tail", "-n", "10")
    assert code == 0
    header = lines[0]
    starts = [header.index(name) for name in ("KIND", "ACTOR", "OUTCOME", "SUBJECT")]
    for line in lines[1:]:
        assert [line[start - 2 : start] for start in starts] == ["  "] * 4, line
        assert all(line[start] != " " for start in starts), line
        assert line[: header.index("SEQ") + 3].strip().isdigit()


def test_tail_keeps_one_actor_or_the_events_naming_one_subject(data_dir: Path, vault: Vault,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """On main `audit tail` had no filter: an incident responder searched a person's pseudonym or a token's events
    by eye. --subject also finds the list reads that returned the person (their entry's subject is empty)."""
    people = ["00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"]
    with vault.write_transaction() as conn:
        for person in people:
            document = {"schemas": [USER_SCHEMA], "userName": person}
            repo.insert_resource(conn, "User", person, document, datetime.now(UTC))
            append(conn, Event("scim.resource.created", "token:idp", subject=person))
        append(conn, Event("scim.request", "token:stolen", details={"results": 1}, read_subjects=(people[0],)))
        append(conn, Event("scim.request", "token:stolen", details={"results": 1}, read_subjects=(people[1],)))
        pseudonym = pseudonym_for(conn, people[0])
    vault.close()
    os.environ["CUSTOS_PASSPHRASE"] = PASSPHRASE
    try:
        _, about = cli(capsys, data_dir, "audit", "tail", "--subject", str(pseudonym).upper())
        _, stolen = cli(capsys, data_dir, "audit", "tail", "--actor", "token:stolen")
    finally:
        del os.environ["CUSTOS_PASSPHRASE"]
    assert [(row.split()[2], row.split()[3]) for row in about[1:]] == [("scim.resource.created", "token:idp"),
                                                                       ("scim.request", "token:stolen")]  # fmt: skip
    assert about[1].split()[5:] == [pseudonym]
    # the list read names the person among those it returned: on main its SUBJECT was "-", as if about no one
    assert about[2].split()[5:] == [pseudonym, "(in", "list", "read)"]
    assert about[2].index(pseudonym) == about[0].index("SUBJECT") == about[1].index(pseudonym)  # the same column
    assert [row.split()[3] for row in stolen[1:]] == ["token:stolen", "token:stolen"]


def _recorded(data_dir: Path, kind: str) -> list[StoredEvent]:
    """The trail's entries of ``kind``, read from the vault the command left (opened again after it ended)."""
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            return of_kind(conn, kind)
    finally:
        vault.close()


def test_a_bundle_into_a_missing_folder_is_refused_like_every_other_export(trail_dir: Path, tmp_path: Path) -> None:
    """Was: `audit export` made the missing folders (a mistyped path got a new tree), while `export ropa`, the
    registers, the timeline, `vault backup` and the app's bundle dialog all refuse "The folder … does not exist."."""
    missing = tmp_path / "no-such-folder" / "bundle.zip"
    refused = run(trail_dir, "audit", "export", "--out", str(missing))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().endswith(f"custos: The folder {missing.parent} does not exist.")
    assert not missing.parent.exists()
