"""The step state machine against a scripted target, driven with a fake clock: 429 with Retry-After, 500s on
the backoff schedule, giving up after the maximum attempts, verification failure, rejection, and resuming
after a crash without a second DELETE."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from app.audit.trail import of_kind
from app.erasure import steps
from app.erasure.model import State
from app.erasure.requests import request_erasure
from app.erasure.tables import ErasureExchange, ErasureStep
from app.erasure.worker import ErasureWorker
from app.feed import links
from app.feed.tables import TargetLink
from app.store.vault import Vault
from tests.erasure.stub import StubTarget
from tests.erasure.support import FakeClock, TargetSpec, add_targets, held_without_push, person, service_for


def _erase_one(vault: Vault, stub: StubTarget, clock: FakeClock) -> str:
    ids = add_targets(vault, [TargetSpec(stub.name, stub.base_url, stub.token)])
    service = service_for(vault)
    rid = str(service.create("User", person("sched@example.test")).body["id"])  # type: ignore[index]
    service.close()
    held_without_push(vault, rid, {ids[stub.name]: stub.add_user("sched@example.test")})
    return request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())


def _step(vault: Vault) -> dict[str, object]:
    with vault.read_connection() as conn:
        return dict(conn.execute(select(ErasureStep)).mappings().one())


def _delay(vault: Vault, clock: FakeClock) -> float:
    next_attempt = steps.utc(_step(vault)["next_attempt"])  # type: ignore[arg-type]
    assert next_attempt is not None
    return (next_attempt - clock.now.astimezone(UTC)).total_seconds()


def _exchanges(vault: Vault) -> list[tuple[str, int | None]]:
    with vault.read_connection() as conn:
        rows = conn.execute(select(ErasureExchange.method, ErasureExchange.status).order_by(ErasureExchange.id))
        return [(m, s) for m, s in rows]


def test_retry_after_and_backoff_schedule(vault: Vault, stub: StubTarget) -> None:
    clock = FakeClock()
    request_id = _erase_one(vault, stub, clock)
    worker = ErasureWorker(vault, clock=clock)
    stub.script.extend([("DELETE", 429, {"Retry-After": "120"}), ("DELETE", 500, {}), ("DELETE", 503, {})])

    assert worker.tick() == 1
    assert _step(vault)["state"] == State.FAILED and _delay(vault, clock) >= 120  # Retry-After honoured
    clock.advance(119)
    assert worker.tick() == 0  # not due yet
    clock.advance(1)
    assert worker.tick() == 1
    assert _step(vault)["attempts"] == 2 and 1.0 <= _delay(vault, clock) <= 2.0  # 2^(2-1) s with jitter
    clock.advance(2)
    assert worker.tick() == 1
    assert _step(vault)["attempts"] == 3 and 2.0 <= _delay(vault, clock) <= 4.0
    clock.advance(4)
    assert worker.tick() == 1

    step = _step(vault)
    assert step["state"] == State.SUCCEEDED and step["attempts"] == 4
    # After a 5xx the target may have deleted all the same (a gateway timing out after the deletion): each retry
    # reads first and sends its DELETE only because the account is still there. A 429 was not processed.
    assert _exchanges(vault) == [
        ("DELETE", 429),
        ("DELETE", 500),
        ("GET", 200),
        ("DELETE", 503),
        ("GET", 200),
        ("DELETE", 204),
        ("GET", 404),
    ]
    assert steps.utc(step["first_attempt"]) < steps.utc(step["confirmed"])  # type: ignore[arg-type, operator]
    with vault.read_connection() as conn:
        assert conn.execute(select(ErasureStep.request_id)).scalar() == request_id


def test_gives_up_after_max_attempts_then_operator_retry(vault: Vault, stub: StubTarget) -> None:
    clock = FakeClock()
    request_id = _erase_one(vault, stub, clock)
    worker = ErasureWorker(vault, clock=clock, max_attempts=3)
    stub.script.extend([(None, 500, {})] * 3)
    for _ in range(3):
        assert worker.tick() == 1
        clock.advance(10)
    step = _step(vault)
    assert step["state"] == State.ACTION_REQUIRED and "gave up after 3 attempts" in str(step["reason"])
    assert step["remote_id"] is not None  # kept: an operator can retry
    with vault.write_transaction() as conn:
        assert steps.retry(conn, request_id, None, "dpo", clock()) == 1
    with vault.read_connection() as conn:  # the operator's step-in is on the trail, in the retry's transaction
        (retried,) = of_kind(conn, "erasure.retried")
    assert retried.actor == "operator:dpo" and retried.details == {"request": request_id, "target": None, "steps": 1}
    assert worker.tick() == 1
    assert _step(vault)["state"] == State.SUCCEEDED


def test_a_target_that_keeps_the_user_fails_verification(vault: Vault, stub: StubTarget) -> None:
    stub.keeps_deleted = True
    clock = FakeClock()
    _erase_one(vault, stub, clock)
    ErasureWorker(vault, clock=clock).tick()
    step = _step(vault)
    assert step["state"] == State.VERIFICATION_FAILED
    assert "DELETE with 204 but still serves the account (GET 200)" in str(step["reason"])
    assert _exchanges(vault) == [("DELETE", 204), ("GET", 200)]
    with vault.read_connection() as conn:
        assert conn.execute(select(TargetLink.remote_id)).scalar() is not None  # kept until resolved


def test_a_rejection_needs_an_operator(vault: Vault, stub: StubTarget) -> None:
    clock = FakeClock()
    _erase_one(vault, stub, clock)
    stub.script.append(("DELETE", 403, {}))
    ErasureWorker(vault, clock=clock).tick()
    step = _step(vault)
    assert step["state"] == State.ACTION_REQUIRED and "403" in str(step["reason"])


def test_resume_after_a_crash_sends_no_second_delete(vault: Vault, stub: StubTarget) -> None:
    clock = FakeClock()
    _erase_one(vault, stub, clock)
    # A worker claims the step, its DELETE reaches the target, and it dies before recording anything: the lease
    # keeps others off until it runs out.
    with vault.write_transaction() as conn:
        assert len(steps.claim_due(conn, clock(), {1: 4})) == 1
    stub.users.clear()  # what the dead worker's DELETE did there
    worker = ErasureWorker(vault, clock=clock)
    assert worker.tick() == 0
    clock.advance(steps.LEASE_SECONDS)
    # The next attempt cannot know whether that DELETE was sent: it reads first, and the read fails once.
    stub.script.append(("GET", 503, {}))
    assert worker.tick() == 1
    assert _step(vault)["state"] == State.FAILED and _step(vault)["deleted_status"] is None
    clock.advance(600)
    assert worker.tick() == 1  # still unconfirmed: reads first again, finds it gone
    assert _step(vault)["state"] == State.SUCCEEDED
    assert stub.count("DELETE") == 0 and stub.count("GET") == 2
    assert _exchanges(vault) == [("GET", 503), ("GET", 404)]


def test_a_delete_answered_502_after_deleting_is_not_sent_again(vault: Vault, stub: StubTarget) -> None:
    """A gateway that timed out while the target deleted: the retry finds the account gone."""
    clock = FakeClock()
    _erase_one(vault, stub, clock)
    worker = ErasureWorker(vault, clock=clock)
    stub.script.append(("DELETE", 502, {}))
    assert worker.tick() == 1
    stub.users.clear()  # what the target did behind the gateway
    clock.advance(600)
    assert worker.tick() == 1
    assert _step(vault)["state"] == State.SUCCEEDED
    assert stub.count("DELETE") == 1
    assert _exchanges(vault) == [("DELETE", 502), ("GET", 404)]


def test_an_accepted_delete_is_only_verified_again(vault: Vault, stub: StubTarget) -> None:
    clock = FakeClock()
    _erase_one(vault, stub, clock)
    worker = ErasureWorker(vault, clock=clock)
    stub.script.append(("GET", 503, {}))  # the DELETE is accepted but the read-back fails
    assert worker.tick() == 1
    assert _step(vault)["state"] == State.FAILED and _step(vault)["deleted_status"] == 204
    clock.advance(600)
    assert worker.tick() == 1
    assert _step(vault)["state"] == State.SUCCEEDED
    assert stub.count("DELETE") == 1 and stub.count("GET") == 2


def test_a_push_in_flight_is_waited_for(vault: Vault, stub: StubTarget) -> None:
    """Erased while its create was still queued: each target waits for that push's link before it is judged."""
    clock = FakeClock()
    specs = [
        TargetSpec("late", stub.base_url, stub.token),
        TargetSpec("never", stub.base_url, stub.token),
        TargetSpec("paper", stub.base_url, stub.token, erase_mode="manual"),
    ]
    ids = add_targets(vault, specs)
    service = service_for(vault)
    rid = str(service.create("User", person("inflight@example.test")).body["id"])  # type: ignore[index]
    service.close()  # its upserts stay queued: no dispatcher ran
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())
    worker = ErasureWorker(vault, clock=clock)
    assert worker.tick() == 0  # nobody is judged during the grace period
    with vault.write_transaction() as conn:  # the pushes that were in flight land at two targets
        links.save(conn, ids["late"], "User", rid, stub.add_user("inflight@example.test"), 1)
        links.save(conn, ids["paper"], "User", rid, "paper-42", 1)
    clock.advance(steps.IN_FLIGHT_GRACE_SECONDS)
    assert worker.tick() == 1
    with vault.read_connection() as conn:
        rows = conn.execute(
            select(ErasureStep.target_name, ErasureStep.state).where(ErasureStep.request_id == request_id)
        )
        states = dict(rows.all())
    assert states == {"late": "succeeded", "never": "skipped", "paper": "waiting_manual"}
    assert stub.count("DELETE") == 1  # the manual target got nothing


def test_a_push_that_lands_ends_the_wait_at_once(vault: Vault, stub: StubTarget) -> None:
    """The grace period is a longest wait, not a fixed one: once a push in flight is recorded (its link), the step
    runs at the next tick. It used to wait the whole 20 s, which an erasure requested between "the target created
    the account" and "the dispatcher recorded it" always did (the tombstone test timed out under load)."""
    clock = FakeClock()
    specs = [TargetSpec("late", stub.base_url, stub.token), TargetSpec("never", stub.base_url, stub.token),
             TargetSpec("paper", stub.base_url, stub.token, erase_mode="manual")]  # fmt: skip
    ids = add_targets(vault, specs)
    service = service_for(vault)
    rid = str(service.create("User", person("landed@example.test")).body["id"])  # type: ignore[index]
    service.close()  # its upserts stay queued: no dispatcher ran
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())
    worker = ErasureWorker(vault, clock=clock)
    assert worker.tick() == 0
    with vault.write_transaction() as conn:  # the pushes in flight land at two targets, a second later
        links.save(conn, ids["late"], "User", rid, stub.add_user("landed@example.test"), 1)
        links.save(conn, ids["paper"], "User", rid, "paper-7", 1)
    clock.advance(1)
    assert worker.tick() == 1  # not 19 s later
    with vault.read_connection() as conn:
        rows = conn.execute(
            select(ErasureStep.target_name, ErasureStep.state).where(ErasureStep.request_id == request_id)
        )
        states = dict(rows.all())
    assert states == {"late": "succeeded", "never": "queued", "paper": "waiting_manual"}
    assert stub.count("DELETE") == 1
    clock.advance(steps.IN_FLIGHT_GRACE_SECONDS)  # a push that never lands is still waited for the whole grace
    assert worker.tick() == 0
    assert _step_state(vault, request_id, "never") == "skipped"


def _step_state(vault: Vault, request_id: str, target: str) -> str:
    with vault.read_connection() as conn:
        where = (ErasureStep.request_id == request_id, ErasureStep.target_name == target)
        return str(conn.execute(select(ErasureStep.state).where(*where)).scalar_one())
