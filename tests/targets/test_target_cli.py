"""``custos target …`` against a real scim2-server, as an operator's script would run it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app.audit.vault_lifecycle import unlock_vault
from app.core.events import EventBus
from app.policy.in_force import PolicyInForce
from app.scim.service import ScimService
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE, new_user
from tests.targets.conftest import ScimTarget
from tests.targets.support import policy_with_recipients


@pytest.mark.usefixtures("vault_file")
def test_target_commands(tmp_path: Path, data_dir: Path, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app1,) = scim_targets(1)
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients())
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0

    os.environ["APP1_TOKEN"] = app1.token
    try:
        added = run(
            data_dir,
            "target",
            "add",
            "app1",
            "--url",
            app1.base_url,
            "--recipient",
            "app1",
            "--token-env",
            "APP1_TOKEN",
        )
    finally:
        del os.environ["APP1_TOKEN"]
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Added target app1: receives User userName, User displayName, User emails.value"
    assert app1.token not in added.stdout + added.stderr

    unknown_recipient = run(
        data_dir, "target", "add", "x", "--url", app1.base_url, "--recipient", "nobody", "--auth", "none"
    )
    assert unknown_recipient.returncode == 2 and "no recipient 'nobody'" in unknown_recipient.stderr

    listed = run(data_dir, "target", "list").stdout.splitlines()
    assert listed[0].split() == [
        "NAME", "STATE", "RECIPIENT", "HELD", "QUEUED", "FAILED", "URL", "IN_SCOPE", "SYNC", "VERIFIED", "TIMEOUT"
    ]  # fmt: skip
    # Nothing to hold, but never checked: the target may hold accounts Custos does not know (decision 0036).
    assert listed[1].split() == ["app1", "enabled", "app1", "0", "0", "0", app1.base_url, "0", "not-verified", "never",
                                 "15s"]  # fmt: skip
    # The columns from URL on start where their headers do (they followed the header's width, not the URL's).
    starts = [[match.start() for match in re.finditer(r"\S+", line)][6:] for line in listed[:2]]
    assert starts[0] == starts[1]

    tested = run(data_dir, "target", "test", "app1")
    assert tested.returncode == 0, tested.stdout
    assert tested.stdout.startswith("Connected to app1:")
    assert [line.split()[-1] for line in tested.stdout.splitlines()[1:]] == ["supported"] * 3

    vault = unlock_vault(data_dir, PASSPHRASE)
    service = ScimService(vault, "https://custos.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        service.create("User", new_user("recon-1@example.test"))  # no dispatcher running: not pushed
    finally:
        service.close()
        vault.close()
    with app1.client() as http:  # an account the target holds that Custos never provisioned
        http.post("/Users", json=new_user("stranger@example.test"))

    drift = run(data_dir, "target", "reconcile", "app1", "--repair")
    assert drift.returncode == 1
    assert drift.stdout.splitlines() == [
        "app1: 1 accounts checked",
        "  1 account(s) at the target unknown to Custos (possible unlawful retention)",
        "  1 subject(s) missing at the target",
        "  queued 1 push(es) to repair",
    ]
    assert "recon-1" not in drift.stdout and "stranger" not in drift.stdout

    token_file = tmp_path / "new-token"
    token_file.write_text("rotated-secret-value")
    edited = run(data_dir, "target", "edit", "app1", "--token-file", str(token_file), "--concurrency", "2")
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.strip() == "Changed target app1: credential, max_concurrency."
    assert "rotated-secret-value" not in edited.stdout + edited.stderr
    assert run(data_dir, "target", "edit", "app1", "--concurrency", "2").stdout.strip() == "Nothing changed for app1."
    wrong = run(data_dir, "target", "edit", "app1", "--recipient", "nobody")
    assert wrong.returncode == 2 and "no recipient 'nobody'" in wrong.stderr

    removed = run(data_dir, "target", "remove", "app1", "--yes")
    assert removed.returncode == 0 and removed.stdout.strip().endswith("Removed target app1.")


@pytest.mark.usefixtures("vault_file")
def test_an_empty_token_file_is_refused_not_said_to_change_the_credential(
    tmp_path: Path, data_dir: Path, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """`target edit --token-file EMPTY` printed "Changed target app1: credential" while the stored one was kept."""
    (app1,) = scim_targets(1)
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients())
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0
    token = tmp_path / "token"
    token.write_text(app1.token)
    added = run(data_dir, "target", "add", "app1", "--url", app1.base_url, "--recipient", "app1",
                "--token-file", str(token))  # fmt: skip
    assert added.returncode == 0, added.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n")

    for command in ("add", "edit"):
        extra = ["--url", app1.base_url, "--recipient", "app1"] if command == "add" else []
        name = "app2" if command == "add" else "app1"
        result = run(data_dir, "target", command, name, *extra, "--token-file", str(empty))
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.strip() == f"custos: The file {empty} is empty: it holds no credential."

    listed = run(data_dir, "target", "list").stdout.splitlines()
    assert [line.split()[0] for line in listed[1:]] == ["app1"]  # no app2 half-added
    assert run(data_dir, "target", "test", "app1").returncode == 0  # the stored credential still works


@pytest.mark.usefixtures("vault_file")
def test_a_token_file_that_is_not_text_is_refused_with_a_message(tmp_path: Path, data_dir: Path) -> None:
    """Before: `target add --token-file` on a binary file (a key store given by mistake) ended in a UnicodeDecodeError
    traceback. Now it is refused as the other files a command reads are, before anything is stored."""
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients())
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0
    binary = tmp_path / "token.p12"
    binary.write_bytes(b"\x30\x82\xff\xfe")
    try:
        result = run(data_dir, "target", "add", "app1", "--url", "https://app1.example.test/scim/v2",
                     "--recipient", "app1", "--token-file", str(binary))  # fmt: skip
    except UnicodeDecodeError as exc:  # what the old code let out of main (a traceback in a terminal)
        pytest.fail(f"the command raised {exc!r}")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == f"custos: {binary} is not UTF-8 text."
    missing = run(data_dir, "target", "add", "app1", "--url", "https://app1.example.test/scim/v2",
                  "--recipient", "app1", "--token-file", str(tmp_path / "nope"))  # fmt: skip
    assert missing.stderr.strip() == f"custos: Cannot read {tmp_path / 'nope'}: No such file or directory."
    assert run(data_dir, "target", "list").stdout.splitlines()[1:] == []  # nothing half-added
