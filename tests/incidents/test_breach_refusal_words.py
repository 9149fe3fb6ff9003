"""The CLI's wording of the register's refusals is a contract: each names the command and the options that would
fix it (``breach update --detected … --reason …``). The register itself now refuses in domain terms (the app has no
options to name), and ``custos breach`` words the refusal; these are the lines it printed before, to the character.
In process, on a real vault; the CLI's clock is the real one, so the times are three days ago."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.cli import main
from app.incidents.tables import Incident
from app.store.vault import Vault
from tests.conftest import PASSPHRASE

DAY = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")

Breach = Callable[..., tuple[int, str]]


@pytest.fixture
def breach(
    data_dir: Path, vault_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Breach:
    """``custos breach ARGS`` on the vault (``vault_file`` put it in ``data_dir``): its exit status and what it
    said on stderr (the log left out)."""
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)

    def run(*args: str) -> tuple[int, str]:
        code = main(["breach", *args, "--data-dir", str(data_dir)])
        said = [line for line in capsys.readouterr().err.splitlines() if " INFO " not in line]
        return code, "\n".join(said)

    return run


def _at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def _utc(clock: str) -> str:
    return f"{DAY} {clock} UTC"


def _refused(breach: Breach, *args: str) -> str:
    code, said = breach(*args)
    assert code == 2, said
    return said


def _open(breach: Breach, detected: str, *more: str) -> None:
    assert breach("open", "--title", "Lost laptop", "--detected", _at(detected), *more)[0] == 0


def test_a_detection_before_the_start(breach: Breach) -> None:
    said = _refused(breach, "open", "--title", "t", "--detected", _at("05:00"), "--occurred-from", _at("06:30"))
    assert said == (
        f"custos: The breach cannot have been detected ({_utc('05:00:00')}) before it began ({_utc('06:30:00')}): "
        "correct the detection (breach update --detected … --reason …) or, if the start is an estimate, give the "
        "earliest time it may have begun (--occurred-from …)."
    )


def test_awareness_after_the_processor_s_notice(breach: Breach) -> None:
    _open(breach, "08:00")
    assert breach("aware", "1", "--reason", "confirmed", "--at", _at("10:00"))[0] == 0
    said = _refused(breach, "update", "1", "--processor-notified", _at("09:00"))
    assert said == (
        f"custos: The processor informed the controller at {_utc('09:00:00')}: the controller is aware from then at "
        "the latest (EDPB Guidelines 9/2022), so the 72-hour clock cannot start later. Record awareness at or "
        "before that time (breach aware --at … --reason …), or correct the processor's time if it is wrong."
    )


def test_a_detection_after_the_processor_s_notice(breach: Breach) -> None:
    _open(breach, "08:00")
    said = _refused(breach, "update", "1", "--processor-notified", _at("07:00"))
    assert said == (
        f"custos: The processor informed the controller at {_utc('07:00:00')}, so the breach was detected by then "
        f"at the latest, not {_utc('08:00:00')}: correct the detection (breach update --detected … --reason …) or "
        "the processor's time if it is wrong."
    )


def test_the_subjects_told_before_the_detection(breach: Breach) -> None:
    _open(breach, "09:00")
    said = _refused(breach, "inform", "1", "--at", _at("08:00"))
    assert said == (
        f"custos: The data subjects cannot have been told of the breach ({_utc('08:00:00')}) before it was detected "
        f"({_utc('09:00:00')}): correct the time they were informed (breach inform --at … --reason …) or the other "
        "time if it is wrong."
    )


def test_awareness_before_the_start(breach: Breach, data_dir: Path) -> None:
    """Only a record kept before the order checks holds a detection before the start (written to the row here)."""
    _open(breach, "08:00")
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with vault.write_transaction() as conn:
            began = datetime.fromisoformat(_at("12:00"))
            conn.execute(update(Incident.__table__).where(Incident.__table__.c.id == 1).values(occurred_from=began))
    finally:
        vault.close()
    said = _refused(breach, "aware", "1", "--reason", "confirmed", "--at", _at("09:00"))
    assert said == (
        f"custos: The controller cannot be aware ({_utc('09:00:00')}) before the breach began ({_utc('12:00:00')}). "
        "If the start is an estimate, give the earliest time it may have begun (breach update --occurred-from …, "
        "with --reason when correcting it)."
    )


def test_the_refusals_that_name_no_option(breach: Breach) -> None:
    _open(breach, "08:00", "--occurred-from", _at("06:00"))
    assert _refused(breach, "update", "1", "--occurred-to", _at("05:00")) == (
        f"custos: The occurrence window ends ({_utc('05:00:00')}) before it starts ({_utc('06:00:00')})."
    )
    assert _refused(breach, "update", "1", "--contained", _at("05:30")) == (
        f"custos: The incident cannot be contained ({_utc('05:30:00')}) before it occurred ({_utc('06:00:00')})."
    )
    assert _refused(breach, "aware", "1", "--reason", "r", "--at", _at("07:00")) == (
        f"custos: The controller cannot be aware ({_utc('07:00:00')}) before the incident was detected "
        f"({_utc('08:00:00')})."
    )


def test_a_correction_without_its_answers(breach: Breach) -> None:
    _open(breach, "08:00")
    assert _refused(breach, "update", "1", "--detected", _at("07:00")) == (
        f"custos: Detected is already recorded ({_utc('08:00:00')}). A correction to {_utc('07:00:00')} needs its "
        "reason (--reason); the earlier time stays on record."
    )
    assert breach("aware", "1", "--reason", "confirmed", "--at", _at("09:00"))[0] == 0
    assert _refused(breach, "aware", "1", "--reason", "typo") == (
        f"custos: Awareness of incident 1 is already recorded ({_utc('09:00:00')}). To correct it, give the "
        "corrected time (--at) and the reason for the correction (--reason); the deadline keeps running from the "
        f"earliest awareness recorded, {_utc('09:00:00')}."
    )
    assert breach("inform", "1", "--at", _at("10:00"))[0] == 0
    assert _refused(breach, "inform", "1") == (
        f"custos: The data subjects of incident 1 are already recorded as informed ({_utc('10:00:00')}). To correct "
        "the time, give it (--at) and the reason for the correction (--reason)."
    )
    assert breach("notify", "1", "--reference", "SA-1", "--at", _at("11:00"))[0] == 0
    assert _refused(breach, "notify", "1", "--correct", "1", "--at", _at("11:30")) == (
        "custos: A correction needs the corrected time (--at) and its reason (--reason)."
    )
    assert _refused(breach, "notify", "1", "--correct", "2", "--at", _at("11:30"), "--reason", "typo") == (
        "custos: Incident 1 has no notification 2 (see breach show)."
    )


def test_a_late_notification_without_reasons_and_a_close_without_rationale(breach: Breach) -> None:
    _open(breach, "08:00")
    assert breach("aware", "1", "--reason", "confirmed", "--at", _at("09:00"))[0] == 0
    assert _refused(breach, "notify", "1", "--reference", "SA-1") == (
        "custos: This notification is past the 72-hour deadline: Art. 33(1) requires the reasons for the delay "
        "(--delay-reason)."
    )
    assert breach("assess", "1", "--risk", "none", "--reason", "encrypted")[0] == 0
    assert _refused(breach, "close", "1") == (
        "custos: Not notified: record why the breach is unlikely to result in a risk (--rationale)."
    )


def test_every_refusal_of_the_register_has_the_command_s_words() -> None:
    """A new order or answer in the register without words here would reach the terminal in the register's terms
    only; this says which one lacks them."""
    from app.commands.breach_words import missing_text, order_text
    from app.incidents.refusals import ANSWERS, FACTS, Missing, Order

    moment = datetime(2026, 11, 27, 9, tzinfo=UTC)
    for rule in FACTS:
        assert order_text(Order(rule, "detected_at", moment, "occurred_from", moment, ())).startswith("The "), rule
    for case in ANSWERS:
        assert "(--" in missing_text(Missing(case, (), 1, "detected_at", moment, moment, moment)), case
