"""How ``custos breach show`` and the changes it records say an incident and its times: UTC, to the minute or
the second as the register compares them, and beside it the controller's zone or the one ``--zone`` names
(the printed formats are in ``app.commands.breach``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.utc import utc_text
from app.core.zones import offset_text


def when_text(moment: datetime, zone: str | None) -> str:
    """A time as ``show`` gives it: UTC to the second, as the register compares times (at minutes, two times that
    looked equal were refused as out of order), then in ``zone`` with its UTC offset, when one is chosen."""
    text = utc_text(moment, seconds=True)
    return text if zone is None else f"{text} ({offset_text(moment, zone or None)})"


def show_incident(view: Any, origin: Any, now: datetime, zone: str | None, shown: str | None = None) -> None:
    """``origin``: opened by hand or by which alert; ``zone``: the controller's (the deadline there); ``shown``: the
    zone every time is also given in."""
    print(f"Incident {view.id}: {view.fields['title']}")
    print(f"  state: {view.state}")
    print(f"  source: {origin.describe()}")
    _show_fields(view.fields, shown)
    for note in view.notifications:
        when = when_text(note.at, shown)
        print(f"  notified ({note.kind}): {when}, reference {note.reference} (notification {note.number})")
    _show_clock(view, now, zone, shown)
    _show_history(view, shown)


def _show_fields(f: dict[str, Any], shown: str | None) -> None:
    """The recorded fields, in the order of the Art. 33(3) form: times, figures, lists, then the authorities."""
    for key in ("occurred_from", "occurred_to", "detected_at", "processor_notified_at", "investigation_at",
                "aware_at", "contained_at", "risk_at", "subjects_informed_at", "closed_at"):  # fmt: skip
        if f[key]:
            print(f"  {key}: {when_text(f[key], shown)}")
    for key in ("risk", "approx_subjects", "approx_records", "special_categories"):
        if f[key] is not None:
            print(f"  {key}: {f[key]}")
    for key in ("categories", "subject_categories", "breach_types"):
        if f[key]:
            print(f"  {key}: {', '.join(f[key])}")
    if f["cross_border"] is not None:
        print(f"  cross_border: {'yes' if f['cross_border'] else 'no'}")
    for key in ("authority", "lead_authority", "other_authorities", "processor"):
        if f[key]:
            print(f"  {key}: {f[key]}")


def _show_clock(view: Any, now: datetime, zone: str | None, shown: str | None) -> None:
    """What is still to record, the 72-hour clock, and where it runs from when awareness was corrected later."""
    from app.services.incidents import still_to_record, zoned_text

    f = view.fields
    if view.state != "closed" and (missing := still_to_record(f, view.clock(now).state)):
        print(f"  still to record: {'; '.join(missing)}")
    status = view.clock(now)
    print(f"  clock: {status.describe(seconds=True)}")
    if status.deadline is not None and zone and zone != "UTC":  # as `breach aware` says it, and the Incidents page
        print(f"  deadline in the controller's zone: {zoned_text(status.deadline, zone)}")
    if view.aware_anchor and view.aware_anchor != f["aware_at"]:
        print(f"  clock runs from: {when_text(view.aware_anchor, shown)} (the earliest awareness recorded; a later "
              "time is kept below and does not move the deadline back)")  # fmt: skip


def _show_history(view: Any, shown: str | None) -> None:
    if not view.history:
        return
    numbers = {n.id: n.number for n in view.notifications}
    seen: set[tuple[str, int | None]] = set()
    print("  history:")
    for entry in view.history:
        key = (entry.name, entry.notification_id)
        name = f"notified #{numbers.get(entry.notification_id, '?')}" if entry.name == "notified" else entry.name
        kind = ", correction" if key in seen else ""
        seen.add(key)
        reason = f": {entry.reason}" if entry.reason else ""
        recorded = f"recorded {utc_text(entry.recorded_at, seconds=True)} by {entry.recorded_by}{kind}"
        print(f"    {name} = {when_text(entry.at, shown)} ({recorded}){reason}")


def corrected_text(before: Any, after: Any, name: str) -> str:
    return change_text(before.fields[name], after.fields[name])


def change_text(old: datetime, new: datetime) -> str:
    """``OLD → NEW``, to the second when either has seconds: at minutes, 09:00:30 corrected to 09:00:10 read
    "09:00 UTC → 09:00 UTC", a correction that seemed to change nothing (``show`` and refusals give seconds)."""
    return f"{at_text(old, old, new)} → {at_text(new, old, new)}"


def at_text(moment: datetime, *times: datetime | None) -> str:
    """``moment`` at minutes, or to the second when any of ``times`` has seconds."""
    return utc_text(moment, seconds=any(t is not None and (t.second or t.microsecond) for t in times))


def deadline_text(deadline: datetime, zone: str | None) -> str:
    """The deadline in UTC, then where the controller is when its zone is known (``dsr settings --time-zone``, or
    the country of the policy's controller); this machine's zone is nobody's in particular (a server's is UTC)."""
    from app.services.incidents import zoned_text

    return utc_text(deadline) + (f" ({zoned_text(deadline, zone)})" if zone else "")

