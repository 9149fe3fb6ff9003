"""How long the command line takes to start: ``--help``, ``token list`` and the other read-only commands (a script,
not a test; prints medians).

Usage: ``python benchmarks/bench_cli_start.py [REPO] [RUNS] [OTHER_REPO]`` — REPO (default: this checkout) lets the
same script time another checkout, e.g. the commit before a change; with OTHER_REPO the two are timed side by side,
runs interleaved (A, B, A, B…) so that both see the same load from the rest of the machine. Each run is a fresh
interpreter, as an operator's shell would start it, on a real vault made once in a temporary folder
(CUSTOS_PASSPHRASE). ``unlock`` times the key derivation alone (PBKDF2-HMAC-SHA512, 256,000 iterations: SQLCipher's
KDF, which every command that opens the vault pays and which is not to be weakened).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark passphrase"
COMMANDS = (
    ("--help", ["--help"]),
    ("token list", ["token", "list"]),
    ("target list", ["target", "list"]),
    ("breach list", ["breach", "list"]),
    ("dsr list", ["dsr", "list"]),
    ("policy history", ["policy", "history"]),
    ("policy show", ["policy", "show", "1"]),
    ("siem status", ["siem", "status"]),
    ("vault check", ["vault", "check"]),
    ("audit verify", ["audit", "verify"]),
)
KDF = (
    "import time, pathlib, os\n"
    "from app.store.engine import derive_raw_key, read_salt\n"
    "salt = read_salt(pathlib.Path(os.environ['CUSTOS_DATA_DIR']) / 'custos.vault')\n"
    "started = time.perf_counter(); derive_raw_key(os.environ['CUSTOS_PASSPHRASE'], salt)\n"
    "print(time.perf_counter() - started)"
)


def once(repo: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run. On a machine others load too, the CPU time (user + system of the
    child) is the steadier figure: the wall time adds whatever the scheduler gave away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "main.py", *args], cwd=repo, env={**env, "PYTHONPATH": str(repo)}, check=True,
                   capture_output=True)  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _cell(samples: list[tuple[float, float]]) -> str:
    wall, cpu = [w for w, _ in samples], [c for _, c in samples]
    return f"{statistics.median(wall):>13.3f} s {statistics.median(cpu):>9.3f} s ({min(cpu):.2f})"


def kdf_seconds(repo: Path, env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", KDF], cwd=repo, env={**env, "PYTHONPATH": str(repo)}, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return float(done.stdout)


def main() -> None:
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    repos = [repo] + ([Path(sys.argv[3]).resolve()] if len(sys.argv) > 3 else [])
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE, "CUSTOS_DATA_DIR": folder}
        # As an installed app runs: with its modules' bytecode (where the environment forbids bytecode files, they
        # are kept in the temporary folder, not beside the sources), written by one untimed run of each command.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
        once(repo, ["init", "--token-name", "bench"], env)  # the vault, made once (not timed); only init creates one
        print(f"{'command':<16}" + "".join(f"{str(r)[-34:]:>36}" for r in repos))
        print(f"{'':<16}" + f"{'wall median   CPU median (min)':>36}" * len(repos))
        for label, args in COMMANDS:
            samples: list[list[tuple[float, float]]] = [[] for _ in repos]
            for each in repos:
                once(each, args, env)
            for _ in range(runs):
                for index, each in enumerate(repos):
                    samples[index].append(once(each, args, env))
            print(f"{label:<16}" + "".join(_cell(s) for s in samples))
        kdf = [kdf_seconds(repo, env) for _ in range(runs)]
        print(f"{'unlock KDF':<16}{statistics.median(kdf):>22.3f} s (min {min(kdf):.2f})  ({runs} runs each)")


if __name__ == "__main__":
    main()
