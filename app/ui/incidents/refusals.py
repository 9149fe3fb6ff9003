"""The register's refusals as the app says them: with the labels of the dialog that shows them, or the page's
buttons, never the command line's options.

The register refuses in its own terms (which time, which other time, both values, what would fix it), and each
front end words that. Before, the register named ``breach update --detected … --reason …``, and a DPO at the time
dialog read options it has no way to give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.services.incidents import LABELS, AnswerMissing, Missing, NoSuchNotification, Order, TimeOrderRefused
from app.ui.policy.common import user_message

# The Incidents page's buttons (without their keyboard accelerators), where a time or an answer is given.
TIME_ACTION = "Record or correct a time…"
ACTIONS = {"aware_at": "Record awareness…", "contained_at": "Containment…",
           "subjects_informed_at": "Art. 34: inform or exempt…"}  # fmt: skip
DELAY_ACTION = "Reasons for delay…"
CLOSE_ACTION = "Close…"


def plain(label: str) -> str:
    """A form label as read: without the ``&`` that marks its Alt key."""
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&")


@dataclass(frozen=True)
class Here:
    """Where the refusal is shown: the dialog's label for each time it edits (none on the page itself), and the
    label of its list of times (``listed``) where the dialog lets the operator pick another (the time dialog's
    "Time")."""

    fields: Mapping[str, str] = field(default_factory=dict)
    chooser: str | None = None
    listed: frozenset[str] = frozenset()

    def elsewhere(self, name: str) -> str:
        """Where a time this dialog does not edit is corrected: in its list, else with the page's button."""
        if self.chooser and name in self.listed:
            return f"choose “{LABELS[name]}” under “{self.chooser}”"
        return f"“{ACTIONS.get(name, TIME_ACTION)}”"

    def fix(self, name: str) -> str:
        if name in self.fields:
            return f"change “{self.fields[name]}”"
        return f"correct {LABELS[name]} ({self.elsewhere(name)})"


ON_THE_PAGE = Here()


def order_words(order: Order, here: Here = ON_THE_PAGE) -> str:
    """Two times out of order, with both, and which of the dialog's fields (or the page's buttons) would fix it."""
    fixes = " or ".join(here.fix(name) for name in order.fixes)
    text = f"{order.fact}: {fixes}" + (", whichever is wrong." if len(order.fixes) > 1 else ".")
    if order.estimate:
        where = f"in “{here.fields[order.estimate]}”" if order.estimate in here.fields else (
            f"as {LABELS[order.estimate]} ({here.elsewhere(order.estimate)})")  # fmt: skip
        text += f" If the start is an estimate, give {where} the earliest time the breach may have begun."
    return text


# What the register needs, said with the page's buttons that ask for it.
_ANSWERS = {
    "correction_reason": "{time} is already recorded ({recorded}). A correction to {at} needs its reason (the "
    f"“Reason” of “{TIME_ACTION}”); the earlier time stays on record.",
    "awareness_correction": "Awareness of incident {incident} is already recorded ({recorded}). To correct it, give "
    f"the corrected time and the reason for the correction (“{ACTIONS['aware_at']}”); the deadline keeps running "
    "from the earliest awareness recorded, {anchor}.",
    "informed_correction": "The data subjects of incident {incident} are already recorded as informed ({recorded}). "
    f"To correct the time, give it and the reason for the correction (“{TIME_ACTION}”).",
    "notification_correction": f"A correction needs the corrected time and its reason (“{TIME_ACTION}”).",
    "delay_reason": "This notification is past the 72-hour deadline: Art. 33(1) requires the reasons for the delay. "
    f"Record them with “{DELAY_ACTION}”, then record the notification's time again.",
    "not_notified_rationale": "Not notified: record why the breach is unlikely to result in a risk (the "
    f"“Rationale” of “{CLOSE_ACTION}”).",
}


def missing_words(missing: Missing) -> str:
    return _ANSWERS[missing.case].format(**missing.values())


def refusal_words(error: Exception, fallback: str, here: Here = ON_THE_PAGE) -> str:
    """Any error of a change as the app says it: a register refusal in the app's own words, else its message."""
    if isinstance(error, TimeOrderRefused):
        return order_words(error.order, here)
    if isinstance(error, AnswerMissing):
        return missing_words(error.missing)
    if isinstance(error, NoSuchNotification):  # another process changed the incident while the dialog was open
        return f"{error.user_message} Its notifications are listed under “{TIME_ACTION}”."
    return user_message(error, fallback)
