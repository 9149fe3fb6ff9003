"""Failed authentications, tallied per source and per minute instead of written per request.

A request without a valid token writes nothing of its own (issue 11 §4): an attacker's requests must not grow
the vault, and the trail still needs the evidence. Each source's failures in one clock minute become a single
``scim.auth.failed`` entry with the count, the refused-by-throttle count, and the first and last time, written
by the audit recorder once the minute is over (app/audit/recorder.py polls :meth:`FailureTally.due`). Failures
that presented a token of this vault that is revoked or expired are counted by its name under ``known_tokens``
(a name, never a secret): a leaked token tried after its revocation is told apart from guesses.

Memory and entries per minute are bounded: after ``max_sources`` distinct sources in a minute, further sources
are tallied together under ``"other"`` (with how many distinct ones were folded in only up to that bound).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.audit.trail import Event, iso_utc
from app.scim.sources import source_key

KIND = "scim.auth.failed"
MINUTE = 60
MAX_SOURCES_PER_MINUTE = 64  # at most 65 entries a minute however many addresses an attacker has
OTHER = "other"


@dataclass
class _Tally:
    count: int
    throttled: int
    first: datetime
    last: datetime
    tokens: dict[str, int] = field(default_factory=dict)  # revoked or expired token name -> failures


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // MINUTE


class FailureTally:
    def __init__(
        self, clock: Callable[[], datetime] | None = None, max_sources: int = MAX_SOURCES_PER_MINUTE
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.max_sources = max_sources
        self._minutes: dict[int, dict[str, _Tally]] = {}
        self._lock = threading.Lock()

    def note(self, source: str, *, throttled: bool = False, token: str | None = None) -> None:
        """One failed authentication from ``source`` (answered 401, or 429 when ``throttled``); ``token``: the name
        of the revoked or expired token it presented."""
        now = self._clock()
        key = source_key(source)
        with self._lock:
            tallies = self._minutes.setdefault(_minute(now), {})
            if key not in tallies and len(tallies) >= self.max_sources:
                key = OTHER
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(0, 0, now, now)
            tally.count += 1
            tally.throttled += int(throttled)
            tally.last = now
            if token is not None:
                tally.tokens[token] = tally.tokens.get(token, 0) + 1

    def due(self, *, everything: bool = False) -> list[Event]:
        """The entries of every minute that is over (of every minute, when ``everything``), taken out."""
        current = _minute(self._clock())
        with self._lock:
            ended = sorted(m for m in self._minutes if everything or m < current)
            taken = [(m, self._minutes.pop(m)) for m in ended]
        return [self._event(minute, source, tally) for minute, tallies in taken for source, tally in tallies.items()]

    @staticmethod
    def _event(minute: int, source: str, tally: _Tally) -> Event:
        start = datetime.fromtimestamp(minute * MINUTE, UTC)
        details = {
            "source": source,
            "count": tally.count,
            "throttled": tally.throttled,
            "first": iso_utc(tally.first),
            "last": iso_utc(tally.last),
            "minute": iso_utc(start),
            "window_seconds": MINUTE,
        }
        if tally.tokens:  # only when there are: a tally of guesses reads as before
            details["known_tokens"] = dict(sorted(tally.tokens.items()))
        # Written when the minute is over (its own time: the trail and the alert rules stay in order).
        return Event(KIND, "anonymous", "failure", details=details)
