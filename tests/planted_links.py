"""A folder with links planted under the names an export is about to write, all pointing at one file elsewhere
(``incident-1-notification.md -> ~/.bashrc`` in a shared folder): a writer that opens those names follows them."""

from __future__ import annotations

from pathlib import Path

UNTOUCHED = "not written by the export\n"


def plant(tmp_path: Path, folder: str, names: list[str]) -> tuple[Path, Path]:
    """The output folder, made, holding a link under each of ``names``; and the file they point at (mode 0644,
    holding :data:`UNTOUCHED`), to check afterwards that it was left as it was."""
    victim = tmp_path / "victim.txt"
    victim.write_text(UNTOUCHED)
    victim.chmod(0o644)
    out = tmp_path / folder
    out.mkdir()
    for name in names:
        (out / name).symlink_to(victim)
    return out, victim


def untouched(victim: Path) -> bool:
    return victim.read_text() == UNTOUCHED and victim.stat().st_mode & 0o777 == 0o644
