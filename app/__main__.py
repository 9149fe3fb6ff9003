"""``python -m app``: the same entry point as ``custos`` and ``python main.py`` (start at login uses it)."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
