"""What each scenario of the fault suite did and measured, as the markdown table docs/operations.md quotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = ("killed (SIGKILL)", "when: s into the ingest / releases indexed", "down (s)", "site 200 again (s)",
           "index caught up (s)", "503s (all with Retry-After)", "exits a supervisor restarted", "records lost",
           "duplicate playlist items")


@dataclass(frozen=True)
class FaultRow:
    killed: str  # "nothing" for the undisturbed run
    at_s: float | None  # seconds from the start of the ingest to the kill
    indexed_then: int | None  # releases the index workers had committed at the kill
    releases: int  # releases in the dump
    down_s: float | None  # kill -> restarted (`dataget stack up` returned, the command started again)
    site_back_s: float | None  # kill -> the first 200 of the requests that need the killed server
    caught_up_s: float  # kill (or, undisturbed, the start of the ingest) -> `dataget ingest --wait` returned
    unavailable: int
    exits: str  # e.g. "youtube-worker exit 1 ×2"; "" for none
    lost: int
    duplicates: int

    def cells(self) -> tuple[str, ...]:
        when = "–" if self.at_s is None else f"{self.at_s:.1f} s / {self.indexed_then:,} of {self.releases:,}"
        return (self.killed, when, _seconds(self.down_s), _seconds(self.site_back_s), _seconds(self.caught_up_s),
                str(self.unavailable), self.exits or "none", str(self.lost), str(self.duplicates))


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown_table(rows: Sequence[FaultRow]) -> str:
    lines = [f"| {' | '.join(COLUMNS)} |", f"|{'---|' * len(COLUMNS)}"]
    lines += [f"| {' | '.join(row.cells())} |" for row in rows]
    return "\n".join(lines) + "\n"
