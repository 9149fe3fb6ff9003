"""Alembic environment: always runs on a connection handed over by app.store.migrate (already keyed).

Upgrades need no model metadata. Autogenerate and the schema check hand the whole schema in as the
``target_metadata`` attribute (app/tables.py), because the store sits below the packages that own most tables."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
target_metadata = context.config.attributes.get("target_metadata")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
