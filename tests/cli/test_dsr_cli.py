"""``custos dsr …`` end to end as a script would run it: real subprocesses on a real vault."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.audit.trail import of_kind
from app.audit.vault_lifecycle import unlock_vault
from app.dsr import settings
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE
from tests.erasure.support import person, service_for
from tests.policy_support import full_catalogue_text, hold_everything

OPENED = re.compile(r"^Opened (dsr-[0-9a-f]{16}) due (\d{4}-\d{2}-\d{2})$")


def _open(data_dir: Path, *args: str) -> tuple[str, str]:
    result = run(data_dir, "dsr", "open", *args)
    assert result.returncode == 0, result.stderr
    match = OPENED.match(result.stdout.splitlines()[0])
    assert match, result.stdout
    return match.group(1), match.group(2)


@pytest.mark.usefixtures("vault_file")
def test_dsr_from_intake_to_closure(data_dir: Path, tmp_path: Path) -> None:
    settings.save(data_dir, country="GB", subdivision="ENG", zone="Europe/London")
    request_id, due = _open(data_dir, "--type", "access", "--type", "portability", "--received",
                            "2026-01-31T10:00Z", "--channel", "email", "--requester-name", "Ottoline Vexbridge",
                            "--match", "nobody")  # fmt: skip
    assert due == "2026-03-02"

    listed = run(data_dir, "dsr", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "TYPE", "RECEIVED", "DUE", "DAYS", "LEFT", "STATE"]
    assert listed[1].split()[:4] == [request_id, "access,portability", "2026-01-31", "2026-03-02"]
    assert listed[1].split()[-1] == "open" and int(listed[1].split()[4]) < 0  # overdue by now
    assert run(data_dir, "dsr", "list", "--overdue").stdout.count(request_id) == 1

    extend = run(data_dir, "dsr", "extend", request_id, "--months", "2", "--reason", "complex", "--told", "2026-02-05")
    assert extend.stdout.strip() == f"Extended {request_id} to 2026-04-30 (told 2026-02-05)."
    again = run(data_dir, "dsr", "extend", request_id, "--months", "1", "--reason", "more", "--told", "2026-02-06")
    assert again.returncode == 2 and "once" in again.stderr and "Traceback" not in again.stderr
    act = run(data_dir, "dsr", "act", request_id, "--out", str(tmp_path / "export"))
    assert act.returncode == 2 and "not matched" in act.stderr

    refused = run(data_dir, "dsr", "refuse", request_id, "--ground", "art11", "--reason", "no identity matches")
    assert refused.stdout.strip() == f"Refused on {request_id} (art11): access, portability."
    # The shipped policy names no controller: the draft reads "Requires human completion" under "Who we are", and
    # was recorded as the letter sent, its SHA-256 and all. Refused, naming where, and nothing recorded.
    draft = run(data_dir, "dsr", "answer", request_id, "--out", str(tmp_path / "draft"), "--sent", "2026-02-10")
    assert draft.returncode == 2 and "“Who we are”" in draft.stderr and "Requires human completion" in draft.stderr
    assert "Traceback" not in draft.stderr and not (tmp_path / "draft").exists()
    assert "  state: in_progress" in run(data_dir, "dsr", "show", request_id).stdout
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(full_catalogue_text(), encoding="utf-8")
    assert run(data_dir, "policy", "apply", str(policy_file), "--yes").returncode == 0
    answer = run(data_dir, "dsr", "answer", request_id, "--out", str(tmp_path / "answer"), "--sent", "2026-02-10")
    assert answer.returncode == 0, answer.stderr
    lines = answer.stdout.splitlines()
    assert [Path(line.split()[1]).name for line in lines[:2]] == [f"{request_id}-answer.md", f"{request_id}-answer.pdf"]
    assert lines[2] == "Answer sent 2026-02-10 recorded; outcome refused (answered in time)."
    assert run(data_dir, "dsr", "close", request_id).returncode == 0

    shown = run(data_dir, "dsr", "show", request_id).stdout
    assert f"Request {request_id}" in shown and "  state: closed (refused)" in shown
    assert "  received: 2026-01-31T10:00:00Z (day 2026-01-31 in Europe/London)" in shown
    assert "  extended: by 2 months to 2026-04-30; told 2026-02-05" in shown
    assert "  refusal due: 2026-03-02 (Art. 12(4): a refusal reaches the person within one month of receipt" in shown
    assert "  step access: refused (art11)" in shown and "Ottoline" not in shown  # sealed: not printed …
    revealed = run(data_dir, "dsr", "show", request_id, "--reveal").stdout
    assert "  requester: Ottoline Vexbridge" in revealed  # … unless asked
    assert re.search(r"^  \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z closed$", shown, re.M)


@pytest.mark.usefixtures("vault_file")
def test_dsr_open_matches_the_mirror_and_reads_errors(data_dir: Path) -> None:
    future = run(data_dir, "dsr", "open", "--type", "access", "--received", "2999-01-01", "--channel", "email")
    assert future.returncode == 2 and "future" in future.stderr
    bad = run(data_dir, "dsr", "open", "--type", "access", "--received", "31/01/2026", "--channel", "email")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr and "Traceback" not in bad.stderr
    rep = run(data_dir, "dsr", "open", "--type", "erasure", "--channel", "letter", "--requester", "representative")
    assert rep.returncode == 2 and "--authority" in rep.stderr
    unknown = run(data_dir, "dsr", "show", "dsr-0000000000000000")
    assert unknown.returncode == 2 and "no request" in unknown.stderr
    configured = run(data_dir, "dsr", "settings", "--country", "FR", "--time-zone", "Europe/Paris")
    # requests.toml sets no retention here: the policy's period applies, and the line says so
    assert configured.stdout.strip() == ("Requests: country FR, time zone Europe/Paris, kept 3 years after closure "
                                         "(from requests.toml; the retention from the policy).")  # fmt: skip
    kept = run(data_dir, "dsr", "settings", "--retention", "P2Y")
    assert kept.stdout.strip().endswith("kept 2 years after closure (from requests.toml)."), kept.stdout
    wrong = run(data_dir, "dsr", "settings", "--country", "XX")
    assert wrong.returncode == 2 and "ISO 3166-1" in wrong.stderr
    request_id, due = _open(data_dir, "--type", "access", "--received", "2026-04-01T10:00+02:00", "--channel", "form")
    assert due == "2026-05-04"  # 1 May is Labour Day in France

    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        hold_everything(vault)
        for name in ("ottoline@example.org", "otto@example.org"):
            service_for(vault).create("User", person(name))
    finally:
        vault.close()
    several = run(data_dir, "dsr", "open", "--type", "access", "--channel", "email", "--match", "OTTO")
    assert several.returncode == 2 and "2 identities match" in several.stderr
    assert len(several.stdout.splitlines()) == 2  # the candidates' ids, for --subject-id
    matched, _ = _open(data_dir, "--type", "erasure", "--channel", "email", "--match", "ottoline",
                       "--requester-name", "Ottoline Vexbridge")  # fmt: skip
    assert "  subject: matched (pseudonym " in run(data_dir, "dsr", "show", matched).stdout
    acted = run(data_dir, "dsr", "act", matched)
    assert acted.returncode == 0, acted.stderr
    erasure = re.fullmatch(r"Erasure request (er-[0-9a-f]{16}) started \(custos erase status \1\)\.\n", acted.stdout)
    assert erasure, acted.stdout
    shown = run(data_dir, "dsr", "show", matched).stdout
    assert f"  step erasure: done → erasure {erasure.group(1)}" in shown  # no target held the person: finished
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            opened = {e.details["request"]: e.details for e in of_kind(conn, "dsr.opened")}
    finally:
        vault.close()
    assert opened[matched]["matched"] is True and opened[request_id]["matched"] is False
    assert "Ottoline" not in json.dumps(opened)  # the trail names the request and its dates, never who asked


def test_days_left_are_coloured_on_a_terminal_only(monkeypatch: object) -> None:
    import sys

    from app.commands.dsr import _colour

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)  # type: ignore[attr-defined]
    monkeypatch.setattr(sys, "stdout", Tty())  # type: ignore[attr-defined]
    assert _colour("      3", "due_soon") == "\033[33m      3\033[0m"  # amber
    assert _colour("     -2", "overdue") == "\033[31m     -2\033[0m"  # red
    assert _colour("     20", "running") == "     20"
    monkeypatch.setenv("NO_COLOR", "1")  # type: ignore[attr-defined]
    assert _colour("      3", "due_soon") == "      3"


@pytest.mark.usefixtures("vault_file")
def test_dsr_export_leaves_the_sealed_details_out(data_dir: Path, tmp_path: Path) -> None:
    settings.save(data_dir, country="GB", subdivision="ENG", zone="Europe/London")
    request_id, due = _open(data_dir, "--type", "erasure", "--received", "2026-01-31T10:00Z", "--channel", "letter",
                            "--requester-name", "Ottoline Vexbridge", "--answer-address", "12 Quarry Lane, Leeds",
                            "--note", "@SUM(1+1) wrote twice")  # fmt: skip
    out = tmp_path / "requests.csv"
    exported = run(data_dir, "dsr", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    wrote, counted = exported.stdout.splitlines()
    assert wrote.startswith(f"Wrote {out} (sha256 ") and counted == "1 request in the register."
    text = out.read_text(encoding="utf-8-sig")
    assert "Vexbridge" not in text and "Quarry" not in text and "SUM(" not in text
    header, row = text.splitlines()
    assert "NOT EXPORTED" in header and row.startswith(f"{request_id},Erasure (Art. 17),letter,subject,no,")
    assert ",2026-01-31T10:00:00Z,Europe/London,2026-01-31," in row and f",{due}," in row
    assert row.endswith(',"held sealed in Custos, left out"')
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            [event] = of_kind(conn, "export.dsr_register")
    finally:
        vault.close()
    assert event.details["rows"] == "1" and "Vexbridge" not in json.dumps(event.details)


@pytest.mark.usefixtures("vault_file")
def test_the_erasure_answer_says_what_is_kept_and_why(data_dir: Path, tmp_path: Path) -> None:
    """The answer said "Your data were erased" while Custos keeps keyed hashes of the person's identifiers
    (tombstones, decision 0020) to refuse the identity provider re-creating them; the receipt said so, the letter
    did not. It now says what is kept, why, and that it cannot be turned back into a name; after a release, that
    it no longer blocks."""
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        hold_everything(vault)
        service_for(vault).create("User", {**person("ottoline@example.org"), "externalId": "entra-7781"})
    finally:
        vault.close()
    request_id, _ = _open(data_dir, "--type", "erasure", "--channel", "email", "--match", "ottoline",
                          "--requester-name", "Ottoline Vexbridge")  # fmt: skip
    assert run(data_dir, "dsr", "act", request_id).returncode == 0
    drafted = run(data_dir, "dsr", "answer", request_id, "--out", str(tmp_path / "draft"))
    assert drafted.returncode == 0, drafted.stderr
    letter = (tmp_path / "draft" / f"{request_id}-answer.md").read_text()
    erasure = next(line for line in letter.splitlines() if line.startswith("- Erasure"))
    assert "Your data were erased" in erasure
    assert "keyed hashes of your user name and of your ID at our identity provider" in erasure, erasure
    assert "They cannot be turned back into your name" in erasure
    assert "refuse it if our identity provider sends it again" in erasure
    # the object of "use" is "them" ("We use they only…" was written for two identifiers)
    assert "We use them only to recognise your account" in erasure, erasure
    assert "ottoline" not in erasure.lower() and "entra-7781" not in erasure  # the letter names no identifier
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp_path / "draft" / f"{request_id}-answer.pdf")
                            .pages).split())  # fmt: skip
    assert "cannot be turned back into your name" in pdf

    released = run(data_dir, "erase", "release", "--user-name", "ottoline@example.org", "--reason", "rehired",
                   "--yes")  # fmt: skip
    assert released.returncode == 0, released.stderr
    assert run(data_dir, "dsr", "answer", request_id, "--out", str(tmp_path / "again")).returncode == 0
    again = (tmp_path / "again" / f"{request_id}-answer.md").read_text()
    assert "They were released and no longer stop your account being created again" in again
    assert "refuse it if our identity provider sends it again" not in again


@pytest.mark.usefixtures("vault_file")
def test_an_erasure_that_had_nowhere_else_to_go_says_so(data_dir: Path, tmp_path: Path) -> None:
    """Was: "erased … from every application we had sent them to" where the erasure had no target and no recipient
    to reach: true of none, read by the person as some. A DPO walk found it."""
    from app.erasure.status import places_to_reach

    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        hold_everything(vault)
        service_for(vault).create("User", person("wilhelmina@example.org"))
    finally:
        vault.close()
    request_id, _ = _open(data_dir, "--type", "erasure", "--channel", "email", "--match", "wilhelmina",
                          "--requester-name", "Wilhelmina Quarle")  # fmt: skip
    assert run(data_dir, "dsr", "act", request_id).returncode == 0
    assert run(data_dir, "dsr", "answer", request_id, "--out", str(tmp_path / "draft")).returncode == 0
    letter = (tmp_path / "draft" / f"{request_id}-answer.md").read_text()
    erasure = next(line for line in letter.splitlines() if line.startswith("- Erasure"))
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            erasures = [r for (r,) in conn.exec_driver_sql("SELECT id FROM erasure_requests")]
            reached = [places_to_reach(conn, r) for r in erasures]
    finally:
        vault.close()
    assert reached == [0]  # no target, no recipient: the case this is about
    assert "we had not passed them on to any other application or recipient" in erasure, erasure
    assert "from every application we had sent them to" not in erasure


@pytest.mark.usefixtures("vault_file")
def test_show_and_task_say_what_was_decided_and_done(data_dir: Path) -> None:
    """``dsr show`` said "identity: not needed" for every new request, a decision nobody had made (the Requests
    page already said "no check recorded"); ``dsr task`` for an objection after a restriction printed
    "restriction, objection. Restriction flag set." as if it had set the flag. Each says what happened."""
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        hold_everything(vault)
        service_for(vault).create("User", person("ottoline@example.org"))
    finally:
        vault.close()
    request_id, _ = _open(data_dir, "--type", "restriction", "--type", "objection", "--channel", "letter",
                          "--match", "ottoline")  # fmt: skip
    shown = run(data_dir, "dsr", "show", request_id).stdout
    assert "  identity: no check recorded (needed only where there is reasonable doubt, Art. 12(6))" in shown, shown
    decided = run(data_dir, "dsr", "verify", request_id, "--status", "not_needed")
    assert decided.returncode == 0, decided.stderr
    assert "  identity: not needed" in run(data_dir, "dsr", "show", request_id).stdout

    restricted = run(data_dir, "dsr", "task", request_id, "--right", "restriction", "--done", "held at the IdP")
    assert restricted.stdout.strip() == f"Task recorded on {request_id}: restriction. Restriction flag set."
    objected = run(data_dir, "dsr", "task", request_id, "--right", "objection", "--done", "analytics feed stopped")
    assert objected.stdout.strip() == f"Task recorded on {request_id}: objection."


@pytest.mark.usefixtures("vault_file")
def test_none_held_a_refusals_own_month_and_a_misrouted_request(data_dir: Path, tmp_path: Path) -> None:
    """``dsr none-held`` answers a person identified but not held (decision 0073); a refusal is held to one month
    from receipt although the request was extended (Art. 12(4)); a misrouted request has no GDPR deadline and its
    internal note stays out of the letter."""
    settings.save(data_dir, country="GB", subdivision="ENG", zone="Europe/London")
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(full_catalogue_text(), encoding="utf-8")
    assert run(data_dir, "policy", "apply", str(policy_file), "--yes").returncode == 0
    held, _ = _open(data_dir, "--type", "access", "--received", "2026-01-31T10:00Z", "--channel", "email",
                    "--requester-name", "Ottoline Vexbridge")  # fmt: skip
    recorded = run(data_dir, "dsr", "none-held", held)
    assert recorded.stdout.strip() == f"No personal data held, recorded on {held}: access.", recorded.stderr
    sent = run(data_dir, "dsr", "answer", held, "--out", str(tmp_path / "held"), "--sent", "2026-02-10")
    assert sent.stdout.splitlines()[-1] == "Answer sent 2026-02-10 recorded; outcome none_held (answered in time)."
    shown = run(data_dir, "dsr", "show", held).stdout
    assert "  state: answered (none_held)" in shown and "  step access: none_held" in shown
    assert "no personal data held: access" in shown  # the timeline
    letter = (tmp_path / "held" / f"{held}-answer.md").read_text()
    assert "We confirm that we do not process personal data about you (Art. 15(1))." in letter

    refused, _ = _open(data_dir, "--type", "access", "--received", "2026-01-31T10:00Z", "--channel", "email",
                       "--requester-name", "Ottoline Vexbridge")  # fmt: skip
    run(data_dir, "dsr", "extend", refused, "--months", "2", "--reason", "complex", "--told", "2026-02-05")
    run(data_dir, "dsr", "refuse", refused, "--ground", "art12-5", "--reason", "the fifth identical request")
    shown = run(data_dir, "dsr", "show", refused).stdout
    assert "  refusal due: 2026-03-02 (Art. 12(4)" in shown and "OVERDUE" in shown  # not "… left (due 2026-04-30)"
    late = run(data_dir, "dsr", "answer", refused, "--out", str(tmp_path / "refused"), "--sent", "2026-03-10")
    assert late.stdout.splitlines()[-1] == "Answer sent 2026-03-10 recorded; outcome refused (answered late)."

    opened = run(data_dir, "dsr", "open", "--type", "not_gdpr", "--channel", "email", "--received", "2026-01-31",
                 "--requester-name", "Ottoline Vexbridge", "--note", "INTERNAL: forwarded to sales, ticket 88")
    first = opened.stdout.splitlines()[0]
    assert first.endswith("; not a data subject request: no GDPR deadline") and " due " not in first
    misrouted = first.split()[1].rstrip(";")
    row = next(line for line in run(data_dir, "dsr", "list").stdout.splitlines() if line.startswith(misrouted))
    assert row.split()[3:5] == ["—", "—"]  # no due date, no days left (it read 2026-03-02 and overdue)
    shown = run(data_dir, "dsr", "show", misrouted).stdout
    assert "  due: none (not a data subject request: no GDPR deadline)" in shown
    assert "received 2026-01-31 by email; not a data subject request: no GDPR deadline" in shown  # the timeline
    run(data_dir, "dsr", "answer", misrouted, "--out", str(tmp_path / "misrouted"))
    assert "INTERNAL" not in (tmp_path / "misrouted" / f"{misrouted}-answer.md").read_text()
