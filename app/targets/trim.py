"""After a PUT of a User: take back what the account holds beyond the mapping, and say only what a read-back shows.

RFC 7644 §3.5.1 makes a PUT a replacement, and Custos relies on it: an attribute the policy stops sending leaves
the target with the next PUT. Some applications merge a PUT into the account instead (Okta and Entra apps among
them), so what the PUT leaves out stays there for good, and a repair that sends the same PUT again changes nothing.
The account as the PUT's answer shows it (or a GET where the answer carries none) is compared with what was sent;
anything beyond it is removed with one PATCH ``remove`` per path, and the account is read again: only what that
read no longer shows is called removed (decision 0039).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.targets.client import Answer, Rejected, Retryable, TargetClient
from app.targets.compare import beyond

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass(frozen=True)
class Trimmed:
    """Attribute paths (never values): removed as a read-back confirmed, and still held with why."""

    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    why: str | None = None


def _resource(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """A PUT's answer as the account it now holds, if it is one (some answer 204, or only an id)."""
    return body if body is not None and "id" in body and "userName" in body else None


async def trim(client: TargetClient, remote_id: str, payload: dict[str, Any], answer: Answer) -> Trimmed:
    """Remove from the User ``remote_id`` what it holds beyond ``payload`` (just PUT, answered with ``answer``)."""
    held = _resource(answer.body)
    if held is None:
        read = await client.get("User", remote_id)
        held = _resource(read.body) if read.status == 200 else None
    extra = beyond(payload, held) if held is not None else []
    if not extra:
        return Trimmed()
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": path} for path in extra]}
    try:
        await client.request("PATCH", f"/Users/{remote_id}", body)
    except (Rejected, Retryable) as exc:
        if isinstance(exc, Retryable) and exc.status != 501:
            raise  # busy or unreachable: the whole push is tried again (the PUT is idempotent)
        # a target without PATCH (501 Not Implemented, RFC 7644 §3.5.2), or one refusing the removal
        return Trimmed([], extra, f"removal refused: {exc}")
    read = await client.get("User", remote_id)
    after = _resource(read.body) if read.status == 200 else None
    if after is None:
        return Trimmed([], extra, f"the account could not be read back (GET answered {read.status})")
    still = beyond(payload, after)
    removed = [path for path in extra if path not in still]
    return Trimmed(removed, still, "still held after the removal was acknowledged" if still else None)
