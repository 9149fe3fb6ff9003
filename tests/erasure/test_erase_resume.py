"""kill -9 of the erasure worker after the target carried out its DELETEs but before the worker recorded them: the
next worker checks first (GET) and sends no second DELETE, as decision 0010 promises. Against a real scim2-server
behind a counting proxy, with the first worker a separate process killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.erasure.requests import request_erasure
from app.erasure.tables import ErasureExchange, ErasureStep
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.erasure.proxy import CountingProxy
from tests.erasure.support import FakeClock, TargetSpec, add_targets, dispatcher_for, person, service_for
from tests.targets.conftest import ScimTarget, wait_until

SUBJECTS = 4  # the target's default max_concurrency: every DELETE is in flight (and held) at once
_WORKER = """
import sys, time
from pathlib import Path
from app.audit.vault_lifecycle import unlock_vault
from app.erasure.worker import ErasureWorker
vault = unlock_vault(Path(sys.argv[1]), sys.argv[2])
ErasureWorker(vault, poll_seconds=0.05).start()
time.sleep(60)
"""


def _states(vault: Vault) -> list[str]:
    with vault.read_connection() as conn:
        return sorted(conn.execute(select(ErasureStep.state)).scalars())


def test_kill_9_mid_step_sends_no_second_delete(
    vault: Vault, data_dir: Path, apps: list[ScimTarget], proxy: CountingProxy
) -> None:
    add_targets(vault, [TargetSpec("app1", f"{proxy.base_url}/v2", apps[0].token, "app1")])
    service, dispatcher = service_for(vault), dispatcher_for(vault)
    try:
        names = [f"resume-{n}@example.test" for n in range(SUBJECTS)]
        rids = [str(service.create("User", person(name)).body["id"]) for name in names]  # type: ignore[index]
        wait_until(lambda: names[-1] in {u["userName"] for u in apps[0].users()})
    finally:
        dispatcher.stop()
        service.close()
    request_erasure(vault, rids, "art17-1b", "dpo")

    proxy.hold_deletes.set()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, str(data_dir), PASSPHRASE], cwd=root, env=env)
    try:
        wait_until(lambda: proxy.received["DELETE"] == SUBJECTS, timeout=30)  # carried out, answers held
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    proxy.release()
    assert _states(vault) == ["in_progress"] * SUBJECTS  # leased by the dead worker, nothing recorded
    assert not any(name in {u["userName"] for u in apps[0].users()} for name in names)

    clock = FakeClock()  # 2030: the dead worker's leases have run out
    resumed = ErasureWorker(vault, clock=clock)
    for _ in range(5):
        if _states(vault) == ["succeeded"] * SUBJECTS:
            break
        resumed.tick()
        clock.advance(300)

    assert _states(vault) == ["succeeded"] * SUBJECTS
    assert proxy.received["DELETE"] == SUBJECTS  # one DELETE per subject in all: none sent a second time
    with vault.read_connection() as conn:
        methods = conn.execute(select(ErasureExchange.method, ErasureExchange.status)).all()
    assert sorted(methods) == [("GET", 404)] * SUBJECTS  # the resumed attempt only checked
