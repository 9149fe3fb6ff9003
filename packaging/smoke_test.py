"""Smoke test of the frozen build: does the bundle really run Custos, with SQLCipher, TLS and the SCIM endpoint?

    python packaging/smoke_test.py [--binary dist/custos/custos] [--keep]

Steps, each against the frozen executable only (standard library here, so any Python 3.11+ can run it):
 0. the bundle holds the Qt platform (xcb, wayland, offscreen) and SVG plugins, resources/ and the migrations;
    the desktop app starts offscreen up to its first-run assistant and loads the offscreen and SVG icon plugins;
    ``init`` in another empty folder (the assistant's core, headless) prints the base URL, fingerprint and token.
 1. ``serve --port 0`` on an empty data folder creates the vault (first run), then SIGTERM → "Stopped.";
    the vault file must not start with the plain SQLite header (proves SQLCipher, not the stdlib sqlite, wrote it).
 2. ``token list`` with a wrong passphrase must be refused (the bundled SQLCipher checks the key).
 3. ``token create --name smoke`` unlocks the existing vault and prints a token; ``export ropa`` writes a PDF
    (fpdf2 with the bundled fonts).
 4. ``serve --port 0`` again unlocks the existing vault; the ``SCIM endpoint: <url> (TLS SHA-256 <fp>)`` line is
    parsed; ``GET /ServiceProviderConfig`` over HTTPS, with the certificate from the data folder as the only trust
    anchor and its fingerprint pinned to the printed one, must answer 401 without the token and 200 with it, with
    the ServiceProviderConfig schema in the JSON.
 5. SIGTERM → "Stopped." and exit code 0.
Exits 0 and prints "SMOKE TEST PASSED" with timings, or exits 1 with "SMOKE TEST FAILED: <why>".
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "smoke-test passphrase, not a secret"  # a throwaway vault in a temporary folder
ENDPOINT_LINE = re.compile(r"SCIM endpoint: (?P<url>https://\S+) \(TLS SHA-256 (?P<fp>[0-9A-F:]{95})\)")
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
START_TIMEOUT_S = 90.0  # first start of a cold one-folder bundle on a slow CI disk, plus key derivation
STOP_TIMEOUT_S = 30.0
SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"


class SmokeFailure(Exception):
    """A step failed; the message says which and why."""


@dataclass
class SmokeResult:
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.timings.values())


def default_binary() -> Path:
    name = "custos-cli.exe" if sys.platform == "win32" else "custos"  # the console executable on Windows
    return ROOT / "dist" / "custos" / name


def _environment(passphrase: str) -> dict[str, str]:
    env = dict(os.environ)
    env["CUSTOS_PASSPHRASE"] = passphrase
    env.pop("CUSTOS_DATA_DIR", None)  # --data-dir is given; a developer's variable must not redirect the test
    env["QT_QPA_PLATFORM"] = "offscreen"  # nothing here should touch Qt, but never try to open a display
    return env


class Server:
    """A running ``custos serve``: its stdout lines arrive on a queue, stderr is kept for failure messages."""

    def __init__(self, binary: Path, data_dir: Path) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self.process = subprocess.Popen(
            [str(binary), "serve", "--port", "0", "--data-dir", str(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(PASSPHRASE),
        )
        # Both pipes drained in threads so that neither can fill up and block the server.
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line.rstrip("\n"))

    def stderr_tail(self, count: int = 15) -> str:
        return "\n".join(self.stderr[-count:]) or "(no stderr)"

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SmokeFailure(f"no line matching {pattern.pattern!r} within {timeout:.0f} s\n{self.stderr_tail()}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.process.wait(timeout=5)
                raise SmokeFailure(
                    f"serve exited with code {self.process.returncode} before printing {pattern.pattern!r}\n"
                    f"{self.stderr_tail()}"
                )
            match = pattern.search(line)
            if match:
                return match

    def stop(self) -> None:
        """SIGTERM, as a service manager would send; the server must stop cleanly and say so."""
        if sys.platform == "win32":
            raise SmokeFailure("graceful stop is not implemented for Windows in this smoke test")
        self.process.send_signal(signal.SIGTERM)
        self.wait_for_line(re.compile(r"^Stopped\.$"), STOP_TIMEOUT_S)
        code = self.process.wait(timeout=STOP_TIMEOUT_S)
        if code != 0:
            raise SmokeFailure(f"serve exited with code {code} after SIGTERM\n{self.stderr_tail()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def running_server(binary: Path, data_dir: Path) -> Iterator[Server]:
    server = Server(binary, data_dir)
    try:
        yield server
    finally:
        server.kill()  # only does something when a step failed before the clean stop


def _run_cli(binary: Path, args: list[str], passphrase: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_environment(passphrase),
        timeout=START_TIMEOUT_S,
        check=False,
    )


def _fingerprint(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _get_service_provider_config(url: str, fingerprint: str, cert_file: Path, token: str | None) -> tuple[int, bytes]:
    """GET over HTTPS trusting only the data folder's certificate, and only if it has the printed fingerprint."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=str(cert_file))  # hostname 127.0.0.1 is in the certificate's SAN
    connection = http.client.HTTPSConnection(parts.hostname or "127.0.0.1", parts.port, context=context, timeout=30)
    try:
        connection.connect()
        assert connection.sock is not None
        peer = connection.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        if peer is None or _fingerprint(peer) != fingerprint:
            raise SmokeFailure("the server's certificate does not have the fingerprint serve printed")
        headers = {"Accept": "application/scim+json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"  # sent only after the pin check above
        connection.request("GET", parts.path.rstrip("/") + "/ServiceProviderConfig", headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _find_cert(data_dir: Path) -> Path:
    """The self-signed certificate app/setup/tls.py writes on first start (tls-cert.pem today)."""
    for name in ("tls-cert.pem", "cert.pem"):
        if (data_dir / name).is_file():
            return data_dir / name
    found = sorted(data_dir.glob("*cert*.pem"))
    if not found:
        raise SmokeFailure(f"no certificate (*cert*.pem) in the data folder {data_dir}")
    return found[0]


# Files the desktop app needs at run time that no CLI step loads (Linux one-folder layout).
LINUX_BUNDLE_FILES = (
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqwayland.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so",
    "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "resources/policy/default.toml",
    "resources/icons/custos.svg",
    "resources/fonts/DejaVuSans.ttf",
    "app/store/migrations/env.py",
    "app/store/migrations/versions/0001_initial.py",
)
GUI_PLUGINS_LOADED = ("platforms/libqoffscreen", "iconengines/libqsvgicon")
GUI_WAIT_S = 60.0


def check_layout(binary: Path) -> None:
    internal = binary.parent / "_internal"
    if not sys.platform.startswith("linux") or not internal.is_dir():
        return  # other layouts (macOS .app) are not described here
    missing = [name for name in LINUX_BUNDLE_FILES if not (internal / name).is_file()]
    if missing:
        raise SmokeFailure(f"missing from the bundle: {', '.join(missing)}")


def check_desktop_starts(binary: Path, data_dir: Path) -> None:
    """The desktop app starts offscreen up to its first-run assistant, loading the Qt platform and SVG icon plugins.

    The assistant then waits for a passphrase, so the process is killed once the plugins are seen loaded (Qt reports
    that with QT_DEBUG_PLUGINS) and no Python traceback has appeared.
    """
    env = _environment(PASSPHRASE)
    env["QT_DEBUG_PLUGINS"] = "1"
    gui_dir = data_dir / "desktop"
    process = subprocess.Popen(
        [str(binary), "--data-dir", str(gui_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen: list[str] = []
    done = threading.Event()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            loaded = [p for p in GUI_PLUGINS_LOADED if any(p in s and "loaded library" in s for s in seen)]
            if len(loaded) == len(GUI_PLUGINS_LOADED) or "Traceback" in line:
                done.set()
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        done.wait(GUI_WAIT_S)
        time.sleep(1.0)  # a traceback right after the plugins load would still be caught
        text = "".join(seen)
        if "Traceback" in text:
            raise SmokeFailure("the desktop app raised:\n" + text[text.index("Traceback") :][-2000:])
        if process.poll() is not None:
            raise SmokeFailure(f"the desktop app exited with code {process.returncode}\n{text[-2000:]}")
        for plugin in GUI_PLUGINS_LOADED:
            if not re.search(re.escape(plugin) + r"\.\S*\" loaded library", text):
                raise SmokeFailure(f"the desktop app did not load the Qt plugin {plugin}")
    finally:
        process.kill()
        process.wait(timeout=10)


def run_smoke(binary: Path, data_dir: Path, log: bool = True) -> SmokeResult:
    """All steps; raises SmokeFailure at the first that fails."""
    result = SmokeResult()

    def step(name: str, started: float) -> None:
        result.timings[name] = time.monotonic() - started
        if log:
            print(f"  ok  {name:<46} {result.timings[name]:6.1f} s", flush=True)

    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise SmokeFailure(f"{binary} is not an executable file: build it first (bash packaging/build.sh)")

    started = time.monotonic()
    check_layout(binary)
    step("bundle holds Qt plugins, resources, migrations", started)

    started = time.monotonic()
    check_desktop_starts(binary, data_dir)
    step("desktop app starts offscreen (plugins loaded)", started)

    started = time.monotonic()
    initialised = _run_cli(binary, ["init", "--port", "0", "--data-dir", str(data_dir / "init")], PASSPHRASE)
    if initialised.returncode != 0 or not re.search(r"^Token .+: cst_\S{43}$", initialised.stdout, re.M):
        raise SmokeFailure(f"init exited with {initialised.returncode}\n{initialised.stderr[-2000:]}")
    step("init: vault, certificate, policy, token", started)

    started = time.monotonic()
    with running_server(binary, data_dir) as server:
        server.wait_for_line(ENDPOINT_LINE, START_TIMEOUT_S)
        server.stop()
    vault_files = sorted(data_dir.glob("*.vault"))
    if not vault_files:
        raise SmokeFailure(f"first run created no *.vault file in {data_dir}")
    if vault_files[0].read_bytes()[:16] == SQLITE_PLAIN_HEADER:
        raise SmokeFailure(f"{vault_files[0].name} is a plain SQLite file: the bundle did not use SQLCipher")
    step("first run: create vault, serve, SIGTERM", started)

    started = time.monotonic()
    wrong = _run_cli(binary, ["token", "list", "--data-dir", str(data_dir)], "not the passphrase at all")
    # Exit code 2 with the user message, not just any failure: a missing module in the bundle also exits non-zero.
    if wrong.returncode != 2 or "passphrase" not in wrong.stderr:
        raise SmokeFailure(f"a wrong passphrase gave exit code {wrong.returncode}, expected 2\n{wrong.stderr[-2000:]}")
    step("wrong passphrase refused", started)

    started = time.monotonic()
    created = _run_cli(binary, ["token", "create", "--name", "smoke", "--data-dir", str(data_dir)], PASSPHRASE)
    if created.returncode != 0:
        raise SmokeFailure(f"token create exited with {created.returncode}\n{created.stderr[-2000:]}")
    lines = [line.strip() for line in created.stdout.splitlines() if line.strip()]
    if len(lines) < 2:
        raise SmokeFailure(f"token create printed no token:\n{created.stdout}")
    token = lines[-1]  # the token is printed alone on the last line
    step("token create (unlock existing vault)", started)

    started = time.monotonic()
    # The PDF record of processing: fpdf2, Pillow and the DejaVu fonts from resources/ are only loaded here.
    pdf = data_dir / "ropa.pdf"
    exported = _run_cli(binary, ["export", "ropa", "--out", str(pdf), "--data-dir", str(data_dir)], PASSPHRASE)
    if exported.returncode != 0 or not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
        raise SmokeFailure(f"export ropa to PDF failed ({exported.returncode})\n{exported.stderr[-2000:]}")
    step("export ropa --out ropa.pdf (fonts, fpdf2)", started)

    started = time.monotonic()
    with running_server(binary, data_dir) as server:
        match = server.wait_for_line(ENDPOINT_LINE, START_TIMEOUT_S)
        step("second run: unlock vault, serve", started)

        started = time.monotonic()
        url, fingerprint = match["url"], match["fp"]
        cert_file = _find_cert(data_dir)
        status, _ = _get_service_provider_config(url, fingerprint, cert_file, token=None)
        if status != 401:
            raise SmokeFailure(f"/ServiceProviderConfig without a token answered {status}, expected 401")
        status, body = _get_service_provider_config(url, fingerprint, cert_file, token=token)
        if status != 200:
            raise SmokeFailure(f"/ServiceProviderConfig answered {status}: {body[:300]!r}\n{server.stderr_tail()}")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise SmokeFailure(f"/ServiceProviderConfig is not JSON: {body[:300]!r}") from exc
        if SPC_SCHEMA not in document.get("schemas", []) or "patch" not in document:
            raise SmokeFailure(f"/ServiceProviderConfig is not a ServiceProviderConfig: {document}")
        step("HTTPS /ServiceProviderConfig (pinned, 401 then 200)", started)

        started = time.monotonic()
        server.stop()
        step("SIGTERM -> Stopped.", started)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--binary", type=Path, default=default_binary(), help="the frozen executable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder for inspection")
    args = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="custos-smoke-"))
    print(f"Smoke test of {args.binary} (data folder {data_dir})", flush=True)
    try:
        result = run_smoke(args.binary.resolve(), data_dir)
    except (SmokeFailure, subprocess.TimeoutExpired, OSError) as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"SMOKE TEST PASSED in {result.total:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
