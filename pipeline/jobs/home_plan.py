"""One domain's search of its archived home pages as a fetch plan (``discover``, decision 0014): which captures to
read next (pipeline.jobs.home_search), each answer read for its policy link (pipeline.jobs.home_pages), a frameset's
frames read in turn, and the search stopped when the archive keeps refusing. ``pipeline.jobs.discover`` drives one
such plan per domain, in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from policy_archive.crawler.hosts import Proposals
from policy_archive.crawler.middlewares import PAUSE_STATUSES
from policy_archive.crawler.settings import ARCHIVE_CONCURRENCY
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.pipeline.jobs.awaited_frames import AwaitedFrames
from policy_archive.pipeline.jobs.examine import archived_in_the_future
from policy_archive.pipeline.jobs.home_pages import FrameReading, Sighting, page_url, read_frame, read_home_page
from policy_archive.pipeline.jobs.home_search import SearchState
from policy_archive.pipeline.jobs.listing_rows import access_refusal
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import Capture, CaptureRef, FetchFailure, FetchRequest


class DiscoveryPlan:
    """One domain's fetch plan: reads home-page captures until the search is done."""

    def __init__(
        self,
        state: SearchState,
        source: ArchiveSource,
        document: str,
        progress: Progress,
        proposals: Proposals,
        clock: datetime,
    ) -> None:
        self.state = state
        self.clock = clock  # when the run began: a memento dated after it is refused (future_dates)
        self.source = source
        self.document = document
        self.progress = progress
        self.proposals = proposals  # the only internal address a link may be to: the domain a person named
        self.index = {(ref.url, ref.timestamp): i for i, ref in enumerate(state.refs)}
        # Why the search stopped before it was done: the archive kept refusing (429/503) after every pause.
        self.refused: str | None = None
        # Frameset home pages (by index) whose frames are being read, a frame known by its URL and the home
        # page's time (several home pages listed at one second may wait for one frame).
        self.frames: AwaitedFrames[int, tuple[str, datetime]] = AwaitedFrames(self._frame_at_home_time)

    def start(self) -> Iterable[FetchRequest]:
        """The first home-page captures to read (the grid's first, about two a year), at most as many as the crawl
        sends at once; none when the saved readings already settle the search."""
        return self._next()

    def preparation(self, result: Capture | FetchFailure) -> Callable[[], None] | None:
        """The names the reading of ``result`` (a home page, or a frame of one) looks up, looked up on a thread
        before :meth:`handle` reads it on the crawl's (crawler/spiders/base.py)."""
        if not isinstance(result, Capture):
            return None
        document_type = self.state.document_type
        if result.listing_key in self.frames:
            listed_at = self.frames.reading_waiting_for(result.listing_key).listed_at  # the frame's time
            return self.proposals.looking_up(lambda p: read_frame(result, document_type, listed_at, p))
        if (index := self.index.get(result.listing_key)) is None:
            return None
        listed_at = self.state.refs[index].timestamp
        return self.proposals.looking_up(lambda p: read_home_page(result, result.url, document_type, listed_at, p))

    @property
    def finished(self) -> bool:
        """Nothing in flight, and nothing more to read (or nothing more to ask of an archive that refuses)."""
        return not self.state.in_flight and (self.refused is not None or self.state.done)

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        """Read one answer (a home page, or a frame of one) and return what to read next. What the archive answered
        (a capture, or an archived answer refused as none) is kept in the state file; a network error or a stop is
        read again by the next run. The archive's own 429/503 after every pause stops the search: :attr:`refused`
        says why and nothing more is asked."""
        if isinstance(result, FetchFailure) and _archive_refused(result) and self.refused is None:
            # The archive's own 429/503 after the shared limiter's pauses (crawler.middlewares): the rest of the
            # search would only ask it again. The domain is not read this run; what was read is kept.
            ref = result.request.ref
            when = f" (capture {ref.wayback_timestamp})" if ref else ""
            self.refused = f"the archive kept answering {result.status} after every pause{when}"
        if isinstance(result, Capture):
            key = result.listing_key
        else:
            assert result.request.ref is not None
            key = (result.request.ref.url, result.request.ref.timestamp)
        if key in self.frames:
            return self._frame_read(key, result)
        index = self.index[key]
        if isinstance(result, Capture):
            # After archived redirects ``url`` is the page reached; the listed row is what was asked for.
            listed_at = self.state.refs[index].timestamp
            if future := archived_in_the_future(result, self.clock):
                # The archive served bytes (or an archived redirect) it dates after this run began, as backfill
                # refuses them (examine.archived_in_the_future): no evidence of the page at any time. Not kept:
                # the next run asks again (the archive's date may be put right, or its day have come).
                return self._learn(index, Sighting(listed_at, unreadable=future), lasting=False)
            sighting = read_home_page(result, result.url, self.state.document_type, listed_at, self.proposals)
            if sighting.frames:
                frameset = FrameReading(page_url(result), sighting.timestamp, self.proposals, sighting.refresh)
                if asked := frameset.follow(sighting.frames):
                    return self._frame_requests(index, self.frames.begin(index, frameset, asked)) + self._next()
                sighting = frameset.sighting()
        else:
            sighting = Sighting(key[1], unreadable=f"not fetched: {result.reason}")
        # An archived answer that is not a capture (refused) lasts; a network error or a stop is asked again.
        return self._learn(index, sighting, lasting=isinstance(result, Capture) or result.refused)

    def _learn(self, index: int, sighting: Sighting, lasting: bool) -> list[FetchRequest]:
        self.state.learn(index, sighting, lasting)
        self.progress.add("unreadable" if sighting.unreadable else "read")
        return self._next()

    def _frame_at_home_time(self, index: int, url: str) -> tuple[str, datetime]:
        """What a frame of home page ``index`` answers as: its URL at the home page's listed time."""
        return url, self.state.refs[index].timestamp

    def _frame_requests(self, index: int, urls: Sequence[str]) -> list[FetchRequest]:
        """Frames of a frameset home page, asked for at its time (the home page stays in flight)."""
        at = self.state.refs[index].timestamp
        return [
            FetchRequest(self.document, self.source.capture_url(at, url), url, CaptureRef(url, at, None, None, None))
            for url in urls
        ]

    def _frame_read(self, key: tuple[str, datetime], result: Capture | FetchFailure) -> list[FetchRequest]:
        """One frame's answer, for each home page waiting for it; once every frame of a home page answered, what
        that home page says."""
        self.state.fetched += 1  # a replay request of its own; the home page's is counted when it is learnt
        requests: list[FetchRequest] = []
        for index, said in self.frames.answer(key, result, self.state.document_type):
            if isinstance(said, FrameReading):
                requests += self._learn(index, said.sighting(), said.lasting)
            else:
                requests += self._frame_requests(index, said)
        return requests

    def _next(self) -> list[FetchRequest]:
        if self.refused is not None:
            return []
        while True:
            # No more in flight than the crawl sends at once: what is handed over is queued in the spider, beyond
            # the plan's reach, so after the archive's refusal only these few are still asked (each after the
            # pauses).
            chosen = self.state.wanted()[: max(0, ARCHIVE_CONCURRENCY - len(self.state.in_flight))]
            blocked = [(i, why) for i in chosen if (why := access_refusal(self.state.refs[i])) is not None]
            if not blocked:
                break
            # Listed as blocked by the archive's access rules: not asked for, as backfill does not ask (its replay
            # would answer 451), but said among the captures not read, with why; the search goes on around it.
            # Not kept: every run reads the listing again, and a rule lifted makes it a capture to read.
            for i, why in blocked:
                self.state.learn(i, Sighting(self.state.refs[i].timestamp, unreadable=why), lasting=False, asked=False)
                self.progress.add("unreadable")
        self.state.in_flight.update(chosen)
        refs = [self.state.refs[i] for i in chosen]
        return [FetchRequest(self.document, self.source.capture_url(r.timestamp, r.url), r.url, r) for r in refs]


def _archive_refused(failure: FetchFailure) -> bool:
    """The archive itself refused (429/503, no archived answer), after every pause the middleware allows."""
    return not failure.refused and failure.status in PAUSE_STATUSES
