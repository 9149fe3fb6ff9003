"""Build the frozen app with PyInstaller and run the smoke test against it; only when CUSTOS_BUILD_PACKAGE=1.

Why opt-in: the build takes about two minutes on a 2-core machine (plus about a minute to fill the build venv the
first time) and installs PyInstaller; packaging/README.md has the figures. The quick checks of the packaging files
are in test_linux_desktop_metadata.py and always run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_ENV = "CUSTOS_BUILD_PACKAGE"
# Today's bundle is ~258 MB: ~200 MB as before plus pandas and NumPy (~57 MB), which the app now uses (the Outside
# the policy aggregation, app/policy/outside.py). A jump past this means something large slipped in
# (QtWebEngine, test tools): look at packaging/pyinstaller/custos.spec excludes before raising the ceiling.
MAX_BUNDLE_MB = 290

pytestmark = [
    pytest.mark.skipif(
        os.environ.get(BUILD_ENV) != "1",
        reason=f"frozen build is opt-in: set {BUILD_ENV}=1 (about 4 minutes, see packaging/README.md)",
    ),
    pytest.mark.skipif(sys.platform == "win32", reason="packaging/build.sh is a bash script; see packaging/README.md"),
]


def _tree_size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink()) / 1e6


@pytest.mark.timeout(1500)
def test_frozen_build_serves_scim_over_https() -> None:
    started = time.monotonic()
    build = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh")],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    build_s = time.monotonic() - started
    assert build.returncode == 0, f"build failed:\n{build.stdout[-3000:]}\n{build.stderr[-5000:]}"
    bundle = ROOT / "dist" / "custos"
    size_mb = _tree_size_mb(bundle)
    assert size_mb < MAX_BUNDLE_MB, f"bundle is {size_mb:.0f} MB, more than {MAX_BUNDLE_MB} MB"

    started = time.monotonic()
    smoke = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "smoke_test.py"), "--binary", str(bundle / "custos")],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    smoke_s = time.monotonic() - started
    assert smoke.returncode == 0, f"smoke test failed:\n{smoke.stdout}\n{smoke.stderr[-5000:]}"
    assert "SMOKE TEST PASSED" in smoke.stdout
    # Shown with `pytest -s` (or in the captured output of a failure): the figures packaging/README.md quotes.
    print(f"\nfrozen build: {build_s:.0f} s, {size_mb:.0f} MB; smoke test: {smoke_s:.0f} s\n{smoke.stdout}")
