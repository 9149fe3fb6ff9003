"""Every table of the vault, registered in one place (issue 15 §1).

The store is the bottom layer: it defines the resources' tables and the declarative ``Base``, and knows nothing of
the packages above it. Each domain package declares its own tables on that ``Base`` (app/<package>/tables.py);
this module, above them all, imports each one explicitly so that ``metadata`` holds the whole schema. It is what
Alembic's autogenerate and the schema test compare the migrations with (tests/store/test_migrations.py); the
running app does not need it, since every module that queries a table imports that table's module.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from app.audit import tables as audit_tables
from app.dsr import tables as dsr_tables
from app.erasure import tables as erasure_tables
from app.feed import tables as feed_tables
from app.incidents import tables as incident_tables
from app.policy import tables as policy_tables
from app.siem import tables as siem_tables
from app.store.models import Base

MODULES = (audit_tables, dsr_tables, erasure_tables, feed_tables, incident_tables, policy_tables, siem_tables)
metadata: MetaData = Base.metadata
