"""The register's refusals of an impossible order or a missing answer, as facts a front end words for itself.

The register is used from the command line and from the app's dialogs. A refusal that named the command and its
options ("correct the detection (breach update --detected … --reason …)") sent a DPO at a dialog to options it does
not have. So a refusal carries what was refused in the register's own terms: which time, which other time it
conflicts with, both values, and which times (or answers) would put it right. ``custos breach`` words it with its
options; the app with the labels of the dialog that shows it. ``user_message`` says it in the register's terms
alone, for any other reader (a log line, a caller that does not word it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.errors import ConfigError
from app.core.utc import utc_text
from app.incidents.times import LABELS


class IncidentError(ConfigError):
    """A change the register refuses, with what to do instead."""


def said(moment: datetime | None) -> str:
    """A time in a refusal: to the second, as the register compares them (at minutes, an operator read two equal
    times in a refusal that one preceded the other)."""
    return utc_text(moment, seconds=True) if moment else "—"


# Each order the timeline keeps: (the time refused, the time it conflicts with) and the fact, said with both.
FACTS = {
    "window_ends_before_start": "The occurrence window ends ({at}) before it starts ({other_at})",
    "aware_before_detected": "The controller cannot be aware ({at}) before the incident was detected ({other_at})",
    "aware_after_processor": "The processor informed the controller at {other_at}: the controller is aware from "
    "then at the latest (EDPB Guidelines 9/2022), so the 72-hour clock cannot start later",
    "contained_before_start": "The incident cannot be contained ({at}) before it occurred ({other_at})",
    "detected_before_start": "The breach cannot have been detected ({at}) before it began ({other_at})",
    "aware_before_start": "The controller cannot be aware ({at}) before the breach began ({other_at})",
    "informed_before_detected": "The data subjects cannot have been told of the breach ({at}) before it was "
    "detected ({other_at})",
    "informed_before_start": "The data subjects cannot have been told of the breach ({at}) before it began "
    "({other_at})",
    "detected_after_processor": "The processor informed the controller at {other_at}, so the breach was detected "
    "by then at the latest, not {at}",
}


@dataclass(frozen=True)
class Order:
    """Two times out of order: ``time`` at ``at`` cannot be on that side of ``other`` at ``other_at``."""

    rule: str  # a key of FACTS
    time: str  # a time of the register (``times.LABELS``)
    at: datetime
    other: str
    other_at: datetime
    fixes: tuple[str, ...]  # the times whose correction would put it right, the likelier first
    estimate: str | None = None  # a time that is often an estimate, put right by an earlier value (the start)

    @property
    def fact(self) -> str:
        """What is wrong, with both times, without a full stop (a front end says next what would fix it)."""
        return FACTS[self.rule].format(at=said(self.at), other_at=said(self.other_at))


class TimeOrderRefused(IncidentError):
    """Times the register refuses together, as ``order`` says them; ``user_message`` in the register's terms."""

    def __init__(self, order: Order) -> None:
        fixes = " or ".join(LABELS[name] for name in order.fixes)
        super().__init__(f"{order.fact}: correct {fixes}, whichever is wrong.")
        self.order = order


# What the register needs and was not given, by the change that needs it.
ANSWERS = {
    "correction_reason": "{time} is already recorded ({recorded}). A correction to {at} needs its reason; the "
    "earlier time stays on record.",
    "awareness_correction": "Awareness of incident {incident} is already recorded ({recorded}). To correct it, give "
    "the corrected time and the reason for the correction; the deadline keeps running from the earliest awareness "
    "recorded, {anchor}.",
    "informed_correction": "The data subjects of incident {incident} are already recorded as informed ({recorded}). "
    "To correct the time, give it and the reason for the correction.",
    "notification_correction": "A correction needs the corrected time and its reason.",
    "delay_reason": "This notification is past the 72-hour deadline: Art. 33(1) requires the reasons for the delay.",
    "not_notified_rationale": "Not notified: record why the breach is unlikely to result in a risk.",
}


@dataclass(frozen=True)
class Missing:
    """A change refused for want of ``needs`` (answers of the register: ``at``, ``reason``, ``delay_reason``,
    ``rationale``); the time concerned, what is recorded and what was given, where there is one."""

    case: str  # a key of ANSWERS
    needs: tuple[str, ...]
    incident: int
    time: str | None = None
    recorded: datetime | None = None
    at: datetime | None = None
    anchor: datetime | None = None  # the earliest awareness, which the deadline runs from

    def values(self) -> dict[str, str]:
        """The fields as a front end's template names them."""
        label = LABELS[self.time] if self.time else ""
        return {"incident": str(self.incident), "time": label, "recorded": said(self.recorded), "at": said(self.at),
                "anchor": said(self.anchor)}  # fmt: skip


class NoSuchNotification(IncidentError):
    """A notification named by its number (1, 2, … in the order recorded) that the incident does not have."""

    def __init__(self, incident: int, number: int) -> None:
        super().__init__(f"Incident {incident} has no notification {number}.")
        self.incident = incident
        self.number = number


class AnswerMissing(IncidentError):
    """A change the register refuses until it is given ``missing.needs``; ``user_message`` in its own terms."""

    def __init__(self, missing: Missing) -> None:
        super().__init__(ANSWERS[missing.case].format(**missing.values()))
        self.missing = missing
