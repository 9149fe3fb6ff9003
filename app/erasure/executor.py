"""One attempt of one step against its target: DELETE then read back, or deactivate and check.

A retry whose DELETE was never recorded as answered reads first: a DELETE is sent at most once per subject and
target, even across a kill -9 between the target's answer and the vault's record (decision 0010).

Returns what happened as data (app.erasure.steps.record persists it). Errors are sorted as the provisioning
client sorts them: Retryable (connection trouble, 5xx, 429 with Retry-After) is tried again later; Rejected (any
other 4xx) needs an operator. Every answer is kept as status + SHA-256 of the body, never the body itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.erasure.model import ABSENT, State
from app.erasure.steps import NOT_SENT, AttemptResult, Exchange, StepWork
from app.targets.client import Answer, Rejected, Retryable, TargetClient, TargetError

Clock = Callable[[], datetime]
_DEACTIVATE = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "replace", "path": "active", "value": False}],
}


class Attempt:
    def __init__(self, client: TargetClient, clock: Clock) -> None:
        self.client = client
        self.clock = clock

    async def run(self, work: StepWork) -> AttemptResult:
        result = AttemptResult(State.FAILED)
        if work.erase_mode == "manual":  # never sent anything: a person erases there and attests
            return AttemptResult(State.WAITING_MANUAL, "manual target: erase the account there, then attest")
        try:
            if work.erase_mode == "deactivate":
                await self._deactivate(work, result)
            else:
                await self._delete(work, result)
        except Retryable as exc:
            self._failed_exchange(result, exc)
            result.state, result.reason, result.retry_after = State.FAILED, str(exc), exc.retry_after
            result.status = exc.status
        except Rejected as exc:
            self._failed_exchange(result, exc)
            result.state, result.reason, result.status = State.ACTION_REQUIRED, str(exc), exc.status
        return result

    async def _call(self, result: AttemptResult, method: str, work: StepWork) -> Answer:
        path = f"/{work.resource_type}s/{work.remote_id}"
        result.exchanges.append(Exchange(self.clock(), method, None, None, "sent"))  # replaced by the answer
        body = _DEACTIVATE if method == "PATCH" else None
        answer = await self.client.request(method, path, body)
        result.exchanges[-1] = Exchange(self.clock(), method, answer.status, answer.digest)
        result.status = answer.status
        return answer

    async def _delete(self, work: StepWork, result: AttemptResult) -> None:
        deleted = work.deleted_status
        if deleted is None and work.delete_unconfirmed:  # look first: a target that already deleted gets no second
            before = await self._call(result, "GET", work)
            if before.status == 404:
                result.state = State.SUCCEEDED
                result.reason = "GET answered 404 (an earlier DELETE's outcome was unknown; not sent again)"
                return
        if deleted is None:  # a DELETE accepted on an earlier attempt is not sent again: only re-verified
            deleted = (await self._call(result, "DELETE", work)).status
            result.deleted_status = deleted
        check = await self._call(result, "GET", work)
        if check.status == 404 and deleted == 404:  # gone before our DELETE came: not erased by Custos there
            result.state, result.method = State.SUCCEEDED, ABSENT
            result.reason = "the target no longer held the account: DELETE answered 404; GET answered 404"
        elif check.status == 404:
            result.state = State.SUCCEEDED
            result.reason = f"DELETE answered {deleted}; GET answered 404"
        else:
            result.state = State.VERIFICATION_FAILED
            result.reason = (
                f"the target answered DELETE with {deleted} but still serves the account (GET {check.status})"
            )

    async def _deactivate(self, work: StepWork, result: AttemptResult) -> None:
        patched = await self._call(result, "PATCH", work)
        check = await self._call(result, "GET", work)
        if check.status == 404:
            result.state, result.reason = State.SUCCEEDED, "the target no longer holds the account (GET 404)"
        elif patched.status != 404 and (check.body or {}).get("active") is False:
            result.state = State.DEPROVISIONED_NOT_ERASED
            result.reason = "deactivate-only target: account deactivated (active=false), erasure not confirmed"
        else:
            result.state = State.ACTION_REQUIRED
            result.reason = f"deactivation not confirmed (PATCH {patched.status}, account still active)"

    def _failed_exchange(self, result: AttemptResult, exc: TargetError) -> None:
        if result.exchanges and result.exchanges[-1].note == "sent":
            sent = result.exchanges[-1]
            unsent = isinstance(exc, Retryable) and not exc.sent  # no connection: the target never saw it
            note = (NOT_SENT if unsent else "") + str(exc)
            result.exchanges[-1] = Exchange(self.clock(), sent.method, exc.status, None, note[:120])
