"""How the erasure views name each line of a request: the mirror, a target, a recipient without a SCIM target
(Art. 19, done by hand), the identity provider."""

from __future__ import annotations

from app.services.erasure import STEP_TEXT, Preview, TargetLine

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


_MODES = {
    "delete": "deleted, then verified",
    "deactivate": "deactivated only (erasure not confirmed)",
    "manual": "needs a confirmation by an operator",
    "recipient": "no SCIM target: tell them, then attest (Art. 19)",
}


def preview_rows(result: Preview) -> list[tuple[str, str, str]]:
    """What an erasure will do where, before it is asked for: (where, what happens, how many subjects). Shown by
    the erasure dialog and by the Requests page before a request's erasure, so both say the same."""
    rows = [("This Custos mirror", "deleted now", str(result.found))]
    rows += [
        (where(name), _MODES.get(result.modes[name], result.modes[name]), str(count))
        for name, count in result.per_target.items()
    ]
    # The identity provider keeps sending the person until removed there; Custos refuses them meanwhile.
    rows.append((where("source"), f"{STEP_TEXT} (Custos refuses the person if sent again)", str(result.found)))
    return rows


ATTEST_IN_HISTORY = "then attest it in Records → Erasure history… (Attest…)"


def detail(line: TargetLine, *, attest_here: bool = True) -> str:
    """A line's detail as the app says it, its next step with the app's way to take it: the button of the erasure
    history, or, in a view without that button (the erasure dialog), the way to it."""
    if line.next_step is None:  # ATTEST_SOURCE is the only one
        return line.detail
    return f"{line.detail}, " + ("then attest it here (Attest…)" if attest_here else ATTEST_IN_HISTORY)
