"""``target add/edit`` refuse a concurrency or a timeout out of range with one line (exit 2) and store nothing: a
concurrency of 100 was stored as 32, and 0 as 1, while the command printed "Changed target app1: max_concurrency."
as though the value given had been kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.inprocess import run
from tests.targets.support import policy_with_recipients


def _said(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line[:4].isdigit()]  # log lines aside


@pytest.mark.usefixtures("vault_file")
def test_out_of_range_settings_are_refused_not_clamped(tmp_path: Path, data_dir: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients({"app1"}))
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0
    add = ("target", "add", "app1", "--url", "http://127.0.0.1:9/v2", "--recipient", "app1", "--auth", "none")
    refused = run(data_dir, *add, "--concurrency", "0")
    assert refused.returncode == 2 and _said(refused.stderr) == [
        "custos: A target's concurrency is 1 to 32 requests, not 0."]  # fmt: skip
    assert run(data_dir, *add, "--concurrency", "8").returncode == 0

    for wrong in ("100", "-3"):
        refused = run(data_dir, "target", "edit", "app1", "--concurrency", wrong)
        assert refused.returncode == 2 and _said(refused.stderr) == [
            f"custos: A target's concurrency is 1 to 32 requests, not {wrong}."]  # fmt: skip
    assert run(data_dir, "target", "edit", "app1", "--concurrency", "8").stdout == "Nothing changed for app1.\n"
    assert run(data_dir, "target", "edit", "app1", "--concurrency", "32").stdout == (
        "Changed target app1: max_concurrency.\n")  # fmt: skip
