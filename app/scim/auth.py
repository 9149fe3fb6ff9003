"""Bearer-token authentication, and the throttle on repeated failures.

The throttle counts failures only and only ever refuses requests that failed authentication: a request with a
valid token is served whatever its address did before. An IdP's shared egress, a NAT or a reverse proxy puts
many clients behind one address, and a throttle that refused the address would let anyone with a wrong token
lock the real IdP out (issue 11 §3). Brute force is not what the throttle stops (a token has 256 bits); it
bounds the work and the noise failed requests cause, per source and in total.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.scim.sources import source_key
from app.setup.tokens import TokenStore, VerifiedClient

REALM = "Custos SCIM"
MAX_FAILURES = 10  # per source within the window …
MAX_FAILURES_GLOBAL = 100  # … and from every source together
FAILURE_WINDOW_SECONDS = 60.0
MAX_TRACKED_SOURCES = 4096  # beyond this many failing sources at once, only the global limit applies
LAST_USED_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class ThrottleEngaged:
    """A limit was just crossed: the first failure refused from now on (one notice per limit and window)."""

    scope: str  # "source" | "global"
    source: str  # the source key whose failure crossed it
    failures: int  # failures counted in the window
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Challenge:
    """How a request without a usable token is answered (RFC 6750 §3, §3.1)."""

    status: int  # 401, or 400 for a malformed request
    www_authenticate: str
    detail: str


def challenge(authorizations: list[str]) -> Challenge:
    """The answer to a request whose ``Authorization`` headers (every one it sent) gave no valid token.

    RFC 6750 §3.1: a request without authentication information (none, or another scheme such as Basic: an
    unsupported method) gets the challenge with no error code, so a client that did not know it must authenticate
    is not told its token was bad. A malformed one (two headers, ``Bearer`` without a token) is ``invalid_request``
    with 400; a token that is wrong, expired or revoked is ``invalid_token``.
    """
    if len(authorizations) > 1:
        return _malformed("Send one Authorization header with one bearer token.")
    scheme, _, credential = (authorizations[0] if authorizations else "").partition(" ")
    if scheme.lower() != "bearer":
        return Challenge(401, f'Bearer realm="{REALM}"', "A valid bearer token is required.")
    if not credential.strip():
        return _malformed("The bearer token is missing.")
    return Challenge(401, f'Bearer realm="{REALM}", error="invalid_token"', "A valid bearer token is required.")


def _malformed(detail: str) -> Challenge:
    return Challenge(400, f'Bearer realm="{REALM}", error="invalid_request"', detail)


class _Window:
    """Failure times within the window, and whether the crossing of the limit was already announced."""

    __slots__ = ("announced", "times")

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.announced = False

    def prune(self, now: float, window: float) -> None:
        while self.times and self.times[0] <= now - window:
            self.times.popleft()
        if not self.times:
            self.announced = False


class FailureThrottle:
    """Refuses failing requests from a source after ``max_failures`` failures within the window, and every
    failing request once ``max_global`` failures came from all sources together."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = FAILURE_WINDOW_SECONDS,
        *,
        max_global: int = MAX_FAILURES_GLOBAL,
        max_sources: int = MAX_TRACKED_SOURCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.max_global = max_global
        self.window = window
        self.max_sources = max_sources
        self._clock = clock
        self._sources: dict[str, _Window] = {}
        self._global = _Window()
        self._lock = threading.Lock()

    def retry_after(self, source: str) -> int | None:
        """Seconds until a failing request from ``source`` is answered 401 again; None when it is now."""
        now = self._clock()
        with self._lock:
            self._global.prune(now, self.window)
            waits = []
            if len(self._global.times) >= self.max_global:
                waits.append(self._global.times[-self.max_global] + self.window - now)
            entries = self._sources.get(source_key(source))
            if entries is not None:
                entries.prune(now, self.window)
                if len(entries.times) >= self.max_failures:
                    waits.append(entries.times[-self.max_failures] + self.window - now)
        return max(1, int(max(waits)) + 1) if waits else None

    def record_failure(self, source: str) -> list[ThrottleEngaged]:
        """Count one failure that was answered 401 (or 400, malformed); the limits it made engage, if any."""
        now = self._clock()
        key = source_key(source)
        engaged: list[ThrottleEngaged] = []
        with self._lock:
            self._global.prune(now, self.window)
            self._global.times.append(now)
            if len(self._global.times) >= self.max_global and not self._global.announced:
                self._global.announced = True
                engaged.append(self._notice("global", key, len(self._global.times), self.max_global))
            entries = self._source_window(key, now)
            if entries is None:
                return engaged
            entries.times.append(now)
            if len(entries.times) >= self.max_failures and not entries.announced:
                entries.announced = True
                engaged.append(self._notice("source", key, len(entries.times), self.max_failures))
        return engaged

    def _source_window(self, key: str, now: float) -> _Window | None:
        entries = self._sources.get(key)
        if entries is not None:
            entries.prune(now, self.window)
            return entries
        if len(self._sources) >= self.max_sources:
            for name, old in list(self._sources.items()):
                old.prune(now, self.window)
                if not old.times:
                    del self._sources[name]
            if len(self._sources) >= self.max_sources:
                return None  # memory stays bounded; the global limit still counts this failure
        entries = self._sources[key] = _Window()
        return entries

    def _notice(self, scope: str, key: str, failures: int, limit: int) -> ThrottleEngaged:
        return ThrottleEngaged(scope, key, failures, limit, int(self.window))


class Authenticator:
    def __init__(self, tokens: TokenStore, throttle: FailureThrottle | None = None) -> None:
        self.tokens = tokens
        self.throttle = throttle or FailureThrottle()
        self._last_recorded: dict[tuple[int, str], float] = {}

    def authenticate(self, authorization: str | None, source: str) -> VerifiedClient | None:
        if not authorization:
            return None
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return None
        client = self.tokens.verify(credential.strip())
        if client is not None:
            self._note_use(client, source)
        return client

    def refused_token(self, authorization: str | None) -> str | None:
        """The name of the revoked or expired token a refused request presented; None when it presented none of
        this vault's tokens (a guess, a typo, another system's token)."""
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return None
        return self.tokens.refused_name(credential.strip())

    def _note_use(self, client: VerifiedClient, source: str) -> None:
        # Writing last-used on every request would cost a commit per read; once a minute per source is enough.
        key = (client.token_id, source)
        now = time.monotonic()
        if now - self._last_recorded.get(key, -LAST_USED_INTERVAL_SECONDS) >= LAST_USED_INTERVAL_SECONDS:
            self._last_recorded[key] = now
            self.tokens.record_use(client.token_id, source)
