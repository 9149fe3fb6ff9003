"""A request's entry on the trail carries the time the request was answered, not the time its batch was written.

The request recorder writes entries in batches (about 0.25 s later, or much later when the writer is held up);
before decision 0034 each entry took the time of its batch. Real server over HTTPS on a real SQLCipher vault; the
server's clock is injected where the test needs to say when a request was served.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.audit import recorder as recorder_module
from app.audit.lateness import LATE_AFTER, LATE_KIND, margin
from app.audit.query import EventFilter, page
from app.audit.trail import iso_utc, of_kind, read
from app.audit.verify import verify_trail
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from tests.conftest import LiveServer, VaultTemplate, new_user
from tests.policy_support import hold_everything


class FakeClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.moment

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clocked(tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, FakeClock]]:  # fmt: skip
    # The recorder writes a batch only when the server stops: "later" is whenever the test says.
    monkeypatch.setattr(recorder_module, "FLUSH_SECONDS", 60.0)
    folder = tmp_path_factory.mktemp("clocked")
    vault = vault_template.open_copy(folder)
    hold_everything(vault)
    _, token = TokenStore(vault).create("Okta")
    tls = ensure_self_signed(folder)
    clock = FakeClock(datetime.now(UTC).replace(microsecond=123456))
    server = ScimServer(vault, tls=tls, bus=EventBus(), clock=clock)
    server.start()
    yield LiveServer(server, token, tls.cert_path, folder), clock
    server.stop()
    vault.close()


def test_a_request_served_at_t_is_on_the_trail_at_t_when_its_batch_is_written_later(
    clocked: tuple[LiveServer, FakeClock],
) -> None:
    live, clock = clocked
    served = clock()
    with live.client() as http:
        assert http.get("/Users").status_code == 200  # served at T
        clock.advance(1.5)
        assert http.get("/Groups").status_code == 200  # served at T + 1.5 s
    clock.advance(2.0)  # the batch is written at T + 3.5 s
    live.server.stop()
    with live.server.vault.read_connection() as conn:
        requests = sorted(of_kind(conn, "scim.request"), key=lambda e: e.seq)
        late = of_kind(conn, LATE_KIND)
    assert [(e.details["endpoint"], e.at) for e in requests] == [
        ("Users", iso_utc(served)),
        ("Groups", iso_utc(served + timedelta(seconds=1.5))),
    ]
    assert late == []  # 3.5 s is within the bound: nothing to report


def test_a_batch_written_past_the_bound_says_so_and_widens_what_time_filters_search(
    clocked: tuple[LiveServer, FakeClock],
) -> None:
    """A writer held up for five minutes: the entry keeps its time, the trail says how late it was written, and
    readers that find a time range by seq look that much further (tests/audit/test_lateness.py shows why)."""
    live, clock = clocked
    served = clock()
    with live.client() as http:
        assert http.get("/Users").status_code == 200  # served at T
    clock.advance(300)
    live.server.stop()  # written at T + 300 s
    vault = live.server.vault
    with vault.read_connection() as conn:
        (request,) = of_kind(conn, "scim.request")
        (late,) = of_kind(conn, LATE_KIND)
        found = page(conn, EventFilter(kind_prefix="scim.request", since=served, until=served + timedelta(seconds=1)))
        widened = margin(conn)
    assert request.at == iso_utc(served)
    assert late.details == {"count": 1, "seconds": 300, "bound_seconds": int(LATE_AFTER.total_seconds())}
    assert late.seq > request.seq and late.at == iso_utc(served + timedelta(seconds=300))
    assert [e.seq for e in found] == [request.seq]
    assert widened == timedelta(seconds=301)


def test_a_request_entry_is_timed_within_its_request_and_the_trail_still_verifies(live: LiveServer) -> None:
    """With the real clock: the entry's time lies between sending the request and reading its answer (the batch
    is written about 0.25 s after); it follows the change the request made, in the chain and in time."""
    assert live.server.recorder is not None
    live.server.recorder.flush()
    with live.client() as http:
        sent = datetime.now(UTC)
        created = http.post("/Users", json=new_user("timed@example.test"))
        answered = datetime.now(UTC)
    assert created.status_code == 201
    live.server.recorder.flush()
    with live.server.vault.read_connection() as conn:
        (request,) = [e for e in of_kind(conn, "scim.request", limit=5) if e.details.get("status") == 201][:1]
        (change,) = of_kind(conn, "scim.resource.created", limit=1)
        report = verify_trail(conn)
        entries = list(read(conn, start=change.seq))
    assert iso_utc(sent) <= request.at <= iso_utc(answered)
    assert change.seq < request.seq and change.at <= request.at
    assert report.ok and not any("clock went back" in note for note in report.notes), report.notes
    assert entries[0].seq == change.seq


def test_concurrent_requests_are_written_in_the_order_of_their_times(live: LiveServer) -> None:
    """Each entry is timed and queued in one step on the event loop when its answer is ready, so however requests
    interleave (a write waits in a thread while reads are answered), the recorder writes request entries in time
    order: ``audit verify`` has no clock going back to report."""
    assert live.server.recorder is not None
    live.server.recorder.flush()
    with live.server.vault.read_connection() as conn:
        before = max((e.seq for e in of_kind(conn, "scim.request", limit=1)), default=0)

    def requests(worker: int) -> None:  # reads answered on the event loop, writes in the write threads
        with live.client() as http:
            for n in range(15):
                if n % 3:
                    http.get("/Users", params={"count": str(n % 3), "filter": f'userName sw "{n}"'})
                else:
                    http.post("/Users", json=new_user(f"order-{worker}-{n}@example.test"))

    workers = [threading.Thread(target=requests, args=(worker,)) for worker in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    live.server.recorder.flush()
    with live.server.vault.read_connection() as conn:
        mine = [e for e in read(conn, start=before + 1) if e.kind == "scim.request"]
        report = verify_trail(conn)
    assert len(mine) == 90
    assert [e.at for e in mine] == sorted(e.at for e in mine)
    assert not any("clock went back" in note for note in report.notes), report.notes
