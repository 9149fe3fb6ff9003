"""Rules that hold themselves (issue 15 §5): the import contracts (.importlinter) and the type checker on every
package, the Qt layer included ([tool.mypy] in pyproject.toml), run as CI runs them. Both tools come with the test
extras; where they are missing (a developer's older environment) the tests skip, except in CI, where a skip would hide a
broken rule."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
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


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def test_import_contracts_are_kept() -> None:
    """No PySide6 outside app.ui; the app borrows nothing from the CLI; layers ui | commands → services → domain
    → store → core; the app and the CLI reach the domain through app.services; no new cycle between packages,
    nor between the modules of app.audit, app.policy and app.incidents."""
    _tool("importlinter")
    done = _run("-c", LINT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    said = " ".join(done.stdout.split())  # lint-imports wraps long contract names at the terminal's width
    assert "0 broken" in said
    assert "The app and the CLI reach the domain through app.services (decision 0032) KEPT" in said
    assert "No SQL in the app or the CLI: they read through app.services (decision 0032) KEPT" in said


SERVICES = "The app and the CLI reach the domain through app.services (decision 0032) BROKEN"
NO_SQL = "No SQL in the app or the CLI: they read through app.services (decision 0032) BROKEN"
LAYERS = "Layers: ui | commands -> runtime -> services -> domain (in its own order) -> store -> core BROKEN"


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("app/ui/overview.py", "from app.store.models import ScimResource", SERVICES),  # a table, as before 0032
        ("app/commands/erase.py", "from app.directory.query import search", SERVICES),  # a read past the policy
        ("app/ui/targets/view.py", "from sqlalchemy import select", NO_SQL),  # SQL in a page
        ("app/services/export.py", "from app.ui.workers import submit", LAYERS),  # a service leaning on the app
    ],
)
def test_a_use_case_outside_the_services_breaks_the_contracts(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    """The contracts bite: a copy of the code with one direct domain import in the app or the CLI (or a service
    importing the app) fails `lint-imports`; so each line of debt in .importlinter is one that exists."""
    _tool("importlinter")
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    text = target.read_text(encoding="utf-8")
    anchor = "from __future__ import annotations\n"
    target.write_text(text.replace(anchor, anchor + "\n" + line + "  # noqa\n", 1), encoding="utf-8")
    done = _run("-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); {LINT}", cwd=tmp_path)
    assert done.returncode != 0, done.stdout[-4000:]
    said = " ".join(done.stdout.split())  # lint-imports wraps long contract names at the terminal's width
    assert broken in said and module.removesuffix(".py").replace("/", ".") in said



ACYCLIC = (
    "No cycle between the modules of app.audit, app.policy and app.incidents (a module split by job stays split) "
    "BROKEN"
)


@pytest.mark.parametrize(
    ("module", "line", "package", "pair"),
    [
        # a section check reaching back into the loader that runs it
        ("app/policy/checks/reader.py", "from app.policy.loader import load_policy", "app.policy",
         ("checks", "loader")),
        # the entry scan borrowing the run's batch size: verify -> verify_scan -> verify
        ("app/audit/verify_scan.py", "from app.audit.verify import BATCH", "app.audit", ("verify_scan", "verify")),
        # a check reading the register it guards
        ("app/incidents/checks.py", "from app.incidents.register import IncidentRegister", "app.incidents",
         ("checks", "register")),
    ],
)  # fmt: skip
def test_a_module_split_by_job_that_imports_back_breaks_the_contracts(
    tmp_path: Path, module: str, line: str, package: str, pair: tuple[str, str]
) -> None:
    """The modules split out of the loader, the verifier and the breach register import one way: an import back
    into the module that uses them is a cycle, and `lint-imports` names it (by one of its two edges)."""
    _tool("importlinter")
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    anchor = "from __future__ import annotations\n"
    target.write_text(target.read_text(encoding="utf-8").replace(anchor, anchor + "\n" + line + "  # noqa\n", 1))
    done = _run("-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); {LINT}", cwd=tmp_path)
    assert done.returncode != 0, done.stdout[-4000:]
    said = " ".join(done.stdout.split())
    one, other = pair
    named = f"- .{one} -> .{other} " in said or f"- .{other} -> .{one} " in said
    assert ACYCLIC in said and f"No cycles are allowed in {package}." in said and named, said[-2000:]


def test_a_bundle_verifier_borrowing_the_writer_breaks_the_contracts(tmp_path: Path) -> None:
    """An evidence bundle is checked offline by someone who trusts nothing of the vault: the verifier (and the viewer)
    read it from its format, so a mistake in the writer cannot be repeated, unseen, by the code that checks it."""
    _tool("importlinter")
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / "app/audit/bundle_verify.py"
    anchor = "from __future__ import annotations\n"
    line = "from app.audit.bundle_write import BundleInfo  # noqa\n"
    target.write_text(target.read_text(encoding="utf-8").replace(anchor, anchor + "\n" + line, 1))
    done = _run("-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); {LINT}", cwd=tmp_path)
    assert done.returncode != 0, done.stdout[-4000:]
    said = " ".join(done.stdout.split())
    assert "never with the code that wrote it BROKEN" in said
    assert "app.audit.bundle_verify is not allowed to import app.audit.bundle_write" in said, said[-2000:]

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


def test_no_two_test_files_share_a_name() -> None:
    """The test folders are not packages: pytest imports each file by its basename, so a second test_scope.py in
    another folder stops the whole run at collection ("import file mismatch"), in CI as here."""
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert not clashes, "test files with the same name: " + "; ".join(clashes)
