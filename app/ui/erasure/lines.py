"""How the erasure views name each line of a request: the mirror, a target, a recipient without a SCIM target
(Art. 19, done by hand), the identity provider."""

from __future__ import annotations

from app.services.erasure import TargetLine

PREVIEW_HEADERS = ("Where", "What happens", "Subjects")
STATUS_HEADERS = ("Where", "State", "Detail")


def where(line_target: str) -> str:
    if line_target == "local":
        return "This Custos mirror"
    if line_target == "source":
        return "Identity provider (source)"
    if line_target.startswith("recipient:"):
        return f"Recipient {line_target.split(':', 1)[1]} (no SCIM target)"
    return line_target


ATTEST_IN_HISTORY = "then attest it in Records → Erasure history… (Attest…)"


def detail(line: TargetLine, *, attest_here: bool = True) -> str:
    """A line's detail as the app says it, its next step with the app's way to take it: the button of the erasure
    history, or, in a view without that button (the erasure dialog), the way to it."""
    if line.next_step is None:  # ATTEST_SOURCE is the only one
        return line.detail
    return f"{line.detail}, " + ("then attest it here (Attest…)" if attest_here else ATTEST_IN_HISTORY)
