"""``custos policy …`` as scripts use it: real subprocesses on a real vault; printed formats are a contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.policy.versions import default_policy_text
from tests.cli.inprocess import run

ROOT = Path(__file__).resolve().parents[2]


def test_validate_reports_lines_and_exit_codes(tmp_path: Path, data_dir: Path) -> None:
    good = tmp_path / "policy.toml"
    good.write_text(default_policy_text())
    result = run(data_dir, "policy", "validate", str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith(f"{good}: valid (12 attributes, 2 purposes, 0 recipients")
    name_line = default_policy_text().splitlines().index("[controller]") + 2
    assert f"{good}:{name_line}: warning: 'controller.name' is empty" in result.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text(default_policy_text().replace('path = "title"', 'path = "shoeSize"'))
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "shoeSize" in text)
    result = run(data_dir, "policy", "validate", str(bad))
    assert result.returncode == 1
    assert f"{bad}:{line}: error: 'shoeSize' is not an attribute of the SCIM User schema" in result.stdout
    assert result.stdout.splitlines()[-1] == f"{bad}: 1 error(s)"

    missing = run(data_dir, "policy", "validate", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and missing.stderr.startswith("custos: Cannot read")


@pytest.mark.usefixtures("vault_file")
def test_apply_history_diff_show(tmp_path: Path, data_dir: Path) -> None:
    first = tmp_path / "v1.toml"
    first.write_text(default_policy_text().replace('outside_schema = "reject"', 'outside_schema = "strip"'))
    refused = run(data_dir, "policy", "apply", str(first))  # no terminal and no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr

    applied = run(data_dir, "policy", "apply", str(first), "--yes", "--operator", "dpo-1")
    assert applied.returncode == 0, applied.stderr
    assert "Data outside the schema will now be handled by 'strip' (was 'reject')." in applied.stdout
    assert applied.stdout.splitlines()[-1].startswith("Applied policy version 2 (sha256 ")

    again = run(data_dir, "policy", "apply", str(first), "--yes")
    assert again.stdout.strip() == "This version is already in force: nothing would change."

    history = run(data_dir, "policy", "history").stdout.splitlines()
    assert history[0].split() == ["VERSION", "APPLIED", "(UTC)", "SHA-256", "OPERATOR"]
    assert history[1].split()[0] == "1" and history[1].split()[-1] == "custos:default-policy"
    assert history[2].split()[:2] == ["*", "2"] and history[2].split()[-1] == "dpo-1"

    diff = run(data_dir, "policy", "diff", "1", "2").stdout.splitlines()
    assert diff[0] == "Policy v1 -> v2"
    assert "  Outside-schema handling: reject -> strip" in diff
    assert '-outside_schema = "reject"' in diff and '+outside_schema = "strip"' in diff

    assert run(data_dir, "policy", "show", "2").stdout == first.read_text()
    unknown = run(data_dir, "policy", "diff", "1", "9")
    assert (
        unknown.returncode == 2 and unknown.stderr.strip().splitlines()[-1] == "custos: There is no policy version 9."
    )


def _with_wiki(attributes: str) -> str:
    """The shipped default with its example recipient switched on, receiving ``attributes``."""
    lines = default_policy_text().splitlines()
    start = lines.index("# [[recipients]]")
    example = [line.removeprefix("# ") for line in lines[start : start + 8]]
    example[-1] = f"attributes = {attributes}"
    return "\n".join(lines[:start] + example + lines[start + 8 :]) + "\n"


@pytest.mark.usefixtures("vault_file")
def test_apply_names_what_a_changed_recipient_will_receive(tmp_path: Path, data_dir: Path) -> None:
    """Found adding `active` to the README's first recipient: the preview said "The catalogue is unchanged; no stored
    data is affected." and nothing about the application that would now receive more (everyone in its scope is
    pushed to it again); the DPO confirmed a change of what goes where without being told of it."""
    first = tmp_path / "v2.toml"
    first.write_text(_with_wiki('["userName", "displayName"]'))
    assert run(data_dir, "policy", "apply", str(first), "--yes").returncode == 0
    wider = tmp_path / "v3.toml"
    wider.write_text(_with_wiki('["userName", "emails.value", "active"]'))
    applied = run(data_dir, "policy", "apply", str(wider), "--yes")
    assert applied.returncode == 0, applied.stderr
    lines = applied.stdout.splitlines()
    assert lines[0] == "Recipient wiki: now receives User emails.value, active; no longer receives User displayName."
    assert "The catalogue is unchanged; no stored data is affected." not in lines
    scoped = tmp_path / "v4.toml"
    scoped.write_text(wider.read_text().replace(
        'attributes = ["userName", "emails.value", "active"]',
        'attributes = ["userName", "emails.value", "active"]\nscope = { filter = \'title eq "Engineer"\' }',
    ))  # fmt: skip
    moved = run(data_dir, "policy", "apply", str(scoped), "--yes")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines()[0] == "Recipient wiki: concerns other people (its scope changed)."
