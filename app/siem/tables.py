"""Tables of SIEM forwarding and alerts."""

from __future__ import annotations
