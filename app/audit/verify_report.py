"""What a verification of the trail found: its breaches, its notes, and what the verdict covered.

Shared by the vault's trail (``app.audit.verify``) and evidence bundles (``app.audit.bundle``), so that both
say "intact" and "BROKEN" in the same words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.audit.checkpoints import Checkpoint
from app.core.errors import CustosError


class VerificationCancelled(CustosError):
    """The user stopped a verification before its verdict; nothing was written, so there is nothing to undo."""

    def __init__(self) -> None:
        super().__init__("Verification cancelled. The trail was only read and is unchanged; no verdict was reached.")


@dataclass(frozen=True)
class Pruning:
    """Entries 1–``up_to`` were removed by a recorded prune (seq ``record``): verified from the signed checkpoint
    at ``up_to`` on, never from the trail's start."""

    up_to: int
    on: str  # when the prune was recorded (the record's time)
    period: str
    anchor: str  # the anchor checkpoint's fingerprint
    record: int

    def describe(self, short: bool = False) -> str:
        span = "entry 1" if self.up_to == 1 else f"entries 1–{self.up_to}"
        pruned = f"{span} pruned under the retention period {self.period} on {self.on[:10]}"
        if short:
            return f"{pruned}, verified from the signed checkpoint at {self.up_to}"
        return (
            f"{pruned} (recorded at seq {self.record}); verified from the signed checkpoint at {self.up_to} "
            f"({self.anchor}), not from the trail's start"
        )


@dataclass(frozen=True)
class Breach:
    kind: str  # altered | inserted | removed | reordered | rewritten | checkpoint | bundle
    what: str
    seq: int | None = None

    def render(self) -> str:
        return f"at seq {self.seq}: {self.what}" if self.seq is not None else self.what


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    root: str | None = None  # the Merkle root over every entry checked
    breaches: list[Breach] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not failures: clock regressions, unsigned tail…
    failing_entries: int = 0
    last_checkpoint: Checkpoint | None = None
    proved: list[str] = field(default_factory=list)  # an evidence bundle's verdict: what exactly it proved
    first_at: str | None = None  # the time of the first entry scanned, and of the last: the range the verdict covers
    last_at: str | None = None
    # What an intact verdict rests on without having checked it (the bundle's key, when no trusted id was given):
    # printed as "Not proved:", so that "intact" is never read as proof of what was only assumed.
    assumed: list[str] = field(default_factory=list)
    # A trail pruned after its retention period (app/audit/prune.py): its first entry, and the prune that removed
    # those before it, whose signed anchor the verdict starts from. 1 and None for a trail kept from its start.
    first_seq: int = 1
    pruned: Pruning | None = None
    # The seq of the last entry read. On a trail with entries missing from within it, more than ``last_seq`` (which
    # counts), and "entries 1–78 read" then named a range the trail does not hold as read (entry 22 gone, 79 there).
    highest_seq: int | None = None

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.entries - 1

    @property
    def ok(self) -> bool:
        return not self.breaches

    @property
    def first_breach(self) -> Breach | None:
        return self.breaches[0] if self.breaches else None

    def covered(self, when: Callable[[str | None], str] = str) -> str | None:
        """What a verdict on the vault's trail covered: the entries by seq and time, and how far they are signed.
        The entries after the last checkpoint are only chain-checked: cutting them off the end leaves no trace.
        ``when`` writes the two stored times: the CLI keeps the stored ISO form, the app its own zone-named one."""
        if not self.entries:
            return None
        span = f"entries {self.first_seq}–{self.last_seq} ({when(self.first_at)} to {when(self.last_at)})"
        if self.pruned is not None:
            span = f"{span}, {self.pruned.describe()}"
        if not self.ok:  # what was read; how far a signature covers it is for an intact trail to say
            if self.highest_seq is not None and self.highest_seq != self.last_seq:
                span = (
                    f"{self.entries} entries, seq {self.first_seq} to {self.highest_seq} with some missing "
                    f"({when(self.first_at)} to {when(self.last_at)})"
                ) + (f", {self.pruned.describe()}" if self.pruned is not None else "")
            return f"{span} read; the problems above say what no longer holds"
        last = self.last_checkpoint
        if last is None:
            return f"{span}; none is under a signed checkpoint yet: entries cut off the end would leave no trace"
        if last.tree_size >= self.last_seq:
            return f"{span}, every one under checkpoint {last.fingerprint}"
        unsigned = (
            f"entry {self.last_seq} only chain-checked: cut off the end, it would leave no trace"
            if self.last_seq == last.tree_size + 1
            else f"entries {last.tree_size + 1}–{self.last_seq} only chain-checked: cut off the end, they would leave "
            "no trace"
        )
        return f"{span}; signed up to entry {last.tree_size} (checkpoint {last.fingerprint}), {unsigned}"

    def summary(self, noun: str = "Audit trail") -> str:
        if self.ok:
            root = f"{self.root[:16]}…" if self.root else "none (empty)"
            held = f"{self.entries} entries" + (f" ({self.pruned.describe(short=True)})" if self.pruned else "")
            # "1 checkpoints" stays: the line is a printed contract (app/commands/audit.py, "M checkpoints"), and
            # scripts and tests read it as r"(\d+) checkpoints"; a singular would break them for one count.
            return f"{noun} intact: {held}, {self.checkpoints} checkpoints, root {root}"
        first = self.breaches[0]
        if first.seq is not None:
            return f"{noun} BROKEN at seq {first.seq}: {first.what}"
        return f"{noun} BROKEN: {first.what}"
