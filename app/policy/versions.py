"""Every applied policy version, kept in full in the vault: the newest one is in force."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from app.core.paths import resources_dir
from app.policy.loader import load_policy
from app.policy.model import Policy
from app.policy.tables import PolicyVersion
from app.store.results import inserted_id

_P = PolicyVersion.__table__
DEFAULT_OPERATOR = "custos:default-policy"


@dataclass(frozen=True)
class PolicyRecord:
    version: int
    sha256: str
    applied_at: datetime
    operator: str
    text: str

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.text, stored=True)  # applied under the rules of its day

    @property
    def stamp(self) -> str:
        """How exports name the version in force: ``v3 sha256:ab12…``."""
        return f"v{self.version} sha256:{self.sha256}"


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def default_policy_text() -> str:
    return (resources_dir() / "policy" / "default.toml").read_text(encoding="utf-8")


def _record(row: Row[Any]) -> PolicyRecord:
    applied = row.applied_at
    applied = applied.replace(tzinfo=UTC) if applied.tzinfo is None else applied
    return PolicyRecord(row.version, row.sha256, applied, row.operator, row.text)


_LATEST = select(func.max(_P.c.version))  # built once: every SCIM write asks (building it cost 0.2 ms a time)


def latest_version(conn: Connection) -> int | None:
    return conn.execute(_LATEST).scalar()


def in_force(conn: Connection) -> PolicyRecord | None:
    row = conn.execute(select(_P).order_by(_P.c.version.desc()).limit(1)).first()
    return None if row is None else _record(row)


def get(conn: Connection, version: int) -> PolicyRecord | None:
    row = conn.execute(select(_P).where(_P.c.version == version)).first()
    return None if row is None else _record(row)


def history(conn: Connection) -> list[PolicyRecord]:
    return [_record(row) for row in conn.execute(select(_P).order_by(_P.c.version))]


def insert_version(conn: Connection, text: str, operator: str, now: datetime | None = None) -> PolicyRecord:
    applied = now or datetime.now(UTC)
    digest = sha256_of(text)
    version = conn.execute(insert(_P).values(sha256=digest, applied_at=applied, operator=operator, text=text))
    return PolicyRecord(inserted_id(version), digest, applied, operator, text)
