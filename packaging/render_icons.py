"""Render resources/icons/custos.svg to the PNG sizes desktops and installers ask for.

Why PNGs at all when Qt reads the SVG: the hicolor icon theme on Linux, Windows .ico and macOS .icns builders and
AppStream all want raster files at fixed sizes, and small sizes look better rendered at their own size than scaled
down by whatever desktop shell shows them. Run again whenever the SVG changes:

    .venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before any Qt import: render without a display (CI, build machines).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def render(svg: Path, size: int, target: Path) -> None:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    if not image.save(str(target), "PNG"):
        raise SystemExit(f"cannot write {target}")


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = ICONS_DIR / "custos.svg"
    for size in SIZES:
        target = ICONS_DIR / f"custos-{size}.png"
        render(svg, size, target)
        print(f"{target.relative_to(ICONS_DIR.parents[1])}  {size}x{size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
