"""Bearer-token authentication and throttling of repeated failures per source address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from app.store.tokens import TokenStore, VerifiedClient

MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 60.0
LAST_USED_INTERVAL_SECONDS = 60.0


class FailureThrottle:
    """Blocks a source after MAX_FAILURES failed authentications within the window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, source: str, now: float) -> deque[float]:
        entries = self._failures[source]
        while entries and entries[0] <= now - self.window:
            entries.popleft()
        return entries

    def retry_after(self, source: str) -> int | None:
        """Seconds to wait if the source is blocked, else None."""
        now = time.monotonic()
        with self._lock:
            entries = self._prune(source, now)
            if len(entries) >= self.max_failures:
                return max(1, int(entries[0] + self.window - now) + 1)
            if not entries:
                self._failures.pop(source, None)
        return None

    def record_failure(self, source: str) -> None:
        with self._lock:
            self._prune(source, time.monotonic()).append(time.monotonic())


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

    def _note_use(self, client: VerifiedClient, source: str) -> None:
        # Writing last-used on every request would cost a commit per read; once a minute per source is enough.
        key = (client.token_id, source)
        now = time.monotonic()
        if now - self._last_recorded.get(key, -LAST_USED_INTERVAL_SECONDS) >= LAST_USED_INTERVAL_SECONDS:
            self._last_recorded[key] = now
            self.tokens.record_use(client.token_id, source)
