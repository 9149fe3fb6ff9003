"""Bearer tokens for SCIM clients: 256-bit random, shown once, stored as SHA-256 only.

A SHA-256 (not a slow password hash) is right here: the token carries 256 bits of entropy, so there is
nothing to brute-force, and verification must stay cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.trail import Event, append, holds_email_address
from app.core.actor import current_actor
from app.core.errors import ConfigError
from app.store.models import ApiToken
from app.store.vault import Vault

TOKEN_PREFIX = "cst_"  # lets secret scanners recognise a leaked Custos token
TOKEN_BYTES = 32
MAX_NAME_LENGTH = 128
MAX_LIFETIME_DAYS = 36_500  # a hundred years: "never" is saying no --expires-days
# How stale a process's view of the tokens may be. The CLI, the desktop app and `serve` each hold the vault open
# with their own TokenStore; a revocation (or a new token, or a changed expiry) made by one must bite in the
# others without a restart. Re-reading the few token rows once a second is cheaper than one request's commit.
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the secret, never its hash."""

    name: str
    hint: str
    created: datetime
    expires: datetime | None
    last_used: datetime | None
    last_used_from: str | None
    revoked: datetime | None

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        if self.expires and _aware(self.expires) <= datetime.now(UTC):
            return "expired"
        return "active"


@dataclass(frozen=True)
class VerifiedClient:
    token_id: int
    name: str


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_token_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise ConfigError("A token name is 1 to 128 printable characters: name it after the client that uses it.")
    if holds_email_address(name):  # the name is on the trail (its entries, the requests' actor): no personal data
        raise ConfigError("A token name cannot hold an e-mail address: name it after the client that uses it.")
    return name


def _name_taken(session: Session, taken: ApiToken) -> str:
    """Why a name is refused and which to use. A name is never used twice (the trail names each token's requests by
    it), so "revoke it or choose another name" sent an operator to revoke the token, or, when it was already revoked,
    to revoke it again, neither of which frees the name."""
    state = f" (revoked {_aware(taken.revoked):%Y-%m-%d %H:%M} UTC)" if taken.revoked else ""
    prefix = f"{taken.name}-"
    used = set(session.scalars(select(ApiToken.name).where(ApiToken.name.startswith(prefix, autoescape=True))))
    free = next(f"{prefix}{n}" for n in range(2, len(used) + 3) if f"{prefix}{n}" not in used)
    such_as = f", such as {free!r}" if len(free) <= MAX_NAME_LENGTH else ""
    return (
        f"A token named {taken.name!r} already exists{state}, and a name is never used twice (the audit trail names "
        f"each token's requests by it): choose another{such_as}."
    )


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _to_info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        name=row.name,
        hint=row.hint,
        created=_aware(row.created),
        expires=_aware(row.expires) if row.expires else None,
        last_used=_aware(row.last_used) if row.last_used else None,
        last_used_from=row.last_used_from,
        revoked=_aware(row.revoked) if row.revoked else None,
    )


class TokenStore:
    def __init__(
        self,
        vault: Vault,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._vault = vault
        # token hash -> (id, name, expires) of unrevoked tokens; keeps verification off the disk on the hot path,
        # re-read after ``refresh_seconds`` so changes made by another process on this vault are seen
        self._cache: dict[str, tuple[int, str, datetime | None]] | None = None
        # token hash -> name of revoked tokens, read with the cache: a failed authentication names the revoked token
        # it presented (a leaked token tried after its revocation is the first thing an incident responder asks)
        self._revoked: dict[str, str] = {}
        self._loaded_at = 0.0
        # Bumped by every change made through this store. A read that began before a change is not kept as the
        # cache: it may hold a token just revoked (or lack one just made), and would be trusted for a second.
        self._generation = 0
        self._lock = threading.Lock()
        self._refresh_seconds = refresh_seconds
        self._clock = clock

    def create(self, name: str, expires_in_days: int | None = None) -> tuple[TokenInfo, str]:
        """Make a token; the secret is returned here and never again."""
        name = check_token_name(name)
        if expires_in_days is not None and expires_in_days <= 0:
            raise ConfigError("A token's lifetime must be a positive number of days.")
        if expires_in_days is not None and expires_in_days > MAX_LIFETIME_DAYS:  # past year 9999: OverflowError
            raise ConfigError(f"A token's lifetime is at most {MAX_LIFETIME_DAYS} days; leave it out for no expiry.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        now = datetime.now(UTC)
        row = ApiToken(
            name=name,
            token_hash=hash_token(secret),
            hint=secret[: len(TOKEN_PREFIX) + 4],
            created=now,
            expires=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        with self._vault.write_session() as session:
            taken = session.scalar(select(ApiToken).where(ApiToken.name == name))
            if taken is not None:
                raise ConfigError(_name_taken(session, taken))
            session.add(row)
            session.flush()
            info = _to_info(row)
            details = {"token": name, "expires": info.expires.isoformat() if info.expires else None}
            append(session.connection(), Event("token.created", current_actor.get(), details=details))
        self._forget()
        return info, secret

    def list(self) -> list[TokenInfo]:
        with self._vault.read_session() as session:
            rows = session.scalars(select(ApiToken).order_by(ApiToken.created, ApiToken.id)).all()
            return [_to_info(row) for row in rows]

    def revoke(self, name: str) -> TokenInfo:
        with self._vault.write_session() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.name == name))
            if row is None:
                raise ConfigError(f"No token named {name!r}.")
            if row.revoked is None:
                row.revoked = datetime.now(UTC)
                append(session.connection(), Event("token.revoked", current_actor.get(), details={"token": name}))
            info = _to_info(row)
        self._forget()
        return info

    def _forget(self) -> None:
        """After a change made here (committed): the next verification reads the tokens again."""
        with self._lock:
            self._generation += 1
            self._cache = None

    def _active_tokens(self) -> dict[str, tuple[int, str, datetime | None]]:
        now = self._clock()
        cache = self._cache
        if cache is None or now - self._loaded_at >= self._refresh_seconds:
            generation = self._generation
            with self._vault.read_session() as session:
                rows = session.execute(
                    select(ApiToken.token_hash, ApiToken.id, ApiToken.name, ApiToken.expires, ApiToken.revoked)
                ).all()
            cache = {h: (i, n, _aware(e) if e else None) for h, i, n, e, r in rows if r is None}
            revoked = {h: n for h, _i, n, _e, r in rows if r is not None}
            with self._lock:
                if generation == self._generation:  # else a change came meanwhile: this read may predate it
                    self._cache, self._revoked, self._loaded_at = cache, revoked, now
        return cache

    def refused_name(self, presented: str) -> str | None:
        """The name of the known token ``presented`` is, when it was refused because it is revoked or expired;
        None for a string that is no token of this vault. Only for a failed authentication: never a secret, and
        the lookup is a dictionary's (the names were read with the active tokens)."""
        presented_hash = hash_token(presented)
        tokens = self._active_tokens()
        known = tokens.get(presented_hash)
        if known is not None:
            expires = known[2]
            return known[1] if expires is not None and expires <= datetime.now(UTC) else None
        return self._revoked.get(presented_hash)

    def verify(self, presented: str) -> VerifiedClient | None:
        """Constant-time comparison against every active token's hash."""
        presented_hash = hash_token(presented)
        match: tuple[int, str, datetime | None] | None = None
        for stored_hash, details in self._active_tokens().items():
            if hmac.compare_digest(stored_hash, presented_hash):
                match = details
        if match is None:
            return None
        token_id, name, expires = match
        if expires is not None and expires <= datetime.now(UTC):
            return None
        return VerifiedClient(token_id=token_id, name=name)

    def record_use(self, token_id: int, source: str) -> None:
        with self._vault.write_session() as session:
            row = session.get(ApiToken, token_id)
            if row is not None:
                row.last_used = datetime.now(UTC)
                row.last_used_from = source[:64]
