"""Rules that hold themselves (issue 15 §5): the import contracts (.importlinter) and the type checker on every
package, the Qt layer included ([tool.mypy] in pyproject.toml), run as CI runs them. Both tools come with the test
extras; where they are missing (a developer's older environment) the tests skip, except in CI, where a skip would hide a
broken rule."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed: install the test extras (pip install -e '.[test]')")
        pytest.skip(f"{module} is not installed")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_contracts_are_kept() -> None:
    """No PySide6 outside app.ui; the app borrows nothing from the CLI; layers ui → commands → domain → store →
    core; no new cycle between packages."""
    _tool("importlinter")
    done = _run("-c", "from importlinter.cli import lint_imports_command; lint_imports_command()")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_core_type_checks() -> None:
    _tool("mypy")
    done = _run("-m", "mypy")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_every_type_ignore_names_its_code_and_says_why() -> None:
    """``# type: ignore[code]  # reason``: an ignore silences one named check, and the line says why that check is
    wrong there (warn_unused_ignores removes the ones no longer needed)."""
    pattern = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
    unexplained = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = pattern.search(line)
            if found and (not found["codes"] or not re.match(r"\s+#\s*\S", found["rest"])):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}")
    assert unexplained == []
