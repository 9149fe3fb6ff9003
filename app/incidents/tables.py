"""Tables of the breach register."""

from __future__ import annotations
