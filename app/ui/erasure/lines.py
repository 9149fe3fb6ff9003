"""How the erasure views name each line of a request: the mirror, a target, a recipient without a SCIM target
(Art. 19, done by hand), the identity provider."""

from __future__ import annotations

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


def detail(text: str) -> str:
    """A line's detail as the app says it: the command the CLI names becomes the button here."""
    return text.replace("then 'erase attest --source'", "then attest it here (Attest…)")
