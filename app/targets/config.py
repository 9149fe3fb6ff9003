"""Target configuration in the vault. Credentials live here only: never in the policy file, logs or output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, delete, insert, select, update

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.core.errors import ConfigError
from app.core.network import is_loopback
from app.feed.tables import Target
from app.targets.removal import record_held

_T = Target.__table__
AUTH_KINDS = ("bearer", "oauth2", "none")
ERASE_MODES = ("delete", "deactivate", "manual")
MAX_CONCURRENCY = 32  # requests in flight to one target at once
DEFAULT_TIMEOUT = 15.0  # seconds a target has to answer; the default before it was a setting (migration 0023)
TIMEOUT_RANGE = (1.0, 300.0)  # below a second a healthy target on a real link times out; beyond five minutes a
# hung target holds its share of the dispatcher for longer than anyone waits for an answer


@dataclass(frozen=True)
class TargetConfig:
    id: int
    name: str
    base_url: str
    recipient_id: str
    auth_kind: str = "bearer"
    secret: str | None = field(default=None, repr=False)  # never printed by repr()
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_scope: str | None = None
    ca_file: str | None = None
    pinned_sha256: str | None = None
    renames: dict[str, str] = field(default_factory=dict)
    erase_mode: str = "delete"
    max_concurrency: int = 4
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT  # seconds for each request (connecting: at most CONNECT_TIMEOUT)


def check_timeout(seconds: float) -> float:
    """A target's timeout in range, or a ConfigError saying the range (one rule for the CLI, the app and the vault)."""
    low, high = TIMEOUT_RANGE
    if not low <= seconds <= high:  # NaN fails both comparisons: refused too
        raise ConfigError(f"A target's timeout is {low:g} to {high:g} seconds, not {seconds:g}.")
    return float(seconds)


def _config(r: Row[Any]) -> TargetConfig:
    return TargetConfig(
        id=r.id,
        name=r.name,
        base_url=r.base_url,
        recipient_id=r.recipient_id,
        auth_kind=r.auth_kind,
        secret=r.secret,
        oauth_token_url=r.oauth_token_url,
        oauth_client_id=r.oauth_client_id,
        oauth_scope=r.oauth_scope,
        ca_file=r.ca_file,
        pinned_sha256=r.pinned_sha256,
        renames=json.loads(r.renames or "{}"),
        erase_mode=r.erase_mode,
        max_concurrency=r.max_concurrency,
        enabled=r.enabled,
        timeout=r.timeout_seconds,
    )


def check_url(url: str) -> str:
    """HTTPS, or plain HTTP to a loopback address only (a local test or sidecar target)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError("A target URL is https://host/path (the SCIM base URL, e.g. …/scim/v2).")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError("Plain HTTP is only allowed to a loopback address; use https:// for this target.")
    return url.rstrip("/")


def _check(config: TargetConfig) -> None:
    """What a target's configuration must satisfy, whether added or edited (one rule, one message)."""
    if config.auth_kind not in AUTH_KINDS:
        raise ConfigError(f"Authentication is one of {', '.join(AUTH_KINDS)}.")
    if config.auth_kind != "none" and not config.secret:
        raise ConfigError("This target needs a credential (a bearer token or an OAuth client secret).")
    if config.auth_kind == "oauth2" and not (config.oauth_token_url and config.oauth_client_id):
        raise ConfigError("OAuth 2 client credentials need a token URL and a client id.")
    if config.oauth_token_url:
        check_url(config.oauth_token_url)
    if config.erase_mode not in ERASE_MODES:
        raise ConfigError(f"The erase mode is one of {', '.join(ERASE_MODES)}.")
    check_timeout(config.timeout)
    if not 1 <= config.max_concurrency <= MAX_CONCURRENCY:  # it was clamped silently: "Changed" to another value
        raise ConfigError(f"A target's concurrency is 1 to {MAX_CONCURRENCY} requests, not {config.max_concurrency}.")
    check_url(config.base_url)


def add_target(conn: Connection, config: TargetConfig) -> TargetConfig:
    if not config.name or len(config.name) > 64 or not config.name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError("A target name is 1 to 64 letters, digits, '-' or '_'.")
    if conn.execute(select(_T.c.id).where(_T.c.name == config.name)).first() is not None:
        raise ConfigError(f"A target named {config.name!r} already exists; remove it first or choose another name.")
    _check(config)
    values = {
        "name": config.name,
        "base_url": check_url(config.base_url),
        "recipient_id": config.recipient_id,
        "auth_kind": config.auth_kind,
        "secret": config.secret,
        "oauth_token_url": config.oauth_token_url,
        "oauth_client_id": config.oauth_client_id,
        "oauth_scope": config.oauth_scope,
        "ca_file": config.ca_file,
        "pinned_sha256": config.pinned_sha256,
        "renames": json.dumps(config.renames),
        "erase_mode": config.erase_mode,
        "max_concurrency": config.max_concurrency,
        "enabled": config.enabled,
        "timeout_seconds": config.timeout,
        "created": datetime.now(UTC),
    }
    conn.execute(insert(_T).values(**values))
    details = {"target": config.name, "recipient": config.recipient_id, "auth": config.auth_kind}
    append(conn, Event("target.added", current_actor.get(), details=details))
    added = get_target(conn, config.name)
    assert added is not None
    if added.enabled:
        _initial_sync(conn, added)
    return added


def _initial_sync(conn: Connection, target: TargetConfig, reason: str = "target added") -> None:
    """Everyone in scope goes to a new target, queued in the transaction that adds it (nothing is lost)."""
    from app.policy.versions import in_force  # the policy builds on nothing here; imported where needed
    from app.targets.sync import queue

    record = in_force(conn)
    if record is not None:
        queue(conn, target, record.policy, reason)


EDITABLE = ("base_url", "recipient_id", "auth_kind", "secret", "oauth_token_url", "oauth_client_id", "oauth_scope",
            "ca_file", "pinned_sha256", "renames", "erase_mode", "max_concurrency", "enabled", "timeout")  # fmt: skip
_RESYNC = frozenset({"recipient_id", "renames", "enabled"})  # what changes whom or what the target should hold


_COLUMN = {"timeout": "timeout_seconds"}  # a field stored under another name


def update_target(conn: Connection, name: str, **changes: object) -> TargetConfig:
    """Change a target's configuration. A credential not given is kept (it is never read back to be re-entered);
    the trail names the fields changed, never a value of the credential. When the recipient, the renames or
    "enabled" change, everyone in scope is queued again, in this transaction, as for a new target."""
    current = require_target(conn, name)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ConfigError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    if changes.get("secret") in (None, ""):
        changes.pop("secret", None)
    if changes.get("auth_kind") == "none":
        changes["secret"] = None
    changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changed:
        return current
    updated = replace(current, **changed)  # type: ignore[arg-type]  # values of several fields by name: _check below
    _check(updated)
    values = {_COLUMN.get(k, k): json.dumps(v) if k == "renames" else v for k, v in changed.items()}
    if "base_url" in values:
        values["base_url"] = check_url(str(values["base_url"]))
    conn.execute(update(_T).where(_T.c.id == current.id).values(**values))
    fields = sorted("credential" if k == "secret" else k for k in changed)
    append(conn, Event("target.changed", current_actor.get(), details={"target": name, "fields": fields}))
    result = require_target(conn, name)
    if result.enabled and _RESYNC & set(changed):
        _initial_sync(conn, result, "target changed")
    return result


def list_targets(conn: Connection, enabled_only: bool = False) -> list[TargetConfig]:
    statement = select(_T).order_by(_T.c.name)
    if enabled_only:
        statement = statement.where(_T.c.enabled.is_(True))
    return [_config(row) for row in conn.execute(statement)]


def get_target(conn: Connection, name: str) -> TargetConfig | None:
    row = conn.execute(select(_T).where(_T.c.name == name)).first()
    return None if row is None else _config(row)


def require_target(conn: Connection, name: str) -> TargetConfig:
    found = get_target(conn, name)
    if found is None:
        raise ConfigError(f"No target named {name!r}.")
    return found


def remove_target(conn: Connection, name: str) -> int:
    """Remove a target; returns how many Users it still held. Who they are goes on the trail first (its links
    go with it): a later erasure of one of them must still tell that recipient (app/targets/removal.py)."""
    target = require_target(conn, name)
    held = record_held(conn, target)
    conn.execute(delete(_T).where(_T.c.id == target.id))
    details = {"target": name, "recipient": target.recipient_id, "users_held": held}
    append(conn, Event("target.removed", current_actor.get(), details=details))
    return held
