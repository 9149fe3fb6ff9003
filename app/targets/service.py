"""What an operator does to targets, as small Qt-free functions that ``custos target`` and the Targets page both call:
add (with the mapping it will receive), change, test the connection, remove, reconcile (``app.targets.reconcile``).

Credentials go in and are never returned: nothing here puts one in a message, a log line or the audit trail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.errors import ConfigError
from app.feed import links
from app.policy.model import Policy, typed_label
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target, remove_target, require_target, update_target
from app.targets.mapping import mapping_for
from app.targets.support import supported_attributes

if TYPE_CHECKING:
    from app.policy.in_force import PolicyInForce
    from app.targets.reconcile import Drift

FEATURES = ("patch", "bulk", "filter", "etag")


@dataclass(frozen=True)
class MappedAttribute:
    path: str  # "User emails.value", as in the catalogue
    sent_as: str  # the attribute name at the target (a rename, or the same)


def preview(policy: Policy, recipient_id: str, renames: dict[str, str] | None = None) -> list[MappedAttribute]:
    """What a target of this recipient receives, with the names it receives them under (ConfigError when the
    recipient is not in the policy, receives nothing, or a rename names no SCIM attribute)."""
    mapping = mapping_for(policy, recipient_id, renames)
    result = []
    for rule in mapping.rules:
        sent = rule.path
        if not rule.path.startswith("urn:"):  # renames apply to top-level names, as the payload does
            top, dot, rest = rule.path.partition(".")
            sent = mapping.renames.get(top, top) + dot + rest
        # Sent as, with the entry's type filter: a target of work phone numbers gets no mobile ones.
        sent_as = f"{rule.resource_type} {typed_label(sent, rule.types)}"
        result.append(MappedAttribute(f"{rule.resource_type} {rule.path}", sent_as))
    return result


def add(vault: Vault, config: TargetConfig) -> tuple[TargetConfig, list[str]]:
    """Add a target (the default policy installed first on an empty vault) and queue its initial sync, in one
    transaction; returns it and the attributes it receives."""
    from app.policy.in_force import install_default_if_missing

    with vault.write_transaction() as conn:
        mapping = mapping_for(install_default_if_missing(conn).policy, config.recipient_id, config.renames)
        added = add_target(conn, config)
    return added, mapping.attribute_paths()


def change(vault: Vault, name: str, **changes: Any) -> TargetConfig:
    """Change a target; a recipient it changes to must be in the policy in force (checked in the transaction)."""
    from app.policy.versions import in_force

    with vault.write_transaction() as conn:
        if "recipient_id" in changes or "renames" in changes:
            current = require_target(conn, name)
            record = in_force(conn)
            if record is not None:
                mapping_for(record.policy, changes.get("recipient_id", current.recipient_id),
                            changes.get("renames", current.renames))  # fmt: skip
        return update_target(conn, name, **changes)


def held(vault: Vault, name: str) -> int:
    """How many subjects Custos provisioned there (they stay there when the target is removed)."""
    with vault.read_connection() as conn:
        return len(links.of_target(conn, require_target(conn, name).id))


def remove(vault: Vault, name: str) -> None:
    with vault.write_transaction() as conn:
        remove_target(conn, name)


@dataclass(frozen=True)
class ConnectionCheck:
    target: str
    reached: bool
    error: str | None  # why it could not be reached (status codes and SCIM types, never a body)
    schemas: int = 0
    features: tuple[str, ...] = ()
    support: dict[str, bool] | None = None  # "User emails.value" -> published by the target
    status: int | None = None  # the target's answer when it answered with an error: reached, not unreachable

    @property
    def ok(self) -> bool:
        return self.reached and all((self.support or {}).values())

    @property
    def unsupported(self) -> list[str]:
        return [path for path, ok in (self.support or {}).items() if not ok]

    def headline(self) -> str:
        if not self.reached and self.status is not None:  # it answered: the network is not what to check
            return f"Reached {self.target}, but {self.error}"
        if not self.reached:
            return f"Cannot reach {self.target}: {self.error}"
        return (f"Connected to {self.target}: {self.schemas} schemas; supports "
                f"{', '.join(self.features) or 'no options'}")  # fmt: skip


def check_connection(config: TargetConfig, policy: Policy) -> ConnectionCheck:
    """Connect, run discovery and check every mapped attribute is published (the target need not be saved yet:
    the Targets page tests what the operator typed before adding it)."""
    from app.targets.client import TargetClient, TargetError  # httpx: only the commands that reach a target

    mapping = mapping_for(policy, config.recipient_id, config.renames)

    async def discover() -> dict[str, Any]:
        client = TargetClient(config)
        try:
            return await client.discovery()
        finally:
            await client.close()

    try:
        found = asyncio.run(discover())
    except TargetError as exc:
        return ConnectionCheck(config.name, False, str(exc), status=exc.status)
    except OSError as exc:  # the CA file cannot be read (TLS set-up happens before any connection)
        return ConnectionCheck(config.name, False, f"cannot use the CA file ({exc.strerror or type(exc).__name__})")
    features = found["config"]
    flags = tuple(name for name in FEATURES if (features.get(name) or {}).get("supported"))
    support = supported_attributes(found["schemas"], mapping)
    return ConnectionCheck(config.name, True, None, len(found["schemas"]), flags, support)


def check_named(vault: Vault, policy: Policy, name: str) -> ConnectionCheck:
    with vault.read_connection() as conn:
        config = require_target(conn, name)
    return check_connection(config, policy)


def reconcile(vault: Vault, policy: PolicyInForce, name: str, repair: bool = False) -> Drift:
    """Compare the target with the mirror (and queue the repair); an unreachable target is a clear error."""
    from app.targets.client import TargetError
    from app.targets.reconcile import reconcile as compare

    try:
        return compare(vault, policy, name, repair=repair)
    except TargetError as exc:
        said = f"Reached {name}, but {exc}" if exc.status is not None else f"Cannot reach {name}: {exc}"
        raise ConfigError(said) from exc
