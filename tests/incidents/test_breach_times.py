"""``custos breach`` time options: a time given without a zone is taken as UTC, as the help says, and the
command says how it read it in ISO 8601 with the offset; a time with a zone is converted, never re-read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
    assert f"  detected_at: {day} 09:00:00 UTC" in shown and f"  occurred_from: {day} 06:00:00 UTC" in shown


@pytest.mark.usefixtures("vault_file")
def test_a_refused_time_without_a_zone_is_said_to_have_been_read_as_utc(data_dir: Path) -> None:
    """Before: `breach aware --at 09:30` (meant as local time, read as UTC) was refused with "cannot be aware before
    the incident was detected" alone; the note that it was read as UTC came only on success, so the operator was
    left to guess why a time after detection was refused."""
    day = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")
    assert run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{day}T10:00Z").returncode == 0

    refused = run(data_dir, "breach", "aware", "1", "--reason", "confirmed", "--at", f"{day}T09:30")

    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    said = [line for line in refused.stderr.splitlines() if " INFO " not in line]  # the log shares stderr
    assert said == [
        f"--at {day}T09:30 has no time zone: taken as UTC, {day}T09:30+00:00",
        f"custos: The controller cannot be aware ({day} 09:30:00 UTC) before the incident was detected ({day} "
        "10:00:00 UTC).",
    ]


def test_a_time_that_is_not_iso_8601_is_refused_plainly(data_dir: Path) -> None:
    refused = run(data_dir, "breach", "open", "--title", "t", "--detected", "yesterday")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "is not an ISO 8601 time" in refused.stderr


@pytest.mark.usefixtures("vault_file")
def test_the_deadline_is_said_in_utc_then_in_the_controller_s_zone_never_the_machine_s(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On main the deadline's second time was this machine's ("… 09:00 UTC (… 09:00 UTC)" on a UTC server, Tokyo
    time here), not the controller's zone the request register counts in (``dsr settings --time-zone``)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    aware_at = (datetime.now(UTC) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    assert run(data_dir, "dsr", "settings", "--time-zone", "America/New_York").returncode == 0
    assert run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{aware_at:%Y-%m-%dT%H:%MZ}",
               ).returncode == 0  # fmt: skip
    aware = run(data_dir, "breach", "aware", "1", "--reason", "confirmed", "--at", f"{aware_at:%Y-%m-%dT%H:%MZ}")
    deadline = aware_at + timedelta(hours=72)
    new_york = deadline.astimezone(ZoneInfo("America/New_York"))
    assert aware.stdout.splitlines()[0] == (f"Aware at {aware_at:%Y-%m-%d %H:%M} UTC; notify by "
                                            f"{deadline:%Y-%m-%d %H:%M} UTC ({new_york:%Y-%m-%d %H:%M} "
                                            "America/New_York).")  # fmt: skip

    # A controller in UTC: the time is said once, and this machine's zone still not at all.
    assert run(data_dir, "dsr", "settings", "--time-zone", "UTC").returncode == 0
    corrected = run(data_dir, "breach", "aware", "1", "--reason", "log read later",
                    "--at", f"{aware_at + timedelta(hours=1):%Y-%m-%dT%H:%MZ}")  # fmt: skip
    assert corrected.returncode == 0, corrected.stderr
    assert corrected.stdout.splitlines()[0].endswith(f"notify by {deadline:%Y-%m-%d %H:%M} UTC.")
    assert "JST" not in aware.stdout + corrected.stdout


@pytest.mark.usefixtures("vault_file")
def test_breach_show_says_the_deadline_in_the_controller_s_zone_too(data_dir: Path) -> None:
    """Before: only `breach aware` said it; `breach show`, where the clock is looked up later, gave UTC alone."""
    aware_at = (datetime.now(UTC) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    assert run(data_dir, "dsr", "settings", "--time-zone", "America/New_York").returncode == 0
    assert run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{aware_at:%Y-%m-%dT%H:%MZ}",
               ).returncode == 0  # fmt: skip
    assert run(data_dir, "breach", "aware", "1", "--reason", "confirmed", "--at", f"{aware_at:%Y-%m-%dT%H:%MZ}",
               ).returncode == 0  # fmt: skip
    new_york = (aware_at + timedelta(hours=72)).astimezone(ZoneInfo("America/New_York"))

    shown = run(data_dir, "breach", "show", "1").stdout.splitlines()

    clock = next(i for i, line in enumerate(shown) if line.startswith("  clock: "))
    assert shown[clock].endswith(f"(deadline {aware_at + timedelta(hours=72):%Y-%m-%d %H:%M:%S} UTC)")
    assert shown[clock + 1] == f"  deadline in the controller's zone: {new_york:%Y-%m-%d %H:%M} America/New_York"


@pytest.mark.usefixtures("vault_file")
def test_breach_show_gives_the_seconds_the_register_compares(data_dir: Path) -> None:
    """On main `breach show` gave detection at 09:00 UTC and the refusal of informing at 09:00:10 read "told of the
    breach (… 09:00 UTC) before it was detected (… 09:00 UTC)": two equal times, refused. Both now say the seconds,
    and `show --zone` gives each time with its UTC offset as well."""
    detected = (datetime.now(UTC) - timedelta(days=1)).replace(hour=9, minute=0, second=40, microsecond=0)
    day = f"{detected:%Y-%m-%d}"
    opened = run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{day}T09:00:40")
    note = opened.stdout.splitlines()[1]  # the seconds given are said back, not cut to minutes
    assert note == f"--detected {day}T09:00:40 has no time zone: taken as UTC, {day}T09:00:40+00:00"
    refused = run(data_dir, "breach", "inform", "1", "--at", f"{day}T10:00:10+01:00")  # 09:00:10 UTC
    assert refused.returncode == 2
    assert f"told of the breach ({day} 09:00:10 UTC) before it was detected ({day} 09:00:40 UTC)" in refused.stderr
    shown = run(data_dir, "breach", "show", "1").stdout
    assert f"  detected_at: {day} 09:00:40 UTC\n" in shown
    assert f"    detected_at = {day} 09:00:40 UTC (recorded " in shown
    berlin = detected.astimezone(ZoneInfo("Europe/Berlin"))
    offset = berlin.strftime("%z")
    zoned = run(data_dir, "breach", "show", "1", "--zone", "Europe/Berlin").stdout
    assert (f"  detected_at: {day} 09:00:40 UTC ({berlin:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]} "
            "Europe/Berlin)\n") in zoned  # fmt: skip
    assert "this computer)" in run(data_dir, "breach", "show", "1", "--zone", "local").stdout
    unknown = run(data_dir, "breach", "show", "1", "--zone", "Mars/Olympus")
    assert unknown.returncode == 2 and "is not a time zone" in unknown.stderr


@pytest.mark.usefixtures("vault_file")
def test_a_correction_by_seconds_says_the_seconds(data_dir: Path) -> None:
    """Tried by hand: awareness at 07:01 corrected to 07:00:30 read "07:01 UTC → 07:00 UTC", and 09:00:30 corrected
    to 09:00:10 would read "09:00 UTC → 09:00 UTC": a correction that seemed to change nothing, though `show` and
    the refusals give the seconds the register compares."""
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    assert run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{day}T09:00Z").returncode == 0
    aware = run(data_dir, "breach", "aware", "1", "--reason", "confirmed", "--at", f"{day}T09:00:30Z")
    assert aware.stdout.startswith(f"Aware at {day} 09:00:30 UTC; notify by ")

    corrected = run(data_dir, "breach", "aware", "1", "--reason", "log says earlier", "--at", f"{day}T09:00:10Z")

    assert corrected.returncode == 0, corrected.stderr
    assert corrected.stdout.startswith(
        f"Corrected awareness of incident 1: {day} 09:00:30 UTC → {day} 09:00:10 UTC. The deadline runs from the "
        f"earliest awareness recorded, {day} 09:00:10 UTC: notify by "
    )


@pytest.mark.usefixtures("vault_file")
def test_the_command_suggested_on_opening_is_one_that_runs(data_dir: Path) -> None:
    """Tried by hand: `breach open` suggested "breach aware 1", which is refused (--reason is required)."""
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    opened = run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{day}T09:00Z")
    suggested = opened.stdout.splitlines()[0].split(": ", 1)[1]
    assert suggested == "breach aware 1 --reason … [--at TIME]"
    assert run(data_dir, *suggested.split()[:3], "--reason", "confirmed").returncode == 0
