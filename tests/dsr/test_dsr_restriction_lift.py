"""Art. 18(3): "A data subject who has obtained restriction … shall be informed by the controller before the
restriction of processing is lifted." On main ``dsr restrict --lift`` lifted the flag and recorded nothing of it;
now a lift needs when and how the person was told, refuses without (one line naming the flags, nothing written),
and puts both on the trail (no personal data: a time and a means) and in ``dsr show``'s timeline. Real vault; the
register's clock injected; the CLI in process on the real clock (the times are in the past either way)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.audit.trail import of_kind
from app.cli import main
from app.dsr.register import RequestError
from app.dsr.restriction import is_restricted
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.dsr.dsr_support import register_at, with_person

RECEIVED = datetime(2026, 2, 2, 9, tzinfo=UTC)


def _restricted(vault: Vault) -> tuple[str, str]:
    subject = with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["restriction"], "email", "dpo", RECEIVED, subject_id=subject)
    register.record_task(request_id, "accuracy contested: restricted at the IdP", "dpo")
    return subject, request_id


def _lifts(vault: Vault) -> list[dict[str, object]]:
    with vault.read_connection() as conn:
        return [e.details for e in of_kind(conn, "dsr.restricted") if e.details["restricted"] is False]


def test_a_lift_needs_when_and_how_the_person_was_told(vault: Vault) -> None:
    subject, request_id = _restricted(vault)
    register, _ = register_at(vault)  # now: 10 February 2026, 09:00 UTC
    for at, means, refusal in (
        (None, "letter", "Art. 18(3)"),
        (datetime(2026, 2, 9, 9, tzinfo=UTC), None, "--informed-by"),
        (datetime(2026, 2, 11, 9, tzinfo=UTC), "letter", "cannot be in the future"),
        (datetime(2026, 2, 1, 9, tzinfo=UTC), "letter", "cannot precede the request's receipt"),
        (datetime(2026, 2, 9, 9, tzinfo=UTC), "carrier pigeon", "is one of email, letter"),
    ):
        with pytest.raises(RequestError, match=re.escape(refusal)):
            register.lift_restriction(request_id, "dpo", at, means)
    assert register.get(request_id).restricted and _lifts(vault) == []  # nothing half-written
    with vault.read_connection() as conn:
        assert is_restricted(conn, subject)

    told = datetime(2026, 2, 9, 16, 30)  # no zone: the controller's local time (London, UTC in February)
    assert not register.lift_restriction(request_id, "dpo", told, "phone").restricted
    assert _lifts(vault) == [{"request": request_id, "restricted": False, "informed_at": "2026-02-09T16:30:00+00:00",
                              "informed_by": "phone"}]  # fmt: skip


def test_dsr_restrict_lift_refuses_without_the_flags_and_show_says_when_and_how(
    vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _subject, request_id = _restricted(vault)
    folder = str(vault.path.parent)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    lift = ["dsr", "restrict", request_id, "--lift", "--data-dir", folder]

    assert main(lift) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert "Art. 18(3)" in line and "--informed-at" in line and "--informed-by" in line and captured.out == ""

    told = datetime(2026, 2, 9, 17, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert main([*lift, "--informed-at", told.isoformat(), "--informed-by", "letter"]) == 0
    assert capsys.readouterr().out.startswith(f"Restriction lifted on {request_id};")
    assert main(["dsr", "show", request_id, "--data-dir", folder]) == 0
    shown = capsys.readouterr().out
    assert "restriction flag lifted; the person was informed 2026-02-09 16:30 UTC by letter (Art. 18(3))" in shown
