"""The packaging files agree with the app: ids, icons, screenshots, version; and pass the freedesktop validators.

Cheap checks (no build) that always run; the validators are skipped where they are not installed
(Debian: apt-get install appstream desktop-file-utils).
"""

from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app import APP_ID, APP_NAME, __version__

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
ICONS = ROOT / "resources" / "icons"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
# AppStream requires web URLs for screenshots; the file holds repository paths (see packaging/README.md), so the
# validator gets a copy with this placeholder in front of them.
PLACEHOLDER_BASE = "https://example.org/custos/"


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive in .desktop files
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_desktop_file_matches_the_app_id() -> None:
    entry = _desktop_entry()
    assert entry["Name"] == APP_NAME
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "custos"
    assert entry["StartupWMClass"] == APP_NAME


def test_metainfo_matches_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("name") == APP_NAME
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == __version__, "newest release first, equal to app.__version__"
    assert root.find("content_rating") is not None


def test_metainfo_screenshots_exist_in_the_repository() -> None:
    images = [image.text or "" for image in ET.parse(METAINFO).getroot().iter("image")]
    assert images
    for image in images:
        assert image.startswith("docs/screenshots/"), image
        assert (ROOT / image).is_file(), f"{image} is missing (scripts/render_screenshots.py makes it)"


def test_png_icons_are_rendered_at_every_size() -> None:
    assert (ICONS / "custos.svg").is_file()
    for size in ICON_SIZES:
        assert _png_size(ICONS / f"custos-{size}.png") == (size, size)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-validate not installed")
def test_desktop_file_validates() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed")
def test_metainfo_validates(tmp_path: Path) -> None:
    text = METAINFO.read_text(encoding="utf-8").replace(">docs/screenshots/", f">{PLACEHOLDER_BASE}docs/screenshots/")
    copy = tmp_path / METAINFO.name
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
