"""is_loopback lives in core: a target's URL check must not import the SCIM server (uvicorn)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.core.network import is_loopback

ROOT = Path(__file__).resolve().parents[2]


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("localhost", "127.0.0.1", "127.8.9.1", "::1"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "example.org", "::"))


def test_checking_a_target_url_does_not_import_the_server() -> None:
    probe = "import sys, app.targets.config; print('uvicorn' in sys.modules, 'app.scim.server' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr[-2000:]
