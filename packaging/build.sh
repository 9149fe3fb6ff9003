#!/usr/bin/env bash
# Build the frozen one-folder app into dist/custos/ (Linux and macOS; Windows: see packaging/README.md).
#
#   bash packaging/build.sh                      # build venv in build/venv, output in dist/custos/
#   CUSTOS_BUILD_VENV=.venv bash packaging/build.sh   # reuse an existing venv instead
#   CUSTOS_BUILD_TARBALL=1 bash packaging/build.sh    # also dist/custos-<version>-<os>-<arch>.tar.gz
#
# Why a venv of its own by default: PyInstaller bundles what the build environment offers. A development venv
# often holds the full PySide6 (Addons, WebEngine) and test tools; their Qt plugins (PDF, virtual keyboard) drag
# QML and Quick into the bundle. A venv with only the project's runtime dependencies and PyInstaller gives the
# bundle users should get, and the same one on every build machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${CUSTOS_BUILD_VENV:-$ROOT/build/venv}"
PYTHON="${PYTHON:-python3}"
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"
SPEC="$ROOT/packaging/pyinstaller/custos.spec"

SECONDS=0
if [ ! -x "$VENV/bin/python" ] && [ ! -x "$VENV/Scripts/python.exe" ]; then
    echo "==> creating the build venv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
BIN="$VENV/bin"
[ -d "$BIN" ] || BIN="$VENV/Scripts"

echo "==> installing Custos and PyInstaller into $VENV"
"$BIN/python" -m pip install -q --disable-pip-version-check -e '.[package]'
install_s=$SECONDS

echo "==> PyInstaller $("$BIN/pyinstaller" --version)"
# --clean: no stale analysis from an earlier build (a renamed module or a removed dependency would linger).
"$BIN/pyinstaller" --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$WORK" "$SPEC"
build_s=$((SECONDS - install_s))

OUT="$DIST/custos"
if [ ! -d "$OUT" ]; then
    echo "build failed: $OUT is missing" >&2
    exit 1
fi
# Linux desktop integration next to the executable, laid out as under /usr/local/share, so that a packager or an
# administrator copies it as it is (packaging/README.md: "Install on Linux").
if [ "$(uname -s)" = "Linux" ]; then
    SHARE="$OUT/share"
    install -D -m 0644 packaging/linux/eu.custos.Custos.desktop "$SHARE/applications/eu.custos.Custos.desktop"
    install -D -m 0644 packaging/linux/eu.custos.Custos.metainfo.xml "$SHARE/metainfo/eu.custos.Custos.metainfo.xml"
    install -D -m 0644 resources/icons/custos.svg "$SHARE/icons/hicolor/scalable/apps/eu.custos.Custos.svg"
    for px in 16 32 48 64 128 256; do
        install -D -m 0644 "resources/icons/custos-$px.png" "$SHARE/icons/hicolor/${px}x${px}/apps/eu.custos.Custos.png"
    done
fi

# Debug symbols out, as PyInstaller's strip did (strip -S), except in wheels' vendored "*.libs" folders, which
# auditwheel rewrote and which break when stripped (see STRIP in the spec).
if [ "$(uname -s)" = "Linux" ] && command -v strip >/dev/null 2>&1; then
    find "$OUT/_internal" -type f \( -name '*.so' -o -name '*.so.*' \) -not -path '*.libs/*' \
        -exec strip --strip-debug {} +
fi

size_mb=$(du -sm "$OUT" | cut -f1)
files=$(find "$OUT" -type f | wc -l | tr -d ' ')
echo "==> built $OUT"
echo "    size: ${size_mb} MB in ${files} files"
echo "    time: ${install_s} s install + ${build_s} s PyInstaller = ${SECONDS} s"
if [ "${CUSTOS_BUILD_TARBALL:-0}" = "1" ]; then
    version=$("$BIN/python" -c 'import app; print(app.__version__)')
    tarball="$DIST/custos-$version-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m).tar.gz"
    tar -C "$DIST" -czf "$tarball" custos
    echo "    tarball: $tarball ($(du -sm "$tarball" | cut -f1) MB)"
fi
echo "    smoke test: $BIN/python packaging/smoke_test.py"
