"""What of an entry's details goes to a SIEM: the public details, with a list read's people bounded.

A list read names the people it returned (``read_subjects``, decision 0049): up to 1,000 pseudonyms of 64 hex
digits on a 1,000-result page, ~67 KB. Octet counting (RFC 5425) frames a message of any length, but collectors
cap what they accept (rsyslog's default maxMessageSize is 8 KiB, syslog-ng's log-msg-size 64 KiB) and truncate the
rest: the JSON breaks and the event is lost, or a list arrives cut short and reads as complete. So a record names
the people only up to ``FORWARDED_SUBJECTS``; beyond that it gives their number and says where the list is (the
audit trail, by the entry's seq), and never a part of the list. ``read_subjects_count`` is always given, so a rule
counts people read the same way whether or not the list went out.
"""

from __future__ import annotations

from typing import Any

from app.audit.pseudonyms import public_details
from app.audit.trail import READ_SUBJECTS, StoredEvent

FORWARDED_SUBJECTS = 50  # 50 x 67 bytes: ~3.4 KB, a record well within an 8 KiB collector limit
SUBJECT_COUNT = "read_subjects_count"
NOT_FORWARDED = "read_subjects_not_forwarded"


def forwarded_details(event: StoredEvent, most: int = FORWARDED_SUBJECTS) -> dict[str, Any]:
    """The public details; a list of more than ``most`` people read is replaced by its count and where it is."""
    details = public_details(event.details)  # a new dict: the entry itself is left as it is
    returned = details.get(READ_SUBJECTS)
    if not isinstance(returned, list):
        return details
    details[SUBJECT_COUNT] = len(returned)
    if len(returned) > most:
        del details[READ_SUBJECTS]
        details[NOT_FORWARDED] = f"the {len(returned)} pseudonyms are on the audit trail, entry seq {event.seq}"
    return details
