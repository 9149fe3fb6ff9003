"""Anomaly rules: pure functions of the events they are shown, in trail order, by each event's own time.

Replaying a recorded sequence therefore gives the same findings as living through it, and tests need no real
clock. A counting rule fires when more than N events fall in a sliding window of M minutes, then stays quiet
for one window (a sustained flood fires again once per window). Findings carry counts, rule names and token
names; never a person's data.

Trail order is the order of writing; an entry's time is when it happened, so a request entry (written later, in a
batch: decision 0034) can be timed before entries shown earlier. A window keeps its entries in time order and ends
at the newest time seen, so each entry is counted by its own time whatever its place in the trail.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from app.audit.trail import StoredEvent
from app.siem.config import AlertConfig, Threshold, WorkingHours

SILENT_KINDS = ("alert.", "incident.")  # the rules' own output and what it opens: never input


@dataclass(frozen=True)
class Finding:
    rule: str
    observed: int
    threshold: int
    window_minutes: int
    window_start: datetime
    window_end: datetime
    trigger_seq: int  # the entry that crossed the threshold
    summary: str  # for people: counts and names of rules or tokens, no personal data


def event_time(event: StoredEvent) -> datetime:
    return datetime.fromisoformat(event.at.replace("Z", "+00:00"))


class Rule(Protocol):
    name: str

    def observe(self, event: StoredEvent, moment: datetime) -> Finding | None: ...

    def cooldowns(self) -> object:
        """The rule's quiet periods as they stand (a copy), for ``restore_cooldowns``."""

    def restore_cooldowns(self, saved: object) -> None:
        """Put back quiet periods saved before a finding that was never raised (history replayed on start, whose
        alert is not on the trail): a finding that was never raised must not silence the next one."""


class SlidingWindow:
    """Matching entries within the last ``minutes`` (each with how many occurrences it stands for); crossing
    ``count`` reports once per window.

    Each entry is counted at its own time, and also keeps when the occurrences it stands for happened: a tally of
    failed authentications is written at the end of its minute (or when the server stops), after the failures it
    counts, so a finding said its window began and ended at the tally's writing (20:06:00 to 20:06:00 for failures
    from 20:05:13 to 20:05:21), a time at which nothing was tried.
    """

    def __init__(self, threshold: Threshold) -> None:
        self.threshold = threshold
        self.span = timedelta(minutes=threshold.minutes)
        # (counted at, weight, first occurrence, last occurrence), in the order of the first
        self.entries: deque[tuple[datetime, int, datetime, datetime]] = deque()
        self.total = 0
        self.quiet_until: datetime | None = None

    @property
    def start(self) -> datetime:
        return self.entries[0][0]

    @property
    def end(self) -> datetime:
        return self.entries[-1][0]

    @property
    def began(self) -> datetime:
        """When the first occurrence in the window happened."""
        return min(entry[2] for entry in self.entries)

    @property
    def ended(self) -> datetime:
        """When the last occurrence in the window happened."""
        return max(entry[3] for entry in self.entries)

    def add(self, moment: datetime, weight: int = 1, span: tuple[datetime, datetime] | None = None) -> int | None:
        """The count in the window (ending at the newest time seen) when it is over the threshold and not cooling
        down, else None.

        ``weight``: how many occurrences the entry stands for (a per-minute tally of failed authentications);
        ``span``: when the first and last of them happened (default: ``moment``).
        """
        first, last = span or (moment, moment)
        insort(self.entries, (moment, weight, first, last), key=_moment)
        self.total += weight
        end = self.end
        horizon = end - self.span
        while self.entries and self.entries[0][0] < horizon:
            self.total -= self.entries.popleft()[1]
        if self.total <= self.threshold.count:
            return None
        if self.quiet_until is not None and end < self.quiet_until:
            return None
        self.quiet_until = end + self.span
        return self.total


def _moment(entry: tuple[datetime, int, datetime, datetime]) -> datetime:
    return entry[0]


class CountRule:
    def __init__(self, name: str, kinds: tuple[str, ...], threshold: Threshold, noun: str) -> None:
        self.name = name
        self.kinds = kinds
        self.window = SlidingWindow(threshold)
        self.noun = noun

    def observe(self, event: StoredEvent, moment: datetime) -> Finding | None:
        if event.kind not in self.kinds or not counted(event):
            return None
        count = self.window.add(moment, weight_of(event), span_of(event))
        if count is None:
            return None
        t = self.window.threshold
        return Finding(self.name, count, t.count, t.minutes, self.window.began, self.window.ended, event.seq,
                       f"{count} {self.noun} within {t.minutes} min (threshold {t.count})")  # fmt: skip

    def cooldowns(self) -> object:
        return self.window.quiet_until

    def restore_cooldowns(self, saved: object) -> None:
        self.window.quiet_until = saved if isinstance(saved, datetime) else None


# The files of one subject-access export: it writes the JSON copy and its PDF rendering, each on the trail with its
# own entry (export.subject, format json or pdf). The export is counted once, by its JSON file.
_SECOND_FILES_OF_AN_EXPORT = {"export.subject": ("pdf",)}


def counted(event: StoredEvent) -> bool:
    """Whether an entry is an occurrence of its own, not the second file of one export: counted per file, the
    bulk_exports rule said "6 subject-access exports" of 3 and fired at the third export, not the sixth."""
    return event.details.get("format") not in _SECOND_FILES_OF_AN_EXPORT.get(event.kind, ())


def span_of(event: StoredEvent) -> tuple[datetime, datetime] | None:
    """When the first and the last occurrence a tally stands for happened (its ``first`` and ``last``); None for
    an entry that stands for itself, or a tally without readable times."""
    if event.kind != "scim.auth.failed":
        return None
    first, last = event.details.get("first"), event.details.get("last")
    if not isinstance(first, str) or not isinstance(last, str):
        return None
    try:
        span = datetime.fromisoformat(first.replace("Z", "+00:00")), datetime.fromisoformat(last.replace("Z", "+00:00"))
    except ValueError:
        return None
    return span if all(moment.tzinfo is not None for moment in span) else None  # compared with aware times


def weight_of(event: StoredEvent) -> int:
    """How many occurrences an entry stands for: its ``count`` when it is a tally (failed authentications)."""
    count = event.details.get("count") if event.kind == "scim.auth.failed" else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1


class EachEntry:
    """Every entry of the kinds is worth an alert (counts from its details), then quiet for ``cooldown``.

    For entries that are already summaries: a failure throttle that engaged, audit events the recorder could
    not write. One cooldown per ``scope`` detail, so a global throttle is not hidden by a per-source one.
    """

    def __init__(self, name: str, kinds: tuple[str, ...], summary: str, cooldown: timedelta) -> None:
        self.name = name
        self.kinds = kinds
        self.summary = summary  # formatted with the entry's details
        self.cooldown = cooldown
        self.quiet_until: dict[str, datetime] = {}

    def observe(self, event: StoredEvent, moment: datetime) -> Finding | None:
        if event.kind not in self.kinds:
            return None
        scope = str(event.details.get("scope", event.kind))
        quiet = self.quiet_until.get(scope)
        if quiet is not None and moment < quiet:
            return None
        self.quiet_until[scope] = moment + self.cooldown
        observed = _int(event.details.get("failures", event.details.get("count")))
        threshold = _int(event.details.get("limit"))
        seconds = _int(event.details.get("window_seconds"))
        minutes = max(1, seconds // 60) if "window_seconds" in event.details else 0
        summary = self.summary.format(observed=observed, threshold=threshold, minutes=minutes, scope=scope)
        # A throttle engages when its window, the seconds before, holds the limit: the failures it counted are in
        # that window, not at the moment it engaged (start = end said they all happened at once, then, and a SIEM
        # correlating by the alert's window found none of them).
        return Finding(self.name, observed, threshold, minutes, moment - timedelta(seconds=seconds), moment,
                       event.seq, summary)  # fmt: skip

    def cooldowns(self) -> object:
        return dict(self.quiet_until)

    def restore_cooldowns(self, saved: object) -> None:
        self.quiet_until = dict(saved) if isinstance(saved, dict) else {}


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def token_and_source(event: StoredEvent) -> tuple[str, str] | None:
    """(token name, source address) of an authenticated SCIM request, if both are known."""
    if event.kind != "scim.request":
        return None
    token = event.details.get("token")
    if not isinstance(token, str) or not token:
        token = event.actor.removeprefix("token:") if event.actor.startswith("token:") else ""
    source = event.details.get("source")
    if not token or not isinstance(source, str) or not source or source == "unknown":
        return None
    return token, source


class NewTokenSource:
    """A known token used from an address it has never used. A token's first address is learnt silently."""

    name = "new_token_source"

    def __init__(self) -> None:
        self.known: dict[str, set[str]] = {}

    def learn(self, token: str, source: str) -> None:
        self.known.setdefault(token, set()).add(source)

    def observe(self, event: StoredEvent, moment: datetime) -> Finding | None:
        pair = token_and_source(event)
        if pair is None:
            return None
        token, source = pair
        seen = self.known.get(token)
        if seen is not None and source in seen:
            return None
        self.learn(token, source)
        if seen is None:
            return None
        # The address itself stays on the request's own entry (trigger_seq), not in the alert.
        return Finding(self.name, len(seen), len(seen) - 1, 0, moment, moment, event.seq,
                       f"token {token[:60]} used from an address it had not used before")  # fmt: skip

    def cooldowns(self) -> object:
        """No quiet period: each new address is news once."""
        return None

    def restore_cooldowns(self, saved: object) -> None:
        """Nothing to put back."""


@dataclass(slots=True)
class _Second:
    second: datetime  # the entries' time, to the second
    first: datetime  # the earliest entry in it: when the whole second leaves the window
    read: int  # resources read in it


class ReadTally:
    """One client's resources read within a sliding window, kept per second and summed as it goes.

    Every authenticated request is a trail entry, so a client reading steadily feeds this rule a thousand or more
    entries a second: a list of every entry, summed again at each one, grew to the whole window (600,000 entries
    at 1,000 reads/s over ten minutes) and its CPU with it — a server under sustained reads slowed to a third
    within a minute. Here an entry joins the tally of its second, and the total is kept as tallies come and go.

    Entries may come a little out of time order (a request entry is written in a later batch, decision 0034): a
    late one joins its own second, and the window ends at the newest time seen. A second leaves the window as a
    whole when its earliest entry is older than the window: the count may then leave out up to a second's reads
    that were still inside it, never count one that was not. "N resources read within M minutes" stays true.
    """

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.seconds: deque[_Second] = deque()  # in time order
        self.total = 0
        self.end: datetime | None = None  # the newest time seen

    @property
    def start(self) -> datetime:
        return self.seconds[0].first

    def add(self, moment: datetime, count: int) -> int:
        second = moment.replace(microsecond=0)
        seconds = self.seconds
        if not seconds or seconds[-1].second < second:
            seconds.append(_Second(second, moment, count))
        else:
            index = bisect_left(seconds, second, key=_second_of)
            if index < len(seconds) and seconds[index].second == second:
                seconds[index].read += count
                seconds[index].first = min(seconds[index].first, moment)
            else:
                seconds.insert(index, _Second(second, moment, count))
        self.total += count
        self.end = moment if self.end is None else max(self.end, moment)
        horizon = self.end - self.window
        while seconds and seconds[0].first < horizon:
            self.total -= seconds.popleft().read
        return self.total

    def clear(self) -> None:
        self.seconds.clear()
        self.total = 0
        self.end = None


def _second_of(tally: _Second) -> datetime:
    return tally.second


class BulkReads:
    """More resources handed to one client by lists and searches within the window than the threshold.

    Pages are capped (1,000 resources), so a bulk read is many pages: the count that matters is their sum per
    client. Each request records how many resources its answer held (``results``).
    """

    name = "bulk_reads"

    def __init__(self, results: int, minutes: int = 10, cooldown: timedelta = timedelta(minutes=10)) -> None:
        self.results = results
        self.window = timedelta(minutes=minutes)
        self.minutes = minutes
        self.cooldown = cooldown
        self.reads: dict[str, ReadTally] = {}
        self.quiet_until: dict[str, datetime] = {}

    def observe(self, event: StoredEvent, moment: datetime) -> Finding | None:
        if event.kind != "scim.request":
            return None
        count = event.details.get("results", event.details.get("total_results"))
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            return None
        reads = self.reads.get(event.actor)
        if reads is None:
            reads = self.reads[event.actor] = ReadTally(self.window)
        total = reads.add(moment, count)
        end = reads.end  # the window ends at the newest read seen, whatever order the entries came in
        assert end is not None
        if total <= self.results:
            return None
        quiet = self.quiet_until.get(event.actor)
        if quiet is not None and end < quiet:
            return None
        self.quiet_until[event.actor] = end + self.cooldown
        start = reads.start
        reads.clear()
        return Finding(self.name, total, self.results, self.minutes, start, end, event.seq,
                       f"{total} resources read by {_client(event.actor)} within {self.minutes} min "
                       f"(threshold {self.results})")  # fmt: skip

    def cooldowns(self) -> object:
        return dict(self.quiet_until)

    def restore_cooldowns(self, saved: object) -> None:
        self.quiet_until = dict(saved) if isinstance(saved, dict) else {}


def _client(actor: str) -> str:
    """A SCIM client by its token's name, as new_token_source names it (a token names no person): "one client" left
    the analyst to find which among the trail's requests; another actor stays unnamed."""
    return f"token {actor.removeprefix('token:')[:60]}" if actor.startswith("token:") else "one client"


class AfterHours:
    """Changes and operator actions outside the configured days and hours (system jobs are exempt).

    Quiet for the cooldown per actor and kind: an identity provider syncing at night (Entra ID provisions around the
    clock) must not hide an operator creating a token or exporting a person's data in the same hour, nor one
    operator another, nor an operator's unlock the token they create next. Each alert names its kind.
    """

    name = "after_hours"

    def __init__(self, hours: WorkingHours) -> None:
        self.hours = hours
        self.zone = hours.zone()
        self.cooldown = timedelta(minutes=hours.cooldown_minutes)
        self.quiet_until: dict[tuple[str, str], datetime] = {}  # per (actor, kind)

    def outside(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)  # None: this computer's local time
        return not self.hours.within(local.weekday(), local.time().replace(tzinfo=None))

    def observe(self, event: StoredEvent, moment: datetime) -> Finding | None:
        if event.actor.startswith("system:") or not event.kind.startswith(self.hours.kinds):
            return None
        key = (event.actor, event.kind)
        quiet = self.quiet_until.get(key)
        if not self.outside(moment) or (quiet is not None and moment < quiet):
            return None
        self.quiet_until[key] = moment + self.cooldown
        return Finding(self.name, 1, 0, self.hours.cooldown_minutes, moment, moment, event.seq,
                       f"{event.kind} outside working hours")  # fmt: skip

    def cooldowns(self) -> object:
        return dict(self.quiet_until)

    def restore_cooldowns(self, saved: object) -> None:
        self.quiet_until = dict(saved) if isinstance(saved, dict) else {}


# Rules that point at a configuration to correct, not at personal data at risk: a spike of schema refusals means
# an IdP maps attributes the policy does not hold (nothing was stored). They still raise an alert on the trail
# and in the app, but open no breach candidate: that register is for possible breaches (Art. 33).
CONFIGURATION_RULES = frozenset({"schema_rejections"})


def build_rules(config: AlertConfig) -> list[Rule]:
    rules: list[Rule] = [
        CountRule("mass_deprovisioning", ("scim.resource.deleted",), config.mass_deprovisioning, "SCIM deletes"),
        CountRule("auth_failures", ("scim.auth.failed",), config.auth_failures, "authentication failures"),
        CountRule(
            "schema_rejections", ("scim.attributes.rejected",), config.schema_rejections, "schema-violation rejections"
        ),
        CountRule("bulk_exports", ("export.subject",), config.bulk_exports, "subject-access exports"),
        CountRule(
            "erased_subject_returned",
            ("erasure.recreation.refused",),
            config.erased_subject_returned,
            "re-creations of erased people refused",
        ),
        BulkReads(config.bulk_read_results, config.bulk_read_minutes),
        EachEntry("auth_throttled", ("scim.auth.throttled",), "failed authentications throttled ({scope}): "
                  "{observed} failures within {minutes} min (limit {threshold})", timedelta(minutes=10)),
        EachEntry("audit_recorder", ("audit.recorder.refused", "audit.recorder.lost"),
                  "{observed} audit events could not be recorded ({scope})", timedelta(minutes=10)),
    ]
    if config.new_token_source:
        rules.append(NewTokenSource())
    if config.working_hours is not None:
        rules.append(AfterHours(config.working_hours))
    return rules


def evaluate(rules: list[Rule], event: StoredEvent) -> list[Finding]:
    """Show one event to every rule; the findings it causes, in rule order."""
    if event.kind.startswith(SILENT_KINDS):
        return []
    moment = event_time(event)
    return [finding for rule in rules if (finding := rule.observe(event, moment)) is not None]
