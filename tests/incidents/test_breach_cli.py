"""``custos breach …`` end to end as a script would run it.

The command line runs on the real clock and no time may lie in the future, so the times here are relative to now
(the register's own tests pin Friday 09:00 → Monday 09:00 with a fake clock).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.core.events import EventBus
from app.dsr import settings
from app.jobs import BackgroundJobs
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.siem.conftest import add_events

HOUR = timedelta(hours=1)
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _base() -> datetime:
    """A whole hour four days ago: the 72-hour clock from there is overdue by about a day."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=4)


def _iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%MZ}"


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _shown(moment: datetime) -> str:
    """A time as ``breach show`` gives it: to the second, as the register compares times."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


@pytest.mark.usefixtures("vault_file")
def test_breach_commands(data_dir: Path, tmp_path: Path) -> None:
    aware_at = _base()
    opened = run(data_dir, "breach", "open", "--title", "Token leaked in a ticket", "--detected", _iso(aware_at - HOUR))
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("Opened incident 1.")
    aware = run(data_dir, "breach", "aware", "1", "--reason", "token used from an unknown address",
                "--at", _iso(aware_at))  # fmt: skip
    assert aware.stdout.startswith(f"Aware at {_utc(aware_at)}; notify by {_utc(aware_at + 72 * HOUR)}")
    late = run(data_dir, "breach", "notify", "1", "--reference", "SA-7", "--at", _iso(aware_at + 73 * HOUR))
    assert late.returncode == 2 and "reasons for the delay" in late.stderr
    on_time = run(data_dir, "breach", "notify", "1", "--reference", "SA-7", "--at", _iso(aware_at + 47 * HOUR))
    assert on_time.returncode == 0 and "notified in time" in on_time.stdout
    listed = run(data_dir, "breach", "list").stdout.splitlines()
    assert listed[0].split()[:3] == ["ID", "STATE", "AWARE"]
    assert listed[1].split()[:2] == ["1", "notified"] and "notified_in_time" in listed[1]
    draft = run(data_dir, "breach", "draft", "1", "--out", str(tmp_path / "drafts"))
    assert draft.returncode == 0
    assert [line.split()[1].rsplit(".", 1)[1] for line in draft.stdout.splitlines()] == ["md", "pdf"]
    shown = run(data_dir, "breach", "show", "1").stdout
    assert f"notified (initial): {_shown(aware_at + 47 * HOUR)}, reference SA-7" in shown


@pytest.mark.usefixtures("vault_file")
def test_the_clock_cannot_be_reset(data_dir: Path) -> None:
    """The defect seen on main: ``aware --at 2027-01-01`` turned an overdue clock into "34 d left"."""
    aware_at = _base()
    run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", _iso(aware_at - HOUR))
    run(data_dir, "breach", "aware", "1", "--reason", "laptop confirmed stolen", "--at", _iso(aware_at))
    assert "overdue" in run(data_dir, "breach", "list").stdout.splitlines()[1]

    reset = run(data_dir, "breach", "aware", "1", "--reason", "reset", "--at", "2027-01-01T00:00Z")
    assert reset.returncode == 2 and "in the future" in reset.stderr and "Traceback" not in reset.stderr
    again = run(data_dir, "breach", "aware", "1", "--reason", "re-run without a time")
    assert again.returncode == 2 and "already recorded" in again.stderr

    corrected = run(data_dir, "breach", "aware", "1", "--reason", "ticket only read a day later",
                    "--at", _iso(aware_at + 24 * HOUR))  # fmt: skip
    assert corrected.returncode == 0, corrected.stderr
    assert corrected.stdout.startswith(
        f"Corrected awareness of incident 1: {_utc(aware_at)} → {_utc(aware_at + 24 * HOUR)}. The deadline runs "
        f"from the earliest awareness recorded, {_utc(aware_at)}: notify by {_utc(aware_at + 72 * HOUR)}"
    )
    row = run(data_dir, "breach", "list").stdout.splitlines()[1].split()
    assert row[2:4] == [f"{aware_at:%Y-%m-%d}", f"{aware_at:%H:%M}"] and row[6] == "overdue"

    future_inform = run(data_dir, "breach", "inform", "1", "--at", "2027-01-01T00:00Z")
    assert future_inform.returncode == 2 and "in the future" in future_inform.stderr
    assert run(data_dir, "breach", "inform", "1", "--at", _iso(aware_at + 2 * HOUR)).returncode == 0
    unexplained = run(data_dir, "breach", "inform", "1", "--at", _iso(aware_at + 3 * HOUR))
    assert unexplained.returncode == 2 and "needs its reason" in unexplained.stderr
    explained = run(data_dir, "breach", "inform", "1", "--at", _iso(aware_at + 3 * HOUR), "--reason", "mail log")
    assert explained.stdout.startswith(
        f"Corrected when the data subjects of incident 1 were informed: {_utc(aware_at + 2 * HOUR)} → "
        f"{_utc(aware_at + 3 * HOUR)}."
    )
    run(data_dir, "breach", "notify", "1", "--reference", "SA-9", "--at", _iso(aware_at + 80 * HOUR),
        "--delay-reason", "on-call missed it")  # fmt: skip
    fixed = run(data_dir, "breach", "notify", "1", "--correct", "1", "--at", _iso(aware_at + 81 * HOUR),
                "--reason", "portal receipt")  # fmt: skip
    assert fixed.stdout.startswith(
        f"Corrected notification 1 of incident 1: {_utc(aware_at + 80 * HOUR)} → {_utc(aware_at + 81 * HOUR)}; "
        "notified late"
    )
    shown = run(data_dir, "breach", "show", "1").stdout
    assert f"  aware_at: {_shown(aware_at + 24 * HOUR)}" in shown
    assert f"  clock runs from: {_shown(aware_at)}" in shown
    history = shown.split("  history:\n", 1)[1].splitlines()
    assert [line.split(" (recorded")[0].strip() for line in history] == [
        f"detected_at = {_shown(aware_at - HOUR)}",
        f"aware_at = {_shown(aware_at)}",
        f"aware_at = {_shown(aware_at + 24 * HOUR)}",
        f"subjects_informed_at = {_shown(aware_at + 2 * HOUR)}",
        f"subjects_informed_at = {_shown(aware_at + 3 * HOUR)}",
        f"notified #1 = {_shown(aware_at + 80 * HOUR)}",
        f"notified #1 = {_shown(aware_at + 81 * HOUR)}",
    ]
    assert history[2].endswith(", correction): ticket only read a day later")
    assert history[1].endswith("): laptop confirmed stolen")
    tail = run(data_dir, "audit", "tail", "-n", "200").stdout
    assert tail.count("incident.time_corrected") == 3  # aware, informed, notification 1 (details: test_times)


@pytest.mark.usefixtures("vault_file")
def test_details_and_both_drafts(data_dir: Path, tmp_path: Path) -> None:
    aware_at = _base()
    opened = run(data_dir, "breach", "open", "--title", "Misdirected payroll export", "--detected",
                 _iso(aware_at - HOUR), "--breach-type", "confidentiality", "--cause", "wrong recipient chosen",
                 "--subject-categories", "Employees, Contractors")  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    bad = run(data_dir, "breach", "update", "1", "--breach-type", "secrecy")
    assert bad.returncode == 2 and "confidentiality, integrity, availability" in bad.stderr
    corrected = run(data_dir, "breach", "update", "1", "--detected", _iso(aware_at - 3 * HOUR), "--reason",
                    "the SIEM shows the first alert earlier", "--cause", "wrong recipient picked")  # fmt: skip
    assert corrected.stdout.splitlines() == [
        "Updated incident 1: cause, detected_at.",
        f"Corrected (earlier times kept): detected_at {_utc(aware_at - HOUR)} → {_utc(aware_at - 3 * HOUR)}.",
    ]
    updated = run(
        data_dir, "breach", "update", "1", "--discovery", "the recipient called the service desk",
        "--special-categories", "no", "--authority", "BfDI", "--cross-border", "yes",
        "--lead-authority", "BayLDA", "--other-authorities", "none", "--processor", "none",
        "--dpo-contact", "breach-line@controller.example", "--subject-advice", "Watch for phishing e-mails.",
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.startswith("Updated incident 1: authority, cross_border, discovery, dpo_contact,")
    shown = run(data_dir, "breach", "show", "1").stdout
    for line in ("  breach_types: confidentiality", "  subject_categories: Employees, Contractors",
                 "  special_categories: no", "  cross_border: yes", "  lead_authority: BayLDA"):  # fmt: skip
        assert line in shown
    still = next(line for line in shown.splitlines() if line.startswith("  still to record: "))
    assert "nature of the breach (Art. 33(3)(a))" in still and "lead authority" not in still
    assert "breach type" not in still and "processor involvement" not in still
    out = tmp_path / "drafts"
    assert run(data_dir, "breach", "draft", "1", "--out", str(out)).returncode == 0
    notification = (out / "incident-1-notification.md").read_text()
    assert "**Type of breach:** Confidentiality" in notification
    assert "**Lead supervisory authority (one-stop-shop):** BayLDA" in notification
    assert "contact for this incident: breach-line@controller.example" in notification
    to_subjects = run(data_dir, "breach", "draft", "1", "--out", str(out), "--audience", "subjects")
    assert to_subjects.returncode == 0, to_subjects.stderr
    assert [Path(line.split()[1]).name for line in to_subjects.stdout.splitlines()] == [
        "incident-1-communication.md", "incident-1-communication.pdf"
    ]  # fmt: skip
    text = " ".join(page.extract_text() for page in PdfReader(out / "incident-1-communication.pdf").pages)
    assert "Watch for phishing e-mails." in text and "breach-line@controller.example" in text


@pytest.mark.usefixtures("vault_file")
def test_each_draft_is_on_the_trail_with_its_files_hashes(data_dir: Path, tmp_path: Path) -> None:
    """Was: the one export that left no entry: the Art. 33 draft and the Art. 34 letter left the vault unrecorded,
    though every other export is on the trail with its hash (docs/gdpr.md, Art. 5(2))."""
    import hashlib

    from app.audit.trail import of_kind
    from app.siem.mapping import mapping_for
    from tests.conftest import PASSPHRASE

    assert run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", _iso(_base())).returncode == 0
    out = tmp_path / "drafts"
    assert run(data_dir, "breach", "draft", "1", "--out", str(out), "--operator", "dana").returncode == 0
    assert run(data_dir, "breach", "draft", "1", "--out", str(out), "--audience", "subjects").returncode == 0
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            subjects, authority = of_kind(conn, "export.breach_letter")
    finally:
        vault.close()
    assert authority.actor == "operator:dana" and authority.details["incident"] == 1
    assert authority.details["audience"] == "authority" and subjects.details["audience"] == "subjects"
    pdf = hashlib.sha256((out / "incident-1-communication.pdf").read_bytes()).hexdigest()
    assert subjects.details["sha256"]["pdf"] == pdf and set(subjects.details["sha256"]) == {"md", "pdf"}
    assert str(out) not in str(subjects.details)  # the folder chosen is not recorded
    assert mapping_for("export.breach_letter").name == "Breach notification draft exported"


@pytest.mark.usefixtures("vault_file")
def test_a_candidate_dismissed_stays_in_the_register(data_dir: Path) -> None:
    run(data_dir, "breach", "open", "--title", "Schema refusals")
    done = run(data_dir, "breach", "dismiss", "1", "--reason", "an IdP mapping mismatch, no personal data left us")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Dismissed incident 1 as not a personal-data breach")
    assert run(data_dir, "breach", "list").stdout.splitlines()[1].split()[:2] == ["1", "closed"]
    shown = run(data_dir, "breach", "show", "1").stdout
    assert "risk: none" in shown
    run(data_dir, "breach", "open", "--title", "Lost laptop")
    run(data_dir, "breach", "aware", "2", "--reason", "confirmed stolen")
    refused = run(data_dir, "breach", "dismiss", "2", "--reason", "changed my mind")
    assert refused.returncode == 2 and "no longer a candidate" in refused.stderr


@pytest.mark.usefixtures("vault_file")
def test_the_clock_names_the_earliest_awareness_not_the_first(data_dir: Path) -> None:
    """A correction to an earlier time moves the deadline forward: the clock then runs from that correction, which
    is the earliest awareness recorded, not the first one. Saying "first" there is untrue."""
    aware_at = _base()
    run(data_dir, "breach", "open", "--title", "Share link exposed", "--detected", _iso(aware_at - 2 * HOUR))
    run(data_dir, "breach", "aware", "1", "--reason", "confirmed by phone", "--at", _iso(aware_at))
    earlier = run(data_dir, "breach", "aware", "1", "--reason", "call log shows an hour earlier",
                  "--at", _iso(aware_at - HOUR))  # fmt: skip
    assert earlier.returncode == 0, earlier.stderr
    assert "first awareness" not in earlier.stdout
    assert f"runs from the earliest awareness recorded, {_utc(aware_at - HOUR)}" in earlier.stdout
    later = run(data_dir, "breach", "aware", "1", "--reason", "written confirmation", "--at", _iso(aware_at + HOUR))
    assert f"runs from the earliest awareness recorded, {_utc(aware_at - HOUR)}" in later.stdout
    shown = run(data_dir, "breach", "show", "1").stdout
    assert f"clock runs from: {_shown(aware_at - HOUR)} (the earliest awareness recorded" in shown
    assert "first awareness" not in shown


def test_show_names_the_alert_rule_that_raised_a_candidate(data_dir: Path, vault: Vault) -> None:
    """On main `breach show` of an alert's candidate named no rule (only a title, which can be edited): 60 deletions
    raise mass_deprovisioning through the background jobs, as in the app, and show names it and its trail entry."""
    add_events(vault, 60, "scim.resource.deleted", datetime.now(UTC))
    (alert,) = BackgroundJobs(vault, PolicyInForce(vault), EventBus()).alerts.engine.process_new()
    vault.close()
    assert run(data_dir, "breach", "update", "1", "--title", "Deletions from the IdP").returncode == 0
    shown = run(data_dir, "breach", "show", "1").stdout.splitlines()
    source = f"  source: alert rule mass_deprovisioning (alert.raised, audit entry {alert.seq}): 51 SCIM deletes"
    assert shown[2].startswith(source) and "; window " in shown[2]
    run(data_dir, "breach", "open", "--title", "Lost laptop")
    assert run(data_dir, "breach", "show", "2").stdout.splitlines()[2] == "  source: opened by hand"


def test_scope_prints_the_members_of_groups_read_in_the_window(data_dir: Path, vault: Vault) -> None:
    """A read of a group answered with its member list counts its members on a line of its own, after the trail's
    figure (whose line is unchanged), saying they are the members as held now."""
    from app.audit.trail import Event, append
    from app.scim.service import ScimService

    start = datetime.now(UTC).replace(second=0, microsecond=0)
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus())
    try:
        ids = [str(service.create("User", {"schemas": [USER], "userName": f"cli{n}@example.test"}).body["id"])  # type: ignore[index]
               for n in range(3)]  # fmt: skip
        group = service.create("Group", {"schemas": [GROUP], "displayName": "Payroll",
                                         "members": [{"value": i} for i in ids]})  # fmt: skip
    finally:
        service.close()
    read = {"method": "GET", "endpoint": "/Groups/{id}", "status": 200, "members_read": True}
    with vault.write_transaction() as conn:
        append(conn, Event("scim.request", "token:okta", subject=str(group.body["id"]), details=read,  # type: ignore[index]
                           subject_if_held=True))  # fmt: skip
    vault.close()
    run(data_dir, "breach", "open", "--title", "Token leaked")
    lines = run(data_dir, "breach", "scope", "1", "--from", _iso(start)).stdout.splitlines()
    trail = lines.index("Subjects in audit events of the window: 3")  # the creations named the three
    assert lines[trail + 1] == (
        "Members of groups whose member lists were read in the window: 3 (members as held now of 1 group read in "
        "the window; members who left since are not counted), of whom 0 are not among the subjects in audit events"
    )
    assert lines[trail + 2].startswith("Counted: ")


@pytest.mark.usefixtures("vault_file")
def test_export_writes_the_register_as_a_file(data_dir: Path, tmp_path: Path) -> None:
    """``breach export``: one row per incident, read back from the XLSX against the times given here."""
    settings.save(data_dir, country="FR", zone="Europe/Paris")
    aware_at = _base()
    run(data_dir, "breach", "open", "--title", "Backup tape lost", "--detected", _iso(aware_at - HOUR))
    run(data_dir, "breach", "aware", "1", "--reason", "courier confirmed the loss", "--at", _iso(aware_at))
    run(data_dir, "breach", "notify", "1", "--reference", "CNIL-9", "--at", _iso(aware_at + 73 * HOUR),
        "--delay-reason", "the courier's report came late")  # fmt: skip
    out = tmp_path / "register.xlsx"
    exported = run(data_dir, "breach", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    wrote, counted = exported.stdout.splitlines()
    assert re.fullmatch(rf"Wrote {re.escape(str(out))} \(sha256 [0-9a-f]{{64}}\)", wrote)
    assert counted == "1 incident in the register."
    sheet = load_workbook(out)["Breach register"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert row["Controller aware (UTC)"] == f"{aware_at:%Y-%m-%dT%H:%M:%SZ}"
    assert row["Notification (Art. 33(1)): in time or late"] == "LATE by 1 h 00 min"
    assert row["Reasons for the delay (Art. 33(1))"] == "the courier's report came late"
    assert row["Controller's time zone"] == "Europe/Paris" and row["72-hour deadline (controller's time zone)"]
    refused = run(data_dir, "breach", "export", "--out", str(tmp_path / "no-such-folder" / "r.csv"))
    assert refused.returncode == 2 and "does not exist" in refused.stderr
    unknown = run(data_dir, "breach", "export", "--out", str(tmp_path / "register.ods"))
    assert unknown.returncode == 2 and "csv, xlsx" in unknown.stderr


@pytest.mark.usefixtures("vault_file")
def test_a_draft_into_a_dangling_link_is_refused_in_a_sentence(data_dir: Path, tmp_path: Path) -> None:
    """--out naming a link to nowhere ended in a FileExistsError traceback (from mkdir)."""
    run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", _iso(_base()))
    out = tmp_path / "drafts"
    out.symlink_to(tmp_path / "nowhere")
    drafted = run(data_dir, "breach", "draft", "1", "--out", str(out))
    assert drafted.returncode == 2 and drafted.stderr.strip() == f"custos: Cannot write into {out}: File exists."
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.usefixtures("vault_file")
def test_the_letter_to_people_and_the_draft_s_deadline_give_the_controller_s_zone(
    data_dir: Path, tmp_path: Path
) -> None:
    """The Art. 34 letter gave its times in UTC alone ("started on … 18:00 UTC") and the Art. 33 draft its 72-hour
    deadline in UTC alone; a person (and the DPO) read them where the controller is: that zone, UTC beside it."""
    settings.save(data_dir, country="DE", zone="Europe/Berlin")
    started = _base().replace(hour=18)  # 18:00 UTC is 19:00 or 20:00 in Berlin, the same day
    aware_at = started + 2 * HOUR
    opened = run(data_dir, "breach", "open", "--title", "Laptop stolen", "--occurred-from", _iso(started),
                 "--detected", _iso(started + HOUR))  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    aware = run(data_dir, "breach", "aware", "1", "--reason", "owner reported it", "--at", _iso(aware_at))
    assert aware.returncode == 0, aware.stderr
    out = tmp_path / "drafts"
    assert run(data_dir, "breach", "draft", "1", "--out", str(out), "--audience", "subjects").returncode == 0
    letter = (out / "incident-1-communication.md").read_text()
    berlin = started.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"It started on {berlin:%Y-%m-%d %H:%M} Europe/Berlin time (18:00 UTC)." in letter, letter
    found = (started + HOUR).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"We discovered it on {found:%Y-%m-%d %H:%M} Europe/Berlin time (19:00 UTC)." in letter, letter
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(out / "incident-1-communication.pdf").pages).split())
    assert f"{berlin:%Y-%m-%d %H:%M} Europe/Berlin time (18:00 UTC)" in pdf
    assert run(data_dir, "breach", "draft", "1", "--out", str(out)).returncode == 0
    notification = (out / "incident-1-notification.md").read_text()
    deadline = aware_at + 72 * HOUR
    local = deadline.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"**Deadline (aware + 72 h):** {_utc(deadline)} ({local:%Y-%m-%d %H:%M} Europe/Berlin)" in notification


@pytest.mark.usefixtures("vault_file")
def test_a_letter_on_utc_says_each_time_once(data_dir: Path, tmp_path: Path) -> None:
    """Where the controller's zone is UTC, the letter says UTC once (no "UTC time (UTC)")."""
    settings.save(data_dir, country="DE", zone="UTC")
    started = _base()
    assert run(data_dir, "breach", "open", "--title", "Laptop stolen", "--occurred-from", _iso(started)).returncode == 0
    out = tmp_path / "drafts"
    assert run(data_dir, "breach", "draft", "1", "--out", str(out), "--audience", "subjects").returncode == 0
    assert f"It started on {_utc(started)}." in (out / "incident-1-communication.md").read_text()
