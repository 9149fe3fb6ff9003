"""``audit tail --zone``: each entry's time also where the reader is, beside UTC, for lining the trail up with
other logs during an incident (before, only UTC: the responder converted every line by hand)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.inprocess import run


def _table(out: str) -> tuple[str, list[str]]:
    lines = out.splitlines()
    return lines[0], lines[1:]


@pytest.mark.usefixtures("vault_file")
def test_each_time_is_also_given_in_the_zone_asked_with_its_offset(data_dir: Path) -> None:
    done = run(data_dir, "audit", "tail", "-n", "5", "--zone", "America/St_Johns")  # a zone at half an hour
    assert done.returncode == 0, done.stderr
    header, rows = _table(done.stdout)
    assert header.split()[:5] == ["SEQ", "TIME", "(UTC)", "TIME", "(America/St_Johns)"]
    assert rows
    for row in rows:
        utc, zoned_day, zoned_time, offset = row.split()[1:5]
        moment = datetime.fromisoformat(utc)
        there = moment.astimezone(ZoneInfo("America/St_Johns"))
        assert (zoned_day, zoned_time) == (f"{there:%Y-%m-%d}", f"{there:%H:%M:%S}")
        assert offset in ("-03:30", "-02:30")  # written out: the reader need not know the zone's summer time


@pytest.mark.usefixtures("vault_file")
def test_without_zone_the_printed_table_is_unchanged(data_dir: Path) -> None:
    header, rows = _table(run(data_dir, "audit", "tail", "-n", "3").stdout)
    assert header.split() == ["SEQ", "TIME", "(UTC)", "KIND", "ACTOR", "OUTCOME", "SUBJECT"]
    assert all(len(row.split()) == 6 for row in rows)  # seq, time, kind, actor, outcome, subject


@pytest.mark.usefixtures("vault_file")
def test_local_names_this_computer(data_dir: Path) -> None:
    done = run(data_dir, "audit", "tail", "-n", "1", "--zone", "local")
    assert done.returncode == 0 and "TIME (this computer)" in done.stdout


@pytest.mark.usefixtures("vault_file")
def test_an_unknown_zone_is_refused_before_the_vault_is_opened(data_dir: Path) -> None:
    done = run(data_dir, "audit", "tail", "--zone", "Mars/Olympus")
    assert done.returncode == 2, done.stderr
    assert "is not a time zone" in done.stderr and "Traceback" not in done.stderr
