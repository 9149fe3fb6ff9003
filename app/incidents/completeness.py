"""What an incident's record still lacks: the Art. 33(3) minimum (closing a breach with a risk needs it) and
what supervisory authorities' notification forms ask besides (shown so the DPO can fill it before notifying)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = tuple[str, Callable[[dict[str, Any]], object]]

ART33: tuple[Check, ...] = (
    ("nature of the breach (Art. 33(3)(a))", lambda f: f["nature"]),
    ("categories of data subjects (Art. 33(3)(a))", lambda f: f["subject_categories"]),
    ("categories of data (Art. 33(3)(a))", lambda f: f["categories"]),
    ("approximate number of subjects (Art. 33(3)(a))", lambda f: f["approx_subjects"] is not None),
    ("approximate number of records (Art. 33(3)(a))", lambda f: f["approx_records"] is not None),
    ("DPO contact (Art. 33(3)(b))", lambda f: f["dpo_contact"]),
    ("likely consequences (Art. 33(3)(c))", lambda f: f["consequences"]),
    ("measures taken or proposed (Art. 33(3)(d))", lambda f: f["measures"]),
)
FORM: tuple[Check, ...] = (
    ("breach type", lambda f: f["breach_types"]),
    ("cause", lambda f: f["cause"]),
    ("how it was discovered", lambda f: f["discovery"]),
    ("special-category involvement", lambda f: f["special_categories"]),
    ("supervisory authority", lambda f: f["authority"]),
    ("cross-border or not", lambda f: f["cross_border"] is not None),
    ("lead authority", lambda f: f["cross_border"] is not True or f["lead_authority"]),
    ("other authorities told", lambda f: f["other_authorities"]),
    ("processor involvement", lambda f: f["processor"]),
)


def missing(fields: dict[str, Any], checks: tuple[Check, ...]) -> list[str]:
    return [label for label, present in checks if not present(fields)]


LATE = ("overdue", "notified_late")  # clock states in which any notification is (or will be) past 72 hours
DELAY_REASON = "reasons for the delay (Art. 33(1): the notification is later than 72 hours after awareness)"


def still_to_record(fields: dict[str, Any], clock_state: str = "") -> list[str]:
    """Every Art. 33(3) item and authority-form field not yet recorded, in the order of the draft; past the
    72-hour deadline (``clock_state`` overdue or notified late) also the reasons for the delay, which Art. 33(1)
    requires with a late notification: the draft cannot leave them out."""
    late = [DELAY_REASON] if clock_state in LATE and not (fields.get("delay_reason") or "").strip() else []
    return missing(fields, ART33) + late + missing(fields, FORM)
