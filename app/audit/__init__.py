"""The audit trail: append-only, hash-chained events without personal data (Qt-free)."""
