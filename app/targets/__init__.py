"""Downstream SCIM targets: configuration, attribute mapping, the outbox and its dispatcher (Qt-free)."""
