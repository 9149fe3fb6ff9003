"""The dispatcher's counters are written by two threads at once: its loop counts a refused push, the worker thread
that records outcomes counts an item out of attempts. ``+=`` on an attribute is a read, an add and a write: two
threads interleaving there lose counts."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import CodeType, FrameType, SimpleNamespace

import pytest

from app.dsr.restriction import is_restricted
from app.feed import outbox
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.client import Rejected
from app.targets.dispatcher import Dispatcher, _Retry

ROUNDS = 50


class _Refusing:
    """Stands in for a target's pusher: every push is refused (the loop counts a failure)."""

    config = SimpleNamespace(name="refusing")

    async def run(self, item: outbox.WorkItem, may_exist: bool) -> object:
        raise Rejected("refused", 400)


def _yielding_in(code: CodeType) -> Callable[..., object]:
    """A tracer that hands the GIL to the other thread before every instruction of ``code``: what the scheduler
    does now and then, done at every step, so that an unguarded read-add-write shows within a test."""

    def per_opcode(frame: FrameType, event: str, arg: object) -> object:
        if event == "opcode":
            time.sleep(0)
        return per_opcode

    def tracer(frame: FrameType, event: str, arg: object) -> object:
        if frame.f_code is not code:
            return None
        frame.f_trace_opcodes = True
        return per_opcode

    return tracer


@pytest.fixture
def quick_handover() -> Iterator[None]:
    """The other thread hands the GIL back after 10 µs instead of 5 ms: the yields above then cost little."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _last_attempt(seq: int) -> outbox.WorkItem:
    return outbox.WorkItem(seq, 1, "User", f"u{seq}", "create", outbox.MAX_ATTEMPTS - 1)


def test_failures_counted_by_the_loop_and_the_recording_thread_at_once_are_all_counted(
    vault: Vault, quick_handover: None
) -> None:
    dispatcher = Dispatcher(vault, PolicyInForce(vault), restricted=is_restricted)
    pusher = _Refusing()
    out_of_attempts = [(pusher, _last_attempt(seq), _Retry("busy", 503, None)) for seq in range(ROUNDS)]

    def record() -> None:  # the thread _flush hands a batch of outcomes to (asyncio.to_thread)
        sys.settrace(_yielding_in(Dispatcher._write.__code__))
        try:
            dispatcher._write(out_of_attempts)  # type: ignore[arg-type]
        finally:
            sys.settrace(None)

    async def refuse_until_recorded(recording: threading.Thread) -> int:
        dispatcher._flush_now = asyncio.Event()
        refused = 0
        while recording.is_alive():
            await dispatcher._push(pusher, _last_attempt(ROUNDS + refused))  # type: ignore[arg-type]
            refused += 1
        return refused

    recording = threading.Thread(target=record)
    recording.start()
    refused = asyncio.run(refuse_until_recorded(recording))
    recording.join(60)
    assert refused > 0
    assert dispatcher.failures == ROUNDS + refused  # before: counts lost where the two threads interleaved
