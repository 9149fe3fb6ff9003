"""``custos breach export`` and ``custos dsr export``: a register as one CSV or XLSX file (app/services/registers.py).

Printed format (a contract for scripts): ``Wrote PATH (sha256 HEX)``, as every export prints it, then
``N incidents in the register.`` / ``N requests in the register.``. The file is on the audit trail
(``export.breach_register`` / ``export.dsr_register``) with its format, row count and SHA-256.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.commands.common import refuse_other_suffix
from app.core.errors import ConfigError
from app.core.terminal import shown
from app.core.wording import counted

FORMATS = ("csv", "xlsx")  # as app.exports.register_files.FORMATS (kept light here)


def add_export_options(parser: argparse.ArgumentParser, entry: str) -> None:
    parser.add_argument("--format", choices=FORMATS, help="csv or xlsx (default: from the --out suffix); csv holds "
                        f"the {entry}s' table, xlsx adds a sheet about the export")  # fmt: skip
    parser.add_argument("--out", required=True, help="the file to write (replaced whole, or left as it was)")


def export_format(args: argparse.Namespace) -> str:
    """--format, else the --out suffix; a folder that does not exist is refused before the register is read."""
    out = Path(args.out).expanduser()
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"Choose --format: one of {', '.join(FORMATS)} (or give --out one of these suffixes).")
    refuse_other_suffix(out, fmt, fmt)
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    return fmt


def print_export(written: Any, entry: str) -> None:
    print(f"Wrote {shown(written.path)} (sha256 {written.sha256})")
    print(f"{counted(written.rows, entry, grouped=False)} in the register.")
