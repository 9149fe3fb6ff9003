"""The GDPR policy: the agreed schema, purposes, retention and recipients (Qt-free)."""
