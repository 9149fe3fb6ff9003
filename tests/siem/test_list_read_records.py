"""A list read of 1,000 people goes to a SIEM as one record a collector takes whole.

Decision 0049 put the people a list read returned on its entry (``read_subjects``, ~67 bytes a person). OCSF
forwarded every public detail: a 1,000-result page was a ~68 KB syslog message, which rsyslog (8 KiB by default)
and syslog-ng (64 KiB) truncate into broken JSON, the event lost. CEF cut its 1,023-character ``msg`` inside the
list: ~14 of 1,000 pseudonyms, as if that were the list, and the details after it (results, total_results) gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app.audit.trail import READ_SUBJECTS
from app.siem.forwarded import FORWARDED_SUBJECTS, NOT_FORWARDED, SUBJECT_COUNT
from app.siem.forwarder import send_pending
from app.siem.syslog import Collector, frame, message
from tests.conftest import LiveServer
from tests.list_reads import add_users, list_read
from tests.siem.conftest import Listener
from tests.siem.test_cef import split_cef

BUDGET = 8 * 1024  # octets of a whole RFC 5425 frame: rsyslog's default maxMessageSize, the smallest common cap
HOST = "h" * 64  # a long host name in the header: the budget holds for it too
PREFIX = "siemlisted"


@pytest.fixture(scope="module")
def people(live: LiveServer) -> Iterator[LiveServer]:
    add_users(live, PREFIX, 1000)
    yield live


def _ocsf_details(text: str) -> dict[str, object]:
    record = json.loads(text[text.index("{") :])  # the MSG after the header and structured data
    details: dict[str, object] = record["unmapped"]["details"]
    return details


def test_a_thousand_people_read_in_one_page_fit_a_collector_and_are_counted(
    people: LiveServer, listener: Listener
) -> None:
    entry = list_read(people, PREFIX, 1000)
    collector = Collector("127.0.0.1", listener.port, listener.certificate.fingerprint, format="ocsf")
    send_pending(people.server.vault, collector)
    listener.wait_for(entry.seq)
    (received,) = [m for m in listener.messages if f'seq="{entry.seq}"' in m]
    size = len(received.encode())
    assert size <= BUDGET
    details = _ocsf_details(received)
    assert READ_SUBJECTS not in details  # never a part of the list as if it were all of it
    assert details[SUBJECT_COUNT] == 1000 and details["results"] == 1000
    assert details[NOT_FORWARDED] == f"the 1000 pseudonyms are on the audit trail, entry seq {entry.seq}"
    cef = frame(message(entry, hostname=HOST, fmt="cef"))
    assert len(cef) <= BUDGET
    msg = json.loads(split_cef(cef.decode().split(" CEF:", 1)[1])[1]["msg"])  # whole JSON, not cut
    assert msg[SUBJECT_COUNT] == 1000 and READ_SUBJECTS not in msg
    assert (msg["results"], msg["total_results"]) == (1000, 1000) and str(entry.seq) in msg[NOT_FORWARDED]


def test_up_to_fifty_people_go_out_by_name_within_the_budget(people: LiveServer) -> None:
    """OCSF names up to FORWARDED_SUBJECTS people (a SIEM can search them); CEF's 1,023-character msg holds ~14, so
    it names them only when all fit, and otherwise gives the count, never a part of the list."""
    entry = list_read(people, PREFIX, FORWARDED_SUBJECTS)
    ocsf = frame(message(entry, hostname=HOST, fmt="ocsf"))
    size = len(ocsf)
    assert size <= BUDGET
    details = _ocsf_details(ocsf.decode())
    assert details[READ_SUBJECTS] == entry.details[READ_SUBJECTS] and details[SUBJECT_COUNT] == FORWARDED_SUBJECTS
    assert NOT_FORWARDED not in details
    _, cef = split_cef(message(entry, hostname=HOST, fmt="cef").split(" CEF:", 1)[1])
    assert READ_SUBJECTS not in json.loads(cef["msg"]) and json.loads(cef["msg"])[SUBJECT_COUNT] == FORWARDED_SUBJECTS
    few = list_read(people, PREFIX, 3)
    _, cef = split_cef(message(few, hostname=HOST, fmt="cef").split(" CEF:", 1)[1])
    assert json.loads(cef["msg"])[READ_SUBJECTS] == few.details[READ_SUBJECTS]
