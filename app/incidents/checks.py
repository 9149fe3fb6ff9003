"""What the register accepts: its fields and their choices, a title, counts, the authority-form details, the
order of an incident's times, and what closing or dismissing needs. Pure checks: each refuses with a message
for the operator and writes nothing; the app's dialogs ask the public ones before they close (no typed
reasoning is lost to a refusal)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from app.core.log_redaction import has_email_address
from app.incidents import completeness
from app.incidents.refusals import AnswerMissing, IncidentError, Missing, Order, TimeOrderRefused
from app.incidents.view import IncidentView

RISKS = ("none", "risk", "high_risk")
BREACH_TYPES = ("confidentiality", "integrity", "availability")  # WP250rev.01, EDPB 9/2022
SPECIAL = ("yes", "no", "unknown")
EXEMPTIONS = {
    "a": "Art. 34(3)(a): the data were unintelligible to anyone not authorised (e.g. encrypted)",
    "b": "Art. 34(3)(b): later measures ensure the high risk is no longer likely to materialise",
    "c": "Art. 34(3)(c): it would involve disproportionate effort; a public communication instead",
}
EDITABLE_TIMES = ("occurred_from", "occurred_to", "detected_at", "processor_notified_at", "investigation_at",
                  "contained_at")  # fmt: skip
DETAILS = frozenset(
    {
        "subject_categories", "breach_types", "cause", "discovery", "special_categories", "authority",
        "cross_border", "lead_authority", "other_authorities", "processor", "subject_summary", "subject_advice",
    }
)  # fmt: skip
EDITABLE = frozenset(
    {
        "title", "description", "nature", "categories", "approx_subjects", "approx_records", "dpo_contact",
        "consequences", "measures", "delay_reason", *EDITABLE_TIMES, *DETAILS,
    }
)  # fmt: skip
LISTS = ("categories", "subject_categories", "breach_types")  # stored as JSON
MAX_COUNT = 2**63 - 1  # SQLite's INTEGER


TITLE_LIMIT = 200  # characters kept of a title


def checked_title(title: str) -> str:
    """The title as kept: one line (a line break split the ``breach list`` table), and no e-mail address. The title
    is shown on the overview, in lists and drafts, and outlives the erasure of anyone it names; the person belongs
    in the description, which stays in the incident's record. Public: the app's Open dialog asks this same rule
    before it closes, so what the operator typed is never lost to a refusal after the dialog has gone."""
    kept = title.strip()
    if not kept:
        raise IncidentError("An incident needs a title.")
    if any(unicodedata.category(character) == "Cc" for character in kept):
        raise IncidentError("An incident's title is one line: no line breaks, tabs or other control characters.")
    if has_email_address(kept):
        raise IncidentError(
            "An incident's title must not name a person (it holds an e-mail address): it is shown in lists and "
            "outlives the person's erasure. Describe the people affected in the description instead."
        )
    return kept[:TITLE_LIMIT]


def check_counts(values: dict[str, Any]) -> None:
    """The approximate numbers of subjects and records are counts: a negative one went into the register and the
    authority's draft as given ('approx_subjects: -5'), one past SQLite's INTEGER ended in an OverflowError."""
    for name in ("approx_subjects", "approx_records"):
        number = values.get(name)
        if number is not None and not 0 <= number <= MAX_COUNT:
            raise IncidentError(f"The approximate number of {name.removeprefix('approx_')} is from 0 to {MAX_COUNT:,}.")


def checked_details(values: dict[str, Any]) -> dict[str, Any]:
    """The authority-form fields, normalised; a clear refusal for a value outside their choices."""
    checked = dict(values)
    for name in ("subject_categories", "breach_types"):
        if name in checked:
            checked[name] = list(dict.fromkeys(str(v).strip() for v in checked[name] if str(v).strip()))
    wrong = sorted(set(checked.get("breach_types", ())) - set(BREACH_TYPES))
    if wrong:
        raise IncidentError(f"A breach type is one of {', '.join(BREACH_TYPES)} (not {', '.join(wrong)}).")
    special = checked.get("special_categories")
    if special is not None and special not in SPECIAL:
        raise IncidentError(f"Special-category involvement is one of {', '.join(SPECIAL)}.")
    for name in DETAILS - {"special_categories", "cross_border", *LISTS}:
        if name in checked:
            checked[name] = str(checked[name]).strip()
    if "cross_border" in checked and checked["cross_border"] is not None:
        checked["cross_border"] = bool(checked["cross_border"])
    return checked


def checked_times(current: IncidentView, values: dict[str, Any]) -> datetime | None:
    """The incident's times with ``values`` changed, checked together; the awareness the deadline runs from (the
    earliest recorded). Public: the app's time dialogs ask this same check before they close, so a refused time
    never costs the operator the reasoning typed with it."""
    merged = {**current.fields, **values}
    anchor = min(t for t in (current.aware_anchor, merged["aware_at"]) if t) if merged["aware_at"] else None
    check_times(merged, anchor)
    check_order(merged, set(values))
    return anchor


def check_times(values: dict[str, Any], anchor: datetime | None) -> None:
    """Each refusal names both times, to the second, as the others do: "cannot be aware before the incident was
    detected" alone left the operator (who may have meant a local time that was read as UTC) to look them up."""
    occurred_from, occurred_to = values.get("occurred_from"), values.get("occurred_to")
    detected, aware, contained = values.get("detected_at"), values.get("aware_at"), values.get("contained_at")
    if occurred_from and occurred_to and occurred_to < occurred_from:
        raise TimeOrderRefused(Order("window_ends_before_start", "occurred_to", occurred_to, "occurred_from",
                                     occurred_from, ("occurred_to", "occurred_from")))  # fmt: skip
    # Against the awareness recorded now, not the anchor: an early awareness later corrected (a typo) stays the
    # anchor, so the deadline never moves later, but it is no longer the record's awareness and must not block a
    # true detection time. Detection does not move the deadline, so this takes nothing from the guarantee.
    if detected and aware and aware < detected:
        raise TimeOrderRefused(Order("aware_before_detected", "aware_at", aware, "detected_at", detected,
                                     ("aware_at", "detected_at")))  # fmt: skip
    processor = values.get("processor_notified_at")
    if processor and anchor and anchor > processor:
        # EDPB Guidelines 9/2022 (example 5): the controller is aware once its processor has informed it. An
        # awareness recorded later let the clock start late and a late notification read "notified in time".
        raise TimeOrderRefused(Order("aware_after_processor", "aware_at", anchor, "processor_notified_at",
                                     processor, ("aware_at", "processor_notified_at")))  # fmt: skip
    if occurred_from and contained and contained < occurred_from:
        raise TimeOrderRefused(Order("contained_before_start", "contained_at", contained, "occurred_from",
                                     occurred_from, ("contained_at", "occurred_from")))  # fmt: skip


def check_order(values: dict[str, Any], changed: set[str]) -> None:
    """Orders the timeline must keep, checked when a change gives one of their times (a record kept before these
    checks stays editable in its other fields): nobody is aware of a breach before it began, nobody is told of it
    (Art. 34) before it began or was detected, and the processor's notice to the controller is a detection, so the
    breach was detected by then at the latest.

    The occurrence window is often an estimate; its start is then the earliest time it may have begun, and the
    refusal says to widen it rather than to move the awareness (a judgement recorded with its reasons). Nor is a
    breach detected before it began: an alert's candidate has no occurrence window, so it never meets this."""
    began, aware, detected = values.get("occurred_from"), values.get("aware_at"), values.get("detected_at")
    if began and detected and detected < began and changed & {"occurred_from", "detected_at"}:
        raise TimeOrderRefused(Order("detected_before_start", "detected_at", detected, "occurred_from", began,
                                     ("detected_at", "occurred_from"), estimate="occurred_from"))  # fmt: skip
    if began and aware and aware < began and changed & {"occurred_from", "aware_at"}:
        # Widen the estimated start rather than move the awareness (a judgement recorded with its reasons).
        raise TimeOrderRefused(Order("aware_before_start", "aware_at", aware, "occurred_from", began,
                                     ("occurred_from",), estimate="occurred_from"))  # fmt: skip
    informed = values.get("subjects_informed_at")
    if informed and changed & {"subjects_informed_at", "detected_at", "occurred_from"}:
        for rule, name in (("informed_before_detected", "detected_at"), ("informed_before_start", "occurred_from")):
            before = values.get(name)
            if before and informed < before:
                raise TimeOrderRefused(Order(rule, "subjects_informed_at", informed, name, before,
                                             ("subjects_informed_at", name)))  # fmt: skip
    detected, processor = values.get("detected_at"), values.get("processor_notified_at")
    if detected and processor and detected > processor and changed & {"detected_at", "processor_notified_at"}:
        raise TimeOrderRefused(Order("detected_after_processor", "detected_at", detected, "processor_notified_at",
                                     processor, ("detected_at", "processor_notified_at")))  # fmt: skip


def check_closable(merged: dict[str, Any], current: IncidentView) -> None:
    risk = merged.get("risk")
    if risk is None:
        raise IncidentError("Assess the risk (none, risk or high_risk) before closing.")
    if risk == "none":
        if not current.first_notified and not merged.get("not_notified_rationale"):
            raise AnswerMissing(Missing("not_notified_rationale", ("rationale",), current.id))
        return
    missing = completeness.missing(merged, completeness.ART33)
    if missing:
        raise IncidentError("Before closing, record: " + "; ".join(missing) + ".")
    if not current.first_notified:
        raise IncidentError("A breach with a risk must be notified to the supervisory authority before closing.")
    if risk == "high_risk" and not (merged.get("subjects_informed_at") or merged.get("art34_exemption")):
        raise IncidentError("High risk: inform the data subjects (Art. 34) or record the Art. 34(3) exemption.")


def check_dismissable(_merged: dict[str, Any], current: IncidentView) -> None:
    if current.fields["aware_at"] is not None:
        raise IncidentError(f"Incident {current.id}: the controller is recorded as aware of a breach, so it is no "
                            "longer a candidate to dismiss; assess the risk and close it instead.")  # fmt: skip
