"""Each target's HTTP timeout is its own (``--timeout SECONDS``, 1 to 300, 15 unless set): it was one constant, so a
slow target on a bad link could not be given longer, and a hung one held a push (and ``target test``) 15 s."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.inprocess import run
from tests.targets.conftest import ScimTarget
from tests.targets.faults import FaultProxy


def _timeout_column(data_dir: Path) -> list[str]:
    listed = run(data_dir, "target", "list").stdout.splitlines()
    assert listed[0].split()[-2:] == ["VERIFIED", "TIMEOUT"]
    return [line.split()[-1] for line in listed[1:]]


def test_a_hung_target_is_given_up_on_after_its_own_timeout(
    data_dir: Path, cli_proxied_target: tuple[ScimTarget, FaultProxy]
) -> None:
    _app1, proxy = cli_proxied_target
    add = ("target", "add", "app1", "--url", proxy.base_url, "--recipient", "app1", "--auth", "none")
    for wrong in ("0.5", "301", "nan", "inf"):
        refused = run(data_dir, *add, "--timeout", wrong)
        said = [line for line in refused.stderr.splitlines() if not line[:4].isdigit()]  # log lines aside
        assert refused.returncode == 2 and len(said) == 1 and "1 to 300 seconds" in said[0], refused.stderr
    assert run(data_dir, "target", "list").stdout.splitlines()[1:] == []  # nothing half-added

    assert run(data_dir, *add, "--timeout", "2").returncode == 0
    assert _timeout_column(data_dir) == ["2s"]

    proxy.slow["GET"] = 20.0  # the target answers after 20 s: as good as hung
    began = time.monotonic()
    tested = run(data_dir, "target", "test", "app1")
    waited = time.monotonic() - began
    assert tested.returncode == 1 and tested.stdout.strip() == (
        "Cannot reach app1: GET timed out (no answer within 2 s)")
    assert waited < 8.0, waited  # 2 s and the command's start, not 15 s (nor 20)

    edited = run(data_dir, "target", "edit", "app1", "--timeout", "45")
    assert edited.stdout.strip() == "Changed target app1: timeout." and _timeout_column(data_dir) == ["45s"]
    refused = run(data_dir, "target", "edit", "app1", "--timeout", "0")
    assert refused.returncode == 2 and "1 to 300 seconds" in refused.stderr
    assert _timeout_column(data_dir) == ["45s"]
