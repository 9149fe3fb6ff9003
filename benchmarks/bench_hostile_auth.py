"""Issue 11 §1-§5 reproduced against the real headless server: what an attacker without a token achieves.

Each scenario starts ``main.py serve --port 0`` on loopback (HTTPS, self-signed) on a fresh throwaway data
folder, attacks it in a bounded way (counts and seconds below), stops it with SIGTERM and reads the vault.
Loopback only: the attacker uses source 127.0.0.2 where a second source is needed (Linux routes 127/8 locally).
It is a script, not a test; nothing in tests/ runs it. Prints one line per figure (medians where repeated).

    .venv/bin/python benchmarks/bench_hostile_auth.py               # every scenario, about 2 minutes
    .venv/bin/python benchmarks/bench_hostile_auth.py --only blind,revoke
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from app.audit.vault_lifecycle import unlock_vault

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
PASSPHRASE = os.environ.get("CUSTOS_PASSPHRASE", "custos-benchmark-only")
ENDPOINT_LINE = re.compile(r"^SCIM endpoint: (\S+) \(TLS SHA-256 ([^)]*)\)")
ATTACKER = "127.0.0.2"


def cli(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
    done = subprocess.run([PYTHON, "main.py", *args, "--data-dir", str(data_dir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return done.stdout


def create_token(data_dir: Path, name: str) -> str:
    return cli(data_dir, "token", "create", "--name", name).strip().splitlines()[-1]


class Server:
    """``main.py serve --port 0`` as a process; ``stop()`` sends SIGTERM so queued events are written."""

    def __init__(self, data_dir: Path) -> None:
        env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  # lives as long as the server process
        self.proc = subprocess.Popen([PYTHON, "main.py", "serve", "--port", "0", "--data-dir", str(data_dir)],
                                     cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = ENDPOINT_LINE.match(line)
        if match is None:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        self.base_url = match.group(1)
        self.port = int(self.base_url.split(":")[2].split("/")[0])

    def rss_kib(self, field: str = "VmRSS") -> int:
        """Resident (VmRSS) or peak resident (VmHWM) memory of the server, in KiB."""
        with open(f"/proc/{self.proc.pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def running(data_dir: Path) -> Iterator[Server]:
    server = Server(data_dir)
    try:
        yield server
    finally:
        server.stop()


def client(server: Server, token: str | None, local: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(verify=False, local_address=local) if local else httpx.HTTPTransport(verify=False)
    return httpx.Client(base_url=server.base_url, headers=headers, transport=transport, timeout=10)


def vault_figures(data_dir: Path) -> dict[str, Any]:
    """Rows and bytes of a stopped server's vault (opening appends one vault.unlocked: subtracted)."""
    from sqlalchemy import text


    files = [data_dir / "custos.vault", data_dir / "custos.vault-wal"]
    size = sum(f.stat().st_size for f in files if f.exists())
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            keys = conn.execute(text("SELECT count(*) FROM subject_keys")).scalar()
            events = conn.execute(text("SELECT count(*) FROM audit_events")).scalar() - 1
            kinds = dict(conn.execute(text("SELECT kind, count(*) FROM audit_events GROUP BY kind")).all())
            actors = dict(conn.execute(text(
                "SELECT actor, count(*) FROM audit_events WHERE kind = 'scim.request' GROUP BY actor")).all())
            failed = conn.execute(text("SELECT coalesce(sum(coalesce(json_extract(details, '$.count'), 1)), 0) "
                                       "FROM audit_events WHERE kind = 'scim.auth.failed'")).scalar()  # fmt: skip
    finally:
        vault.close()
    return {"subject_keys": keys, "events": events, "bytes": size, "kinds": kinds, "actors": actors,
            "failed_auth_evidenced": failed}  # fmt: skip


def fresh(work: Path, name: str) -> tuple[Path, str]:
    data_dir = work / name
    data_dir.mkdir()
    cli(data_dir, "init", "--token-name", "setup")  # only init and serve create a vault; token create needs one
    return data_dir, create_token(data_dir, "idp")


class Every(threading.Thread):
    """Runs ``action`` every ``interval`` seconds for ``seconds``; ``statuses`` holds what each call answered."""

    def __init__(self, interval: float, seconds: float, action: Callable[[], httpx.Response]) -> None:
        super().__init__()
        self.interval, self.seconds, self.action = interval, seconds, action
        self.statuses: list[int] = []
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                self.statuses.append(self.action().status_code)
            time.sleep(self.interval)


# -- §1 ------------------------------------------------------------------------------------------------
def scenario_blind(work: Path, probe: bool) -> dict[str, Any]:
    """3 s of 24 authenticated reads and 24 wrong-token attempts, with (or without) the e-mail-path probe."""
    data_dir, token = fresh(work, f"blind-{probe}")
    with (
        running(data_dir) as server,
        client(server, token) as good,
        client(server, "cst_wrong") as bad,
        client(server, None, ATTACKER) as evil,
    ):
        reads, wrong = Every(3 / 24, 3, lambda: good.get("/Users")), Every(3 / 24, 3, lambda: bad.get("/Users"))
        probes = Every(0.1, 3, lambda: evil.get("/x@evil.example")) if probe else None
        for thread in (reads, wrong, probes):
            if thread is not None:
                thread.join()
    figures = vault_figures(data_dir)
    made = f"{len(reads.statuses)} reads ({reads.statuses.count(200)} answered 200), {len(wrong.statuses)} wrong"
    if probes is not None:
        made += f", {len(probes.statuses)} probes"
    return {"made": made, "authenticated_reads_on_trail": figures["actors"].get("token:idp", 0),
            "failed_auth_evidenced": figures["failed_auth_evidenced"], "kinds": figures["kinds"]}  # fmt: skip


# -- §2 ------------------------------------------------------------------------------------------------
def poll_until(check: Callable[[], bool], limit: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def scenario_revoke(work: Path) -> dict[str, Any]:
    data_dir, token = fresh(work, "revoke")
    temp = create_token(data_dir, "temp")
    with running(data_dir) as server, client(server, temp) as http, client(server, token) as idp:
        assert http.get("/ServiceProviderConfig").status_code == 200
        cli(data_dir, "token", "revoke", "temp")
        refused = poll_until(lambda: http.get("/ServiceProviderConfig").status_code == 401, 8)
        late = create_token(data_dir, "late")
        with client(server, late) as fresh_client:
            accepted = poll_until(lambda: fresh_client.get("/ServiceProviderConfig").status_code == 200, 8)
        idp_status = idp.get("/ServiceProviderConfig").status_code
    return {"revoked_refused_after_s": refused, "created_accepted_after_s": accepted,
            "idp_status_after": idp_status}  # fmt: skip


# -- §3 ------------------------------------------------------------------------------------------------
def scenario_throttle(work: Path) -> dict[str, Any]:
    data_dir, token = fresh(work, "throttle")
    with running(data_dir) as server, client(server, "cst_wrong") as bad, client(server, token) as idp:
        bad_statuses = [bad.get("/Users").status_code for _ in range(11)]
        valid = idp.get("/Users").status_code
    return {"bad_statuses": bad_statuses, "valid_token_status_after_11_bad": valid}


# -- §4 ------------------------------------------------------------------------------------------------
def scenario_flood(work: Path, count: int = 2000, workers: int = 8) -> dict[str, Any]:
    data_dir, _token = fresh(work, "flood")
    with running(data_dir):
        pass
    before = vault_figures(data_dir)
    with running(data_dir) as server:
        started = time.monotonic()

        def worker(n: int) -> None:
            with client(server, None) as anonymous:
                for _ in range(n):
                    anonymous.get(f"/Users/{uuid.uuid4()}")

        threads = [threading.Thread(target=worker, args=(count // workers,)) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
    after = vault_figures(data_dir)
    return {"requests": count, "seconds": round(seconds, 2),
            "subject_keys_added": after["subject_keys"] - before["subject_keys"],
            "events_added": after["events"] - before["events"] - 1,  # the measuring unlock before
            "bytes_added": after["bytes"] - before["bytes"]}  # fmt: skip


# -- §5 ------------------------------------------------------------------------------------------------
async def _slow_connection(port: int, hold: float, closed_after: list[float]) -> None:
    """Open TLS, send a request line and one header, then one more header line every 2 s, never the end."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, local_addr=(ATTACKER, 0))
    except (OSError, ssl.SSLError):
        closed_after.append(0.0)
        return
    started = time.monotonic()
    try:
        writer.write(b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\n")
        await writer.drain()
        while time.monotonic() - started < hold:
            try:
                if not await asyncio.wait_for(reader.read(1024), 2.0):
                    break  # the server closed the connection
            except TimeoutError:
                writer.write(b"X-a: b\r\n")
                await writer.drain()
    except (OSError, ConnectionError, ssl.SSLError):
        pass
    closed_after.append(time.monotonic() - started)
    with contextlib.suppress(Exception):
        writer.close()


def scenario_slowloris(work: Path, connections: int = 260, seconds: float = 20.0) -> dict[str, Any]:
    data_dir, token = fresh(work, "slowloris")
    closed_after: list[float] = []
    with running(data_dir) as server:

        async def attack() -> None:
            hold = seconds + 5
            await asyncio.gather(*(_slow_connection(server.port, hold, closed_after) for _ in range(connections)))

        attacker = threading.Thread(target=lambda: asyncio.run(attack()))
        attacker.start()
        time.sleep(2.0)  # let the connections open
        statuses: list[int] = []
        latencies: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with client(server, token) as idp:  # a new connection each time, as a polling IdP makes
                    statuses.append(idp.get("/ServiceProviderConfig").status_code)
            except httpx.HTTPError:
                statuses.append(0)
            latencies.append(time.monotonic() - started)
            time.sleep(0.5)
        attacker.join()
    ok = sum(1 for s in statuses if s == 200)
    return {"legitimate_ok": f"{ok}/{len(statuses)}", "legitimate_statuses": sorted(set(statuses)),
            "legitimate_median_s": round(statistics.median(latencies), 3),
            "slow_connection_open_median_s": round(statistics.median(closed_after), 1) if closed_after else None,
            "slow_connection_open_max_s": round(max(closed_after), 1) if closed_after else None}  # fmt: skip


def scenario_big_header(work: Path, mebibytes: int = 64) -> dict[str, Any]:
    data_dir, _token = fresh(work, "bigheader")
    with running(data_dir) as server:
        time.sleep(0.5)
        rss_before = server.rss_kib()
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        import socket

        status = "no answer"
        sent = 0
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            try:
                tls.sendall(b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nX-Big: ")
                chunk = b"a" * (1 << 20)
                for _ in range(mebibytes):
                    tls.sendall(chunk)
                    sent += 1
                tls.sendall(b"\r\n\r\n")
            except OSError:
                pass
            with contextlib.suppress(OSError):
                answer = tls.recv(200)
                status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
        time.sleep(0.5)
        rss_after, peak = server.rss_kib(), server.rss_kib("VmHWM")
    return {"status": status, "mib_sent_before_refusal": sent, "rss_mib_before": round(rss_before / 1024),
            "rss_mib_after": round(rss_after / 1024), "rss_peak_mib": round(peak / 1024)}  # fmt: skip


SCENARIOS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "blind-control": lambda work: scenario_blind(work, probe=False),
    "blind": lambda work: scenario_blind(work, probe=True),
    "revoke": scenario_revoke,
    "throttle": scenario_throttle,
    "flood": scenario_flood,
    "slowloris": scenario_slowloris,
    "bigheader": scenario_big_header,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated scenarios: " + ",".join(SCENARIOS))
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    with tempfile.TemporaryDirectory(prefix="custos-hostile-") as work:
        for name in chosen:
            started = time.monotonic()
            result = SCENARIOS[name](Path(work))
            print(f"{name:<14} {result}  ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
