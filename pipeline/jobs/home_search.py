"""Which home-page captures to read (decision 0014): a grid of about two captures a year, then, between two read
captures that link different URLs, the capture halfway, until the change sits between adjacent captures
(unreadable ones skipped). What was read is kept in the domain's state file (pipeline.jobs.discovery_state)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from policy_archive.crawler.hosts import LITERALS_ONLY, Proposals
from policy_archive.pipeline.jobs.discovery_state import save_sightings, saved_sightings
from policy_archive.pipeline.jobs.home_pages import Sighting
from policy_archive.records import CaptureRef

GRID_DAYS = 182  # about two captures a year are read first; changes between them are then searched


class SearchState:
    """The home page's captures and what was read of them; says which to read next (the change-point search)."""

    def __init__(
        self, refs: Sequence[CaptureRef], state_file: Path, document_type: str, proposals: Proposals = LITERALS_ONLY
    ) -> None:
        """``proposals``: the home page a person named, the only internal address a saved link may be to: a state file
        written before links to internal addresses were refused (acceptance report 5, finding 2) may hold one,
        and such a capture is read again."""
        self.refs = list(refs)
        self.state_file = state_file
        self.document_type = document_type
        self.known: dict[int, Sighting] = {}
        self.in_flight: set[int] = set()
        # Captures not fetched in this run (a network error, the run stopped): searched around now, but not kept
        # in the state file, so a rerun asks for them again.
        self.retry: set[int] = set()
        self.fetched = 0
        # Each row by its URL and second (``refs`` holds one per URL and second: discover keeps the first listed).
        self._rows = {(ref.url, ref.timestamp): i for i, ref in enumerate(self.refs)}
        self._seconds: dict[datetime, list[int]] = {}
        for i, ref in enumerate(self.refs):
            self._seconds.setdefault(ref.timestamp, []).append(i)
        for listed_url, sighting in saved_sightings(self.state_file):
            links = [url for url in (sighting.url, *sighting.rivals) if url is not None]
            index = self._row_read(listed_url, sighting.timestamp)
            if index is not None and not any(proposals.refusal(url) for url in links):
                self.known[index] = sighting
        self.grid = grid(self.refs)

    def _row_read(self, listed_url: str | None, second: datetime) -> int | None:
        """The row a saved reading was read from: the one listed at its URL and second. A listing holds every URL
        form the archive files the home page under (http/https, www or not), and two of them may share a second (a
        crawler following example.com → www.example.com): by its second alone, a reading went to the last of them,
        and the row it was read from was read again (before 2026-11-28). A reading from an older state file, which
        kept the second alone, is used where one row is listed at its second; where several are, whose it was is
        not known, and they are read again."""
        if listed_url is not None:
            return self._rows.get((listed_url, second))
        at_that_second = self._seconds.get(second, [])
        return at_that_second[0] if len(at_that_second) == 1 else None

    def save(self) -> None:
        """Write what was read to the state file, whole, each reading with its row's URL: the captures that failed
        for this run only (:attr:`retry`) left out, so the next run asks for them again."""
        lasting = [(self.refs[i].url, self.known[i]) for i in sorted(self.known) if i not in self.retry]
        save_sightings(self.state_file, self.document_type, lasting)

    def learn(self, index: int, sighting: Sighting, lasting: bool = True, *, asked: bool = True) -> None:
        """What capture ``index`` showed; ``lasting`` False: a failure of this run only (asked again next run);
        ``asked`` False: known without a replay request (a row the archive's access rules block)."""
        self.in_flight.discard(index)
        self.known[index] = sighting
        if not lasting:
            self.retry.add(index)
        self.fetched += asked
        self.save()

    def sightings(self) -> list[Sighting]:
        """What the captures read showed, in capture order."""
        return [self.known[i] for i in sorted(self.known)]

    @property
    def done(self) -> bool:
        """Whether the search is over: nothing in flight and nothing more wanted."""
        return not self.in_flight and not self.wanted()

    def wanted(self) -> list[int]:
        """Captures to read next: the grid, a stand-in for each unreadable grid capture, then bisection."""
        wanted = [i for i in self.grid if i not in self.known]
        bounds = [*self.grid, len(self.refs)]
        for start, end in zip(bounds, bounds[1:], strict=False):
            if not any(self._readable(i) for i in range(start, end)):
                wanted += self._middle_untried(start - 1, end)
        valued = [i for i in sorted(self.known) if self._readable(i)]
        for left, right in zip(valued, valued[1:], strict=False):
            if self.known[left].key != self.known[right].key:
                wanted += self._middle_untried(left, right)
        return [i for i in dict.fromkeys(wanted) if i not in self.in_flight]

    def _readable(self, index: int) -> bool:
        return index in self.known and self.known[index].unreadable is None

    def _middle_untried(self, left: int, right: int) -> list[int]:
        untried = [i for i in range(left + 1, right) if i not in self.known]
        return [untried[len(untried) // 2]] if untried else []


def grid(refs: Sequence[CaptureRef]) -> list[int]:
    """The first capture, the last, and one at least ``GRID_DAYS`` after the previous pick."""
    grid: list[int] = []
    for i, ref in enumerate(refs):
        if not grid or ref.timestamp - refs[grid[-1]].timestamp >= timedelta(days=GRID_DAYS):
            grid.append(i)
    if refs and grid[-1] != len(refs) - 1:
        grid.append(len(refs) - 1)
    return grid
