"""How long the command line takes to start: ``--help`` and ``token list`` (a script, not a test; prints medians).

Usage: ``python benchmarks/bench_cli_start.py [REPO] [RUNS]`` — REPO (default: this checkout) lets the same
script time another checkout, e.g. the commit before a change. Each run is a fresh interpreter, as an operator's
shell would start it; ``token list`` unlocks a real vault made once in a temporary folder (CUSTOS_PASSPHRASE).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark passphrase"


def timed(repo: Path, args: list[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "main.py", *args], cwd=repo, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "CUSTOS_DATA_DIR": folder, "PYTHONPATH": str(repo)}
        subprocess.run(  # the vault, made once (not timed)
            [sys.executable, "main.py", "token", "create", "--name", "bench"], cwd=repo, env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        for label, args in (("--help", ["--help"]), ("token list", ["token", "list"])):
            samples = timed(repo, args, env, runs)
            print(f"{label:<12} median {statistics.median(samples):.3f} s  min {min(samples):.3f} s  ({runs} runs)")


if __name__ == "__main__":
    main()
