"""``discover DOMAIN --live``: where a site's policy is today, read from its home page fetched live (decision 0014).

Each domain's home page is fetched once, through track's live crawl (robots.txt, its user agent, the internal-address
policy), and its policy link is a one-era :class:`~policy_archive.pipeline.jobs.eras.Discovery` (its URL is the one
to track); a frameset or splash home page is read through its frames as the archive search reads them
(``pipeline.jobs.awaited_frames``). The archive search, and what both hand over, is ``pipeline.jobs.discover``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from policy_archive.config.settings import Settings
from policy_archive.crawler.hosts import NameAddresses, Proposals
from policy_archive.crawler.runner import crawl_live
from policy_archive.pipeline.jobs.awaited_frames import AwaitedFrames
from policy_archive.pipeline.jobs.discover import Unfinished, Unread, unchecked
from policy_archive.pipeline.jobs.eras import Discovery, Era
from policy_archive.pipeline.jobs.home_pages import FrameReading, Sighting, page_url, read_frame, read_home_page
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import Capture, FetchFailure, FetchRequest
from policy_archive.stop_signals import current_stop


class LivePlan:
    """The fetch plan of ``discover --live``: each domain's home page today, once (the live spider follows its
    redirects, one request at a time per site), and a frameset home page's frames as the archive search reads
    them (:class:`FrameReading`), through the same crawl; each domain's result is handed to ``done`` as it comes."""

    def __init__(
        self,
        homes: Mapping[str, str],
        document_type: str,
        done: Callable[[Discovery | Unread], None],
        progress: Progress,
        names: NameAddresses,
    ) -> None:
        self.requests = {f"{domain}/{document_type}": (domain, home) for domain, home in homes.items()}
        self.names = names
        self.document_type = document_type
        self.done = done
        self.progress = progress
        self.waiting = dict.fromkeys(homes)  # the domains without a result yet, in the order given
        # Frameset home pages whose frames are being read, by document; a frame known by its document and URL.
        self.frames: AwaitedFrames[str, tuple[str, str]] = AwaitedFrames(lambda document, url: (document, url))

    def start(self) -> Iterable[FetchRequest]:
        """Every domain's home page, all at once (the live spider takes one request at a time per site)."""
        return [FetchRequest(document, home, home) for document, (_, home) in self.requests.items()]

    def proposals(self, document: str) -> Proposals:
        """The home page named, the only internal address allowed; other names looked up once in the run."""
        return Proposals((self.requests[document][1],), self.names)

    def preparation(self, result: Capture | FetchFailure) -> Callable[[], None] | None:
        """The names today's home page (or a frame of it) links to, looked up on a thread before :meth:`handle`
        reads it on the crawl's, where every other site's download would wait for them (crawler/spiders/base.py)."""
        if not isinstance(result, Capture):
            return None
        document, _ = _asked(result)
        proposals, frameset = self.proposals(document), self.frames.reading(document)
        if frameset is None:
            return proposals.looking_up(lambda p: live_sighting(result, self.document_type, p))
        listed_at = frameset.listed_at
        return proposals.looking_up(lambda p: read_frame(result, self.document_type, listed_at, p))

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        """Read today's home page (or one of its frames); once the page and its frames have all answered, hand the
        domain's :class:`Discovery` to ``done``. A failed fetch is a sighting that says why, not an :class:`Unread`.
        Asks only for more frames, never anything else."""
        document, url = _asked(result)
        frameset, fetched = self.frames.reading(document), 1
        proposals = self.proposals(document)
        if frameset is None:
            sighting = live_sighting(result, self.document_type, proposals)
            if sighting.frames:
                assert isinstance(result, Capture)
                frameset = FrameReading(page_url(result), sighting.timestamp, proposals, sighting.refresh)
                if asked := frameset.follow(sighting.frames):
                    return self._frame_requests(document, self.frames.begin(document, frameset, asked))
                sighting = frameset.sighting()
        else:
            answered = self.frames.answer((document, url), result, self.document_type)
            if not answered:  # other frames of the home page still to answer
                return []
            ((_, said),) = answered  # only this document's home page waits for its frames
            if not isinstance(said, FrameReading):
                return self._frame_requests(document, said)
            sighting, fetched = said.sighting(), 1 + len(said.urls)
        domain = self.requests[document][0]
        self.waiting.pop(domain, None)
        self.done(live_discovery(domain, self.document_type, sighting, fetched, proposals))
        self.progress.add("searched", done=True)
        return []

    def _frame_requests(self, document: str, urls: Sequence[str]) -> list[FetchRequest]:
        """Frames of ``document``'s home page, fetched live as it was."""
        return [FetchRequest(document, url, url) for url in urls]


def _asked(result: Capture | FetchFailure) -> tuple[str, str]:
    """(document, URL asked) of a live fetch's result (a capture's ``url`` is the URL asked, before redirects)."""
    if isinstance(result, Capture):
        return result.document, result.url
    return result.request.document, result.request.original_url


def live_sighting(result: Capture | FetchFailure, document_type: str, proposals: Proposals) -> Sighting:
    """What today's home page says (its frames to read, when it is a frameset), or why it could not be read
    (``proposals``: the home page named and the run's name lookups, see ``read_home_page``)."""
    if isinstance(result, Capture):
        return read_home_page(result, page_url(result), document_type, result.captured_at, proposals)
    return Sighting(datetime.now(UTC), unreadable=f"not fetched: {result.reason}")


def live_discovery(
    domain: str, document_type: str, sighting: Sighting, fetched: int, proposals: Proposals
) -> Discovery:
    """Today's home page's link to the document, as a one-era discovery (its URL is the one to track);
    ``fetched``: the requests it took (the home page, and its frames)."""
    if sighting.unreadable:
        return Discovery(domain, document_type, (), (sighting,), 1, fetched, live=True)
    era = Era.of(sighting)
    return Discovery(domain, document_type, (era,), (), 1, fetched, live=True, unchecked=unchecked((era,), proposals))


def discover_live(
    settings: Settings,
    homes: Mapping[str, str],
    document_type: str,
    done: Callable[[Discovery | Unread], None],
    *,
    progress: Progress | None = None,
) -> Unfinished:
    """Each domain's home page today (``homes``: domain → home-page URL), read in one live crawl, its result
    handed to ``done``. Returns the domains a stop (SIGINT, SIGTERM) left without a result.

    The live fetching is track's: robots.txt, the same user agent, and the internal-address policy, where the
    home pages named are the declared origins (the operator named these sites) and every redirect hop
    elsewhere is held to it (crawler.addresses)."""
    if progress is None:
        progress = Progress("discover")
        progress.expect(len(homes), "domains", one="domain")
    plan = LivePlan(homes, document_type, done, progress, NameAddresses(settings.wayback.timeout_seconds))
    stop = current_stop()  # the command's: a signal before the crawl started counts too
    crawl_live(plan, settings, declared_origins=tuple(homes.values()), stop=stop)
    progress.finish()
    if stop.received:
        return Unfinished(None, tuple(plan.waiting))
    for domain in plan.waiting:  # not expected: every request ends in a capture or a failure
        done(Unread(domain, "the live crawl ended without an answer for its home page"))
    return Unfinished(None, ())
