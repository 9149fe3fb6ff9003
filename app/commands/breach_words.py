"""How ``custos breach`` words the register's refusals: with its own commands and options.

The register refuses in its own terms (``app.incidents.refusals``: which time, which other time, which answers are
missing), since the app shows the same refusals in dialogs that have no options. These lines are what the command
printed when the register still spoke in options; they are a contract, so they stay as they were, to the character.
"""

from __future__ import annotations

from app.core.errors import ConfigError
from app.services.incidents import AnswerMissing, Missing, NoSuchNotification, Order, TimeOrderRefused

# After the fact of each order (``Order.fact``): what the command offers to put it right.
_FIXES = {
    "window_ends_before_start": ".",
    "aware_before_detected": ".",
    "contained_before_start": ".",
    "aware_after_processor": ". Record awareness at or before that time (breach aware --at … --reason …), or "
    "correct the processor's time if it is wrong.",
    "detected_before_start": ": correct the detection (breach update --detected … --reason …) or, if the start is an "
    "estimate, give the earliest time it may have begun (--occurred-from …).",
    "aware_before_start": ". If the start is an estimate, give the earliest time it may have begun (breach update "
    "--occurred-from …, with --reason when correcting it).",
    "informed_before_detected": ": correct the time they were informed (breach inform --at … --reason …) or the "
    "other time if it is wrong.",
    "informed_before_start": ": correct the time they were informed (breach inform --at … --reason …) or the other "
    "time if it is wrong.",
    "detected_after_processor": ": correct the detection (breach update --detected … --reason …) or the "
    "processor's time if it is wrong.",
}

_ANSWERS = {
    "correction_reason": "{time} is already recorded ({recorded}). A correction to {at} needs its reason (--reason); "
    "the earlier time stays on record.",
    "awareness_correction": "Awareness of incident {incident} is already recorded ({recorded}). To correct it, give "
    "the corrected time (--at) and the reason for the correction (--reason); the deadline keeps running from the "
    "earliest awareness recorded, {anchor}.",
    "informed_correction": "The data subjects of incident {incident} are already recorded as informed ({recorded}). "
    "To correct the time, give it (--at) and the reason for the correction (--reason).",
    "notification_correction": "A correction needs the corrected time (--at) and its reason (--reason).",
    "delay_reason": "This notification is past the 72-hour deadline: Art. 33(1) requires the reasons for the delay "
    "(--delay-reason).",
    "not_notified_rationale": "Not notified: record why the breach is unlikely to result in a risk (--rationale).",
}


def order_text(order: Order) -> str:
    return order.fact + _FIXES[order.rule]


def missing_text(missing: Missing) -> str:
    return _ANSWERS[missing.case].format(**missing.values())


def worded(error: Exception) -> Exception:
    """``error`` as the command says it: a register refusal in its options, anything else as it is."""
    if isinstance(error, TimeOrderRefused):
        return ConfigError(order_text(error.order))
    if isinstance(error, AnswerMissing):
        return ConfigError(missing_text(error.missing))
    if isinstance(error, NoSuchNotification):
        return ConfigError(f"Incident {error.incident} has no notification {error.number} (see breach show).")
    return error
