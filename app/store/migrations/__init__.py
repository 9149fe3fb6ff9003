"""Alembic migrations of the vault schema, run in-process on unlock."""
