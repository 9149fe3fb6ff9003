"""End to end, as a SOC would see it: `custos serve --siem` driven by an IdP over HTTPS, a collector killed and
restarted mid-stream, Custos itself restarted; then what reached the collector is compared with the trail.

    PYTHONPATH=. python benchmarks/siem_e2e.py [--users 300] [--kills 3] [--slow 0.002] [--keep DIR]

Prints: trail entries, messages received, seqs missing, duplicate copies, out-of-order arrivals, bad frames.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "correct horse battery staple"
_SEQ = re.compile(r'\[custos@32473 seq="(\d+)"')
_ENDPOINT = re.compile(r"SCIM endpoint: (https://\S+/scim/v2)")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def custos(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
    return subprocess.run([sys.executable, "main.py", *args, "--data-dir", str(data)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip


class Receiver:
    def __init__(self, port: int, cert: Path, key: Path, out: Path, slow: float) -> None:
        self.args = [sys.executable, str(ROOT / "benchmarks" / "syslog_receiver.py"), "--port", str(port),
                     "--cert", str(cert), "--key", str(key), "--out", str(out), "--slow", str(slow),
                     "--chunk", "4096"]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.process.stdout.readline()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class Server:
    def __init__(self, data: Path, siem: str, fingerprint: str) -> None:
        self.cmd = [sys.executable, "main.py", "serve", "--siem", siem, "--siem-fingerprint", fingerprint,
                    "--data-dir", str(data)]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> None:
        env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
        self.process = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        assert self.process.stdout is not None
        for _ in range(20):
            line = self.process.stdout.readline()
            if match := _ENDPOINT.search(line):
                self.url = match.group(1)
                return
        raise RuntimeError("serve did not print its endpoint")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            self.process.send_signal(sig)
            self.process.wait(60)
            self.process = None


def user(i: int) -> dict[str, object]:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"user{i}@example.org",
            "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"}, "active": True,
            "emails": [{"value": f"user{i}@example.org", "type": "work", "primary": True}]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--slow", type=float, default=0.002)
    parser.add_argument("--keep")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    sys.path.insert(0, str(ROOT))
    from tests.siem.conftest import make_certificate

    work = Path(args.keep or tempfile.mkdtemp(prefix="siem-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    certificate = make_certificate(work, "collector")
    init = custos(data, "init", "--port", str(free_port()), "--token-name", "entra")
    assert init.returncode == 0, init.stderr
    token = re.search(r"(cst_[A-Za-z0-9_-]{43})", init.stdout).group(1)  # type: ignore[union-attr]
    (data / "siem.toml").write_text(
        '[alerts.working_hours]\nenabled = true\nstart = "07:00"\nend = "19:00"\ntimezone = "Pacific/Kiritimati"\n'
    )
    received = work / "received.jsonl"
    rport = free_port()
    receiver = Receiver(rport, certificate.cert_path, certificate.key_path, received, args.slow)
    receiver.start()
    server = Server(data, f"127.0.0.1:{rport}", certificate.fingerprint)
    server.start()
    client = httpx.Client(base_url=server.url, verify=False, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    ids: list[str] = []
    kill_points = sorted(random.sample(range(20, args.users), args.kills))
    for i in range(args.users):
        answer = client.post("/Users", json=user(i))
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
        client.get("/Users", params={"filter": f'id eq "{ids[-1]}"'})
        if i in kill_points:
            receiver.kill()
            time.sleep(random.uniform(0.2, 2.5))
            receiver.start()
        if i == args.users // 2:  # Custos restarted (SIGTERM) mid-run
            server.stop()
            server.start()
            client.base_url = httpx.URL(server.url + "/")
    bad = httpx.Client(base_url=server.url, verify=False, headers={"Authorization": "Bearer cst_" + "x" * 43})
    for _ in range(40):  # a failed-auth burst from one source
        bad.get("/Users")
    created = custos(data, "token", "create", "--name", "okta-new")  # an admin action (off hours in Kiritimati)
    assert created.returncode == 0, created.stderr
    for sid in ids[:80]:  # a mass deletion
        assert client.delete(f"/Users/{sid}").status_code == 204
    receiver.kill()
    time.sleep(1)
    receiver.start()
    erase = custos(data, "erase", "--user-id", ids[100], "--yes", "--wait", "0", "--reason", "e2e")
    print("erase:", erase.returncode, erase.stdout.strip().splitlines()[:1], erase.stderr.strip()[-200:])
    time.sleep(8)
    server.stop()
    time.sleep(0.5)
    status = custos(data, "siem", "status")
    print(status.stdout)
    receiver.kill()
    return report(data, received)


def report(data: Path, received: Path) -> int:
    from app.siem import spool
    from app.store.vault import Vault

    vault = Vault.unlock(data, PASSPHRASE)
    with vault.read_connection() as conn:
        events = spool.events_after(conn, 0, 10**9)
    vault.close()
    lines = [json.loads(line) for line in received.read_text().splitlines()]
    bad = [line for line in lines if "bad" in line]
    seqs = [int(m.group(1)) for line in lines if "msg" in line and (m := _SEQ.search(line["msg"]))]
    counts = Counter(seqs)
    trail = {event.seq for event in events}
    missing = sorted(trail - set(counts))
    dups = {seq: n for seq, n in counts.items() if n > 1}
    regressions = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
    kinds = Counter(event.kind for event in events)
    print(f"trail entries {len(trail)}; messages {len(seqs)}; missing {len(missing)} {missing[:20]}; "
          f"duplicated seqs {len(dups)}; seq regressions {regressions}; bad frames {bad[:5]}")  # fmt: skip
    print("alerts:", [e.details.get("summary") for e in events if e.kind == "alert.raised"])
    print("kinds:", dict(kinds))
    return 1 if missing or bad else 0


if __name__ == "__main__":
    sys.exit(main())
