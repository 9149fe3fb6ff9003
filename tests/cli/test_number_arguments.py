"""Numbers on the command line: a number SQLite cannot hold, or a port no socket takes, is refused by argparse in
one line (exit 2) before any vault is opened. Before: OverflowError tracebacks from the store or the socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import build_parser
from app.core.errors import ConfigError
from app.setup.tokens import MAX_LIFETIME_DAYS, TokenStore
from app.store.vault import Vault
from tests.cli.inprocess import run

HUGE = str(2**64)


@pytest.mark.parametrize(
    "argv",
    [
        ["breach", "show", HUGE],
        ["breach", "update", "1", "--records", HUGE],
        ["audit", "tail", "-n", HUGE],
        ["audit", "export", "--out", "b.zip", "--first-seq", "1", "--last-seq", HUGE],
        ["policy", "show", HUGE],
        ["policy", "diff", "1", HUGE],
        ["siem", "export", "--format", "cef", "--from", HUGE, "--out", "x.cef"],
        ["token", "create", "--name", "okta", "--expires-days", HUGE],
        ["serve", "--port", "70000"],
        ["serve", "--port", "-1"],
        ["init", "--port", "65536"],
        ["siem", "send", "--host", "siem.example", "--port", "99999"],
    ],
)
def test_out_of_range_numbers_are_refused_by_the_parser(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(argv)

    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "too large a number" in err or "a port is 0 to 65535" in err


def test_numbers_in_range_and_the_int_wording_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["breach", "show", str(2**63 - 1)]).id == 2**63 - 1
    assert build_parser().parse_args(["serve", "--port", "0"]).port == 0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["policy", "show", "abc"])
    assert "invalid int value: 'abc'" in capsys.readouterr().err


def test_a_token_lifetime_past_the_calendar_is_refused(vault: Vault) -> None:
    """Before: --expires-days 99999999 ended in 'OverflowError: date value out of range'."""
    store = TokenStore(vault)
    with pytest.raises(ConfigError, match="at most"):
        store.create("okta", MAX_LIFETIME_DAYS + 1)
    assert store.list() == []
    assert store.create("okta", MAX_LIFETIME_DAYS)[0].name == "okta"


def test_a_huge_incident_number_is_one_line_from_the_command(vault_file: Path) -> None:
    shown = run(vault_file.parent, "breach", "show", HUGE)

    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert shown.stderr.splitlines() == [
        f"custos: breach show: argument id: {HUGE} is too large a number (see 'custos breach show --help')."
    ]
