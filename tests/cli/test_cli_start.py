"""The command line imports what a command needs when it runs (issue 15 §5): ``--help`` loads no vault, no
SQLAlchemy, no server; ``token list`` opens the vault without Alembic. Times are in benchmarks/bench_cli_start.py;
these tests check the cause (what gets imported), which does not depend on how loaded the machine is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.setup.first_run import DEFAULT_TOKEN_NAME
from app.store.vault import Vault
from tests.cli.test_cli import ROOT, run
from tests.conftest import PASSPHRASE

HEAVY = ("sqlalchemy", "alembic", "sqlcipher3", "uvicorn", "starlette", "scim2_models", "httpx", "cryptography",
         "pandas", "PySide6", "app.store.vault", "app.setup.first_run")  # fmt: skip


def _modules_after(code: str, data_dir: Path) -> set[str]:
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "CUSTOS_DATA_DIR": str(data_dir)}
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in HEAVY if name in modules)


def test_help_builds_every_command_without_the_heavy_libraries(data_dir: Path) -> None:
    modules = _modules_after("from app.cli import build_parser\nbuild_parser().format_help()", data_dir)
    assert {"app.commands.init", "app.commands.export", "app.commands.erase", "app.commands.target"} <= modules
    assert _heavy(modules) == []


@pytest.mark.usefixtures("vault_file")
def test_token_list_opens_the_vault_without_alembic(data_dir: Path) -> None:
    assert run(data_dir, "token", "create", "--name", "okta").returncode == 0
    code = (
        "from app.cli import main\n"
        f"assert main(['token', 'list', '--data-dir', {str(data_dir)!r}]) == 0"
    )
    modules = _modules_after(code, data_dir)
    assert "app.store.vault" in modules and "alembic" not in modules
    assert not any(name.startswith(("uvicorn", "PySide6", "pandas")) for name in modules)


def test_init_help_names_the_default_token_name(data_dir: Path) -> None:
    shown = run(data_dir, "init", "--help")
    assert shown.returncode == 0 and f"(default: {DEFAULT_TOKEN_NAME})" in " ".join(shown.stdout.split())


# What a command that only reads may not load: the SCIM models (pydantic, a third of a second), the filter parser,
# Alembic, the server, the HTTP client, pandas, Qt, the confusables tables.
NOT_FOR_READING = ("scim2_models", "pydantic", "lark", "alembic", "uvicorn", "starlette", "httpx", "pandas", "PySide6",
                   "confusable_homoglyphs")  # fmt: skip
READ_ONLY = (["token", "list"], ["target", "list"], ["breach", "list"], ["dsr", "list"], ["policy", "history"],
             ["policy", "show", "1"], ["siem", "status"], ["vault", "check"], ["audit", "verify"])  # fmt: skip


def test_read_only_commands_load_neither_the_scim_models_nor_the_server(vault: Vault, data_dir: Path) -> None:
    """The policy in force is read through the schema catalogue (resources/schemas/scim-schemas.json), not through
    scim2-models; a recipient's scope filter is compiled only when a policy has one."""
    vault.close()
    calls = "\n".join(f"assert main([*{args!r}, '--data-dir', {str(data_dir)!r}]) == 0, {args!r}" for args in READ_ONLY)
    modules = _modules_after(f"from app.cli import main\n{calls}", data_dir)
    assert {"app.policy.in_force", "app.targets.sync", "app.dsr.register"} <= modules  # the commands did run
    assert sorted(name for name in NOT_FOR_READING if name in modules) == []
