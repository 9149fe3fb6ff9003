"""``custos breach …`` end to end as a script would run it."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import run


def test_breach_commands(data_dir: Path, tmp_path: Path) -> None:
    opened = run(data_dir, "breach", "open", "--title", "Token leaked in a ticket", "--detected", "2026-11-27T08:00Z")
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("Opened incident 1.")
    aware = run(data_dir, "breach", "aware", "1", "--reason", "token used from an unknown address",
                "--at", "2026-11-27T09:00Z")  # fmt: skip
    assert aware.stdout.startswith("Aware at 2026-11-27 09:00 UTC; notify by 2026-11-30 09:00 UTC")
    late = run(data_dir, "breach", "notify", "1", "--reference", "SA-7", "--at", "2026-12-01T10:00Z")
    assert late.returncode == 2 and "reasons for the delay" in late.stderr
    on_time = run(data_dir, "breach", "notify", "1", "--reference", "SA-7", "--at", "2026-11-29T10:00Z")
    assert on_time.returncode == 0 and "notified in time" in on_time.stdout
    listed = run(data_dir, "breach", "list").stdout.splitlines()
    assert listed[0].split()[:3] == ["ID", "STATE", "AWARE"]
    assert listed[1].split()[:2] == ["1", "notified"] and "notified_in_time" in listed[1]
    draft = run(data_dir, "breach", "draft", "1", "--out", str(tmp_path / "drafts"))
    assert draft.returncode == 0
    assert [line.split()[1].rsplit(".", 1)[1] for line in draft.stdout.splitlines()] == ["md", "pdf"]
    shown = run(data_dir, "breach", "show", "1").stdout
    assert "notified (initial): 2026-11-29 10:00 UTC, reference SA-7" in shown
