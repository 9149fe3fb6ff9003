"""``custos breach`` time options: a time given without a zone is taken as UTC, as the help says, and the
command says how it read it in ISO 8601 with the offset; a time with a zone is converted, never re-read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.test_cli import run

HELP = "a time without a zone (no Z, no +HH:MM) is taken as UTC, not as this computer's local time"


def test_the_help_says_a_time_without_a_zone_is_utc(data_dir: Path) -> None:
    for command in ("open", "aware", "notify", "inform", "update", "scope"):
        shown = run(data_dir, "breach", command, "--help").stdout
        assert HELP in " ".join(shown.split()), command


@pytest.mark.usefixtures("vault_file")
def test_a_time_without_a_zone_is_utc_and_said_so(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")  # the machine's zone must not change how the time is read
    day = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")
    opened = run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{day}T09:00",
                 "--occurred-from", f"{day}T08:00+02:00")  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    lines = opened.stdout.splitlines()
    assert lines[0].startswith("Opened incident 1.")
    assert lines[1:] == [f"--detected {day}T09:00 has no time zone: taken as UTC, {day}T09:00+00:00"]
    shown = run(data_dir, "breach", "show", "1").stdout
    assert f"  detected_at: {day} 09:00 UTC" in shown and f"  occurred_from: {day} 06:00 UTC" in shown


def test_a_time_that_is_not_iso_8601_is_refused_plainly(data_dir: Path) -> None:
    refused = run(data_dir, "breach", "open", "--title", "t", "--detected", "yesterday")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "is not an ISO 8601 time" in refused.stderr
