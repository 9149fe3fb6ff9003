"""What an audit timeline file holds and what it leaves out, said in the file (XLSX) and by whoever wrote it.

A timeline handed to a lawyer or an authority is read as the story of an incident. A filtered one (a subject, an
actor, a time window) looked exactly like the whole trail: nothing in the file said that entries were chosen, by
what, how many of the trail's were left out, that sealed personal details are not in it, that entries before the
trail's first were pruned, or that writing it checked nothing. The XLSX therefore carries an "About this export"
sheet after the entries, and the CLI prints the same facts under its "Wrote …" line (a CSV has one table only).

The trail is read once, on the read connection the entries come from (one snapshot): its first and last seq and
how many entries it holds then. The trail's integrity is not checked here (that is ``audit verify`` over the whole
trail, or an evidence bundle): the file says so rather than let its rows pass for verified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from app.audit.tables import AuditEvent

_A = AuditEvent.__table__
SHEET = "About this export"
NOT_VERIFIED = (
    "Writing this file did not verify the trail: the rows are what the trail held. For a verdict on them, run "
    "`custos audit verify` on the vault (or `--read-only` on a copy), or export an evidence bundle and verify it "
    "with `custos audit verify-bundle`; in the app, Verify integrity on the Audit trail page."
)  # the app's way too: a DPO without a terminal was sent to commands only (as the backup answer once was)


@dataclass(frozen=True)
class TrailAtExport:
    """The trail as the export read it: how many entries, and the first and last seq (None: empty)."""

    entries: int
    first_seq: int | None
    last_seq: int | None

    @classmethod
    def read(cls, conn: Connection) -> TrailAtExport:
        entries, first, last = conn.execute(select(func.count(), func.min(_A.c.seq), func.max(_A.c.seq))).one()
        return cls(int(entries), first, last)


@dataclass(frozen=True)
class Scope:
    """How the entries were chosen and what the trail held: enough to say what a timeline leaves out."""

    trail: TrailAtExport
    chosen_by: str  # "filter" or "selection"
    described_filter: dict[str, str]  # the filter's narrowing fields, as recorded on the trail ({}: none)
    written: int = 0  # entries in the file
    sealed: int = 0  # of them, entries whose sealed part was not exported
    cut_cells: int = 0  # XLSX cells shortened to Excel's limit (each says so in itself)

    def left_out(self) -> int:
        return max(self.trail.entries - self.written, 0)

    def lines(self) -> list[tuple[str, str]]:
        """(item, statement) pairs, in the order a reader needs them."""
        trail = self.trail
        held = (
            f"{trail.entries:,} entries, seq {trail.first_seq:,} to {trail.last_seq:,}"
            if trail.first_seq is not None and trail.last_seq is not None
            else "no entries"
        )
        rows = [("The trail when exported", held), ("Chosen by", self._chosen()), ("Left out", self._left_out())]
        if trail.first_seq is not None and trail.first_seq > 1:
            rows.append(
                (
                    "Before the trail's first entry",
                    f"entries 1 to {trail.first_seq - 1:,} were no longer on the trail (pruned under the retention "
                    "period, or removed: `custos audit verify` says which); they cannot be in this file",
                )
            )
        rows.append(("Sealed personal details", self._sealed()))
        if self.cut_cells:
            rows.append(
                (
                    "Cells shortened",
                    f"{self.cut_cells:,} cell(s) longer than Excel holds are shortened, each saying so; the whole text "
                    "is in this timeline exported as CSV",
                )
            )
        rows.append(("Times", "time_utc is when each event happened, in UTC (the Z); rows are in time order"))
        rows.append(("Integrity", NOT_VERIFIED))
        return rows

    def _chosen(self) -> str:
        if self.chosen_by == "selection":
            return "entries selected by hand on the Audit trail page"
        if not self.described_filter:
            return "no filter: every entry of the trail"
        return "the filter " + json.dumps(self.described_filter, sort_keys=True, ensure_ascii=False)

    def left_out_text(self) -> str:
        """What was left out, e.g. "72 of the trail's 79 entries (not matched by the filter)"."""
        return self._left_out()

    def _left_out(self) -> str:
        missing = self.left_out()
        if not missing:
            return "none of the trail's entries"
        why = "not selected" if self.chosen_by == "selection" else "not matched by the filter"
        return f"{missing:,} of the trail's {self.trail.entries:,} entries ({why})"

    def _sealed(self) -> str:
        if not self.sealed:
            return "none of these entries has a sealed part"
        return (
            f"{self.sealed:,} of these entries have a sealed part (personal data under the person's own key): "
            "not exported, not even as ciphertext; the sealed_part column marks them"
        )

    def summary(self) -> str:
        """One line for the CLI under "Wrote …": what was left out, and that nothing was verified."""
        parts = [f"Left out: {self._left_out()}"]
        if self.trail.first_seq is not None and self.trail.first_seq > 1:
            parts.append(f"entries 1–{self.trail.first_seq - 1} were no longer on the trail")
        if self.sealed:
            parts.append(f"the sealed parts of {self.sealed} entries")
        return "; ".join(parts) + ". The trail was not verified by this export (`custos audit verify`)."
