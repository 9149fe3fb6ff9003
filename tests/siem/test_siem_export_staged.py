"""`siem export` is all or nothing, as the other exports: stopped part-way (Ctrl-C, a failed read, a full disk) it
leaves no half-written file and keeps an earlier export at the same path whole, and nothing reaches the trail.
Before: the file was opened with O_TRUNC at --out and written line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit.trail import Event, of_kind
from app.services import siem
from app.store.vault import Vault
from tests.siem.conftest import add_events

EARLIER = "an earlier export, kept whole\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the exports go: apart from the vault's data folder, so what is beside them can be listed."""
    made = tmp_path / "exports"
    made.mkdir()
    return made


def _stop_after(lines: int) -> object:
    from app.siem.cef import to_cef

    seen = []

    def stopping(event: Event) -> str:
        seen.append(event.seq)
        if len(seen) > lines:
            raise KeyboardInterrupt
        return to_cef(event)

    return stopping


def test_an_interrupted_export_leaves_the_earlier_file_whole_and_no_partial(
    vault: Vault, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(vault, 12)
    out = folder / "trail.cef"
    out.write_text(EARLIER)
    monkeypatch.setattr(siem, "to_cef", _stop_after(3))

    with pytest.raises(KeyboardInterrupt):
        siem.export(vault, "cef", 1, None, out, "ops")

    assert out.read_text() == EARLIER
    assert sorted(p.name for p in folder.iterdir()) == ["trail.cef"]
    with vault.read_connection() as conn:
        assert of_kind(conn, "export.siem") == []


def test_a_new_file_interrupted_is_not_left_behind(
    vault: Vault, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(vault, 5)
    monkeypatch.setattr(siem, "to_cef", _stop_after(2))

    with pytest.raises(KeyboardInterrupt):
        siem.export(vault, "cef", 1, None, folder / "trail.cef", "ops")

    assert list(folder.iterdir()) == []


def test_a_finished_export_is_in_place_owner_only_with_nothing_beside_it(vault: Vault, folder: Path) -> None:
    add_events(vault, 5)
    out = folder / "trail.jsonl"
    out.write_text(EARLIER)

    done = siem.export(vault, "ocsf", 1, None, out, "ops")

    assert len(out.read_text().splitlines()) == done.count and EARLIER not in out.read_text()
    assert out.stat().st_mode & 0o077 == 0 and [p.name for p in folder.iterdir()] == ["trail.jsonl"]
