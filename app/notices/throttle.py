"""The rate limit: at most one notice per kind per interval, then one that says how many were folded in.

A burst (a flood of failed authentications, fifty request deadlines reached at the first check after a holiday)
must not become fifty balloons. The first notice of a kind is shown at once and opens an interval; the others of
that kind are held, counted, and the latest kept; when the interval ends, one notice stands for them all
("12 operator alerts since 10:42; the latest: …") and opens the next interval. Time comes from the caller,
so tests give a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.notices.notice import Notice

DEFAULT_INTERVAL = timedelta(minutes=5)


@dataclass
class _Slot:
    opened: datetime
    folded: int = 0
    latest: Notice | None = None


class NoticeThrottle:
    def __init__(self, interval: timedelta = DEFAULT_INTERVAL) -> None:
        if interval <= timedelta(0):
            raise ValueError("the notice interval must be positive")
        self.interval = interval
        self._slots: dict[str, _Slot] = {}

    def offer(self, notice: Notice, now: datetime) -> Notice | None:
        """The notice to show now, or None when it was folded into the interval of its kind."""
        ready = self.due(now, kinds=(notice.kind,))  # an ended interval's fold is said first, with this one
        slot = self._slots.get(notice.kind)
        if slot is None or now >= slot.opened + self.interval:
            self._slots[notice.kind] = _Slot(now)
            if ready:
                return notice.folding(ready[0].folded + 1, _since(ready[0].opened))
            return notice
        slot.folded += 1
        slot.latest = notice
        return None

    def due(self, now: datetime, kinds: tuple[str, ...] | None = None) -> list[_Slot]:
        """Take the intervals that ended with notices held (of ``kinds``, default all); each is then closed."""
        ended = []
        for kind, slot in list(self._slots.items()):
            if kinds is not None and kind not in kinds:
                continue
            if now >= slot.opened + self.interval:
                del self._slots[kind]
                if slot.folded:
                    ended.append(slot)
        return ended

    def flush(self, now: datetime) -> list[Notice]:
        """The folded notices whose interval has ended, one per kind; each opens the kind's next interval."""
        shown = []
        for slot in self.due(now):
            assert slot.latest is not None
            notice = slot.latest.folding(slot.folded, _since(slot.opened))
            self._slots[notice.kind] = _Slot(now)  # a storm that goes on: one notice per interval, not more
            shown.append(notice)
        return shown

    def held(self, kind: str) -> int:
        slot = self._slots.get(kind)
        return slot.folded if slot else 0

    def clear(self) -> None:
        """Forget what is held (notices switched off: nothing is said later about what was not shown)."""
        self._slots.clear()


def _since(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")
