"""The vocabulary of erasure: step states, legal grounds, and how each state reads in a report."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"  # an attempt failed; another follows at next_attempt
    SUCCEEDED = "succeeded"  # erased at the target: verified by GET 404, or attested by an operator
    ACTION_REQUIRED = "action_required"  # rejected by the target, or out of attempts: an operator must act
    WAITING_MANUAL = "waiting_manual"  # a manual target: waits for an operator's attestation
    SKIPPED = "skipped"  # nothing to erase there (with the reason)
    DEPROVISIONED_NOT_ERASED = "deprovisioned_not_erased"  # a deactivate-only target: never reported as erased
    VERIFICATION_FAILED = "verification_failed"  # the target accepted the DELETE yet still serves the account


# The worker picks these up; every other state waits for nothing automatic.
DUE = (State.QUEUED, State.FAILED, State.IN_PROGRESS)  # in_progress: only once its lease ran out (a crash)
TERMINAL = frozenset(
    {
        State.SUCCEEDED,
        State.ACTION_REQUIRED,
        State.SKIPPED,
        State.DEPROVISIONED_NOT_ERASED,
        State.VERIFICATION_FAILED,
    }
)
# Resolved: nothing more can be done at the target, so its ids and the target link are dropped.
RESOLVED = frozenset({State.SUCCEEDED, State.SKIPPED, State.DEPROVISIONED_NOT_ERASED})
# Terminal but unresolved: the ids stay so that an operator can retry or attest.
OPERATOR_CAN_ATTEST = frozenset(
    {State.WAITING_MANUAL, State.ACTION_REQUIRED, State.VERIFICATION_FAILED, State.DEPROVISIONED_NOT_ERASED}
)
RETRYABLE_BY_OPERATOR = frozenset({State.ACTION_REQUIRED, State.VERIFICATION_FAILED})

LABELS = {
    State.QUEUED: "queued",
    State.IN_PROGRESS: "in progress",
    State.FAILED: "failed, retrying",
    State.SUCCEEDED: "erased",
    State.ACTION_REQUIRED: "action required",
    State.WAITING_MANUAL: "waiting on manual confirmation",
    State.SKIPPED: "skipped",
    State.DEPROVISIONED_NOT_ERASED: "deprovisioned, erasure not confirmed",
    State.VERIFICATION_FAILED: "verification failed",
}

# How a succeeded step was confirmed (erasure_steps.method): Custos's DELETE read back as gone, an operator's
# attestation, or a target that no longer held the account when the DELETE came (it answered 404): absent, which
# the receipt must not word as an erasure Custos carried out there.
VERIFIED, ATTESTED, ABSENT = "verified", "attested", "absent"
_HOW = {VERIFIED: "erased (verified)", ATTESTED: "erased (attested)", ABSENT: "already absent (verified)"}

GROUNDS = {
    "art17-1a": "Art. 17(1)(a): no longer necessary for the purposes collected",
    "art17-1b": "Art. 17(1)(b): consent withdrawn",
    "art17-1c": "Art. 17(1)(c): objection to the processing",
    "art17-1d": "Art. 17(1)(d): unlawfully processed",
    "art17-1e": "Art. 17(1)(e): erasure required by a legal obligation",
    "art17-1f": "Art. 17(1)(f): data of a child collected for information society services",
    "retention": "Art. 5(1)(e): retention period expired",
    "replay": "Replay of an earlier erasure after a backup restore",
}
DEFAULT_GROUND = "art17-1a"


def label(state: str, method: str | None = None) -> str:
    if state == State.SUCCEEDED and method:
        return _HOW.get(method, _HOW[VERIFIED])
    return LABELS.get(State(state), state)
