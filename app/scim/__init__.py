"""SCIM 2.0 service provider (RFC 7643/7644). Imports app.core and app.store; never Qt."""
