"""Tables of the audit trail's integrity layer (checkpoints, keys). See app/audit/trail.py for the events."""

from __future__ import annotations
