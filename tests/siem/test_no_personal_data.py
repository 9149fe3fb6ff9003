"""What goes to a SIEM holds no personal data: after a subject is created, changed, refused an attribute and erased,
no CEF line, OCSF record or syslog message carries the SCIM id, the user name, the names or the e-mail."""

from __future__ import annotations

from app.audit.trail import read
from app.erasure.requests import request_erasure
from app.siem.cef import to_cef
from app.siem.ocsf import to_ocsf
from app.siem.syslog import frame, message
from app.store.vault import Vault
from tests.erasure.support import person, service_for
from tests.policy_support import hold_everything

USER_NAME = "ottoline.vexbridge@example.test"


def test_siem_output_after_erasure_names_nobody(vault: Vault) -> None:
    hold_everything(vault)
    service = service_for(vault)
    try:
        rid = str(service.create("User", person(USER_NAME, "Ottoline", "Vexbridge")).body["id"])  # type: ignore[index]
        service.replace("User", rid, {**person(USER_NAME, "Ottoline", "Quillfeather"), "id": rid})
    finally:
        service.close()
    request_erasure(vault, [rid], "art17-1b", "dpo", reason="consent withdrawn")
    with vault.read_connection() as conn:
        events = list(read(conn))
    kinds = {event.kind for event in events}
    assert {"scim.resource.created", "scim.resource.replaced", "erasure.requested", "subject.shredded"} <= kinds
    artefacts = [to_cef(e) for e in events] + [str(to_ocsf(e)) for e in events]
    artefacts += [frame(message(e, hostname="h", fmt=fmt)).decode() for e in events for fmt in ("cef", "ocsf")]
    text = "\n".join(artefacts).lower()
    for needle in (rid, USER_NAME, "ottoline", "vexbridge", "quillfeather", "example.test"):
        assert needle.lower() not in text
    assert any(e.subject for e in events if e.kind == "scim.resource.created")  # a pseudonym went out instead
