"""The register's own retention: a closed request is deleted a configured time after closure (default 3 years).

Kept that long as evidence of compliance (Art. 5(2)); then the request, its steps, attachments list and any key
are deleted, with one ``dsr.purged`` entry per request (its id and dates only). Run by the retention job.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import delete, select

from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.dsr import settings as register_settings
from app.dsr.tables import DsrAttachment, DsrKey, DsrRequest, DsrStep
from app.policy.versions import in_force
from app.store.vault import Vault

log = logging.getLogger(__name__)
ACTOR = "system:retention"
_Q = DsrRequest.__table__


def purge_expired(vault: Vault, now: datetime | None = None) -> list[str]:
    """Delete the closed requests whose retention ran out; returns their ids."""
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        record = in_force(conn)
        try:
            kept = register_settings.load(vault.path.parent, record.policy if record else None).retention
        except ConfigError as exc:  # a broken requests.toml must not stop the retention job: the default holds
            log.warning("request register settings ignored: %s", exc.user_message)
            kept = register_settings.DEFAULT_RETENTION
        cutoff = kept.before(moment)
        expired = conn.execute(
            select(_Q.c.id, _Q.c.received, _Q.c.closed).where(_Q.c.state == "closed", _Q.c.closed <= cutoff)
        ).all()
        for row in expired:
            for table in (DsrAttachment.__table__, DsrStep.__table__, DsrKey.__table__):
                conn.execute(delete(table).where(table.c.request_id == row.id))
            conn.execute(delete(_Q).where(_Q.c.id == row.id))
            details = {"request": row.id, "closed": row.closed.date().isoformat(), "retention": kept.iso()}
            append(conn, Event("dsr.purged", ACTOR, details=details, at=moment))
    return [row.id for row in expired]
