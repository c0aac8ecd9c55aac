"""``discover DOMAIN``: where a site's policy lived over time, read from its archived home pages (decision 0014).

Policies move (``/privacy.html`` → ``/legal/privacy`` → ``/privacy``) and old URLs often stay online with stale
text, so one URL's captures give a wrong history. As the Princeton "Privacy Policies over Time" crawl did, the
site's home page tells which URL was *the* policy at each moment: its policy link (pipeline.jobs.home_pages).

Requests go where the link changes: the home page's captures are listed once, and only those the change-point
search asks for are read (pipeline.jobs.home_search; one domain's fetch plan: pipeline.jobs.home_plan). Consecutive
captures linking the same page make an *era* (pipeline.jobs.eras). Everything read is kept in
``DATA/discovery/<domain>.<type>.json`` before the next request is chosen, so a killed run continues where it
stopped (pipeline.jobs.discovery_state).

Several domains are searched in turn in one crawl (Scrapy's reactor runs once per process): a domain's home page
is listed when the previous domain's search is done, and its result is handed over (written) before the next
one starts, so an interrupted list keeps every domain finished. The state file then also notes where the
declaration went, so a rerun of the list skips it (``discovery_state.mark_finished``, ``finished_earlier``).
Today's home page instead (``discover --live``): ``pipeline.jobs.discover_live``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import partial
from pathlib import Path

from policy_archive.config.settings import Settings
from policy_archive.crawler.hosts import NameAddresses, Proposals
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.reach import Reachability, Unreached
from policy_archive.crawler.runner import crawl_archive
from policy_archive.crawler.sources import (
    ArchiveSource,
    ArchiveUnreachable,
    ListingClient,
    ListingError,
    archive_source,
)
from policy_archive.crawler.spiders.base import Continuation, Planned
from policy_archive.pipeline.jobs.discovery_state import state_file
from policy_archive.pipeline.jobs.eras import Discovery, Era, eras_of
from policy_archive.pipeline.jobs.future_dates import in_the_future
from policy_archive.pipeline.jobs.home_pages import (
    home_page_row,
)
from policy_archive.pipeline.jobs.home_plan import DiscoveryPlan
from policy_archive.pipeline.jobs.home_search import SearchState
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import Capture, CaptureRef, FetchFailure, FetchRequest, at_second
from policy_archive.stop_signals import StopSignal, current_stop
from policy_archive.text import counted


@dataclass(frozen=True)
class Unread:
    """A domain whose home page could not be read in this run, one line saying why: its captures could not be
    listed, or the archive kept refusing to serve them (what was read is kept for the next run)."""

    domain: str
    reason: str


@dataclass(frozen=True)
class Unfinished:
    """What a stopped run left: the domain whose search was under way (its readings are kept), those not begun; and,
    when the run stopped asking an unreachable archive, the one line saying so (those domains were handed over as
    :class:`Unread` then, each with why)."""

    in_progress: str | None
    not_started: tuple[str, ...]
    unreachable: str | None = None


def discover(
    settings: Settings,
    data_dir: Path,
    domains: Sequence[str],
    document_type: str,
    done: Callable[[Discovery | Unread], None],
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
) -> Unfinished:
    """For each domain in turn: list its home page's captures, read the ones the search needs, group what they
    link into eras, and hand the result to ``done`` before the next domain starts. One domain's failure (its
    listing) is its result, never the others'. Returns what a stop (SIGINT, SIGTERM) left unfinished.
    ``progress`` counts the domains done (the caller says of how many)."""
    if progress is None:
        progress = Progress("discover")
        progress.expect(len(domains), "domains", one="domain")
    progress.at_most(settings.wayback.cdx_per_minute / 60)  # a domain is one listing request at least
    source = archive_source(settings.wayback)
    client = ListingClient(limiter_for(data_dir, settings.wayback, "cdx"), settings.crawl.user_agent)
    period = (
        datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        datetime.combine(until, time.max, tzinfo=UTC) if until else None,
    )
    stop = current_stop()  # the command's: a signal before the crawl started counts too
    names = NameAddresses(settings.wayback.timeout_seconds)
    clock = datetime.now(UTC).replace(microsecond=0)  # the run's one clock (future_dates)
    plan = ListPlan(domains, document_type, source, client, period, data_dir, progress, done, stop, names, clock=clock)
    crawl_archive(plan, source, settings, data_dir, stop, reach=plan.replays)
    left = plan.unfinished() if stop.received else plan.given_up() or plan.unfinished()
    progress.finish()
    return left


class ListPlan:
    """The fetch plan handed to the Wayback spider: each domain's search in turn, the next domain listed when the
    previous one's search is done (so an interrupted list has finished every domain before the current one)."""

    def __init__(
        self,
        domains: Sequence[str],
        document_type: str,
        source: ArchiveSource,
        client: ListingClient,
        period: tuple[datetime | None, datetime | None],
        data_dir: Path,
        progress: Progress,
        done: Callable[[Discovery | Unread], None],
        stop: StopSignal,
        names: NameAddresses,
        *,
        clock: datetime | None = None,
    ) -> None:
        self.pending = deque(domains)
        # When the run began (read once, so every check of the run agrees): a home-page capture the archive
        # lists or dates after it is refused as backfill refuses it (pipeline.jobs.future_dates).
        self.clock = clock or datetime.now(UTC).replace(microsecond=0)
        self.document_type = document_type
        self.source = source
        self.client = client
        self.period = period
        self.data_dir = data_dir
        self.progress = progress
        self.done = done
        self.stop = stop
        self.names = names  # the run's name lookups, one per host for every domain
        self.current: tuple[str, DiscoveryPlan] | None = None
        self.resuming: str | None = None  # the domain whose saved links are being looked up, its search not begun
        self.future: dict[str, dict[str, str]] = {}  # each domain's rows refused as dated in the future
        # The archive found unreachable (crawler/reach.py) by a listing, or by the crawl's replays (``replays``): no
        # domain is listed or read after it; those left are handed over as not searched (:meth:`given_up`).
        self.replays = Reachability()
        self.unlisted: Unreached | None = None
        self.unreached_domains = 0  # domains handed over as not searched, or not finished, because of it

    def start(self) -> Iterable[Planned]:
        """The first requests of the first domain that needs any (domains needing none are handed over on the way),
        or a continuation that first looks up a resumed domain's saved links."""
        return self._advance()

    def preparation(self, result: Capture | FetchFailure) -> Callable[[], None] | None:
        """The current domain's :meth:`DiscoveryPlan.preparation` for ``result`` (names to look up off the crawl's
        thread); None between domains."""
        return self.current[1].preparation(result) if self.current is not None else None

    def handle(self, result: Capture | FetchFailure) -> Iterable[Planned]:
        """Hand ``result`` to the current domain's search; once that search is finished, hand its result to ``done``
        and return the next domain's first requests. Results come only for the domain being searched (asserted)."""
        assert self.current is not None, "results come only for the domain being searched"
        requests = list(self.current[1].handle(result))
        if requests or not self.current[1].finished:
            return requests
        self._finish()
        return self._advance()

    def unfinished(self) -> Unfinished:
        """What a stop leaves: the domain being searched (or whose saved links were being looked up), None between
        domains, and the domains not begun, in the order given."""
        return Unfinished(self.current[0] if self.current else self.resuming, tuple(self.pending))

    def unreachable(self) -> Unreached | None:
        """Why the run stopped asking the archive, when it did: its listing, or its replays, unreachable."""
        return self.unlisted or self.replays.unreached

    def given_up(self) -> Unfinished | None:
        """Once the archive was found unreachable: the domain under way and those not begun handed over as not
        searched (each :class:`Unread`, with why; what was read is kept), and the one line saying so; None when it
        was not."""
        unreached = self.unreachable()
        if unreached is None:
            return None
        why = f"the archive {unreached.archive} is unreachable ({unreached.problem}): run again once it answers"
        domain = self.current[0] if self.current else self.resuming
        if domain is not None:
            kept = ""
            if self.current is not None:
                state = self.current[1].state
                kept = f" ({counted(len(state.known) - len(state.retry), 'home-page capture')} read and kept)"
            self._unreached(Unread(domain, f"search not finished: {why}{kept}"))
        self.current, self.resuming = None, None
        while self.pending:
            self._unreached(Unread(self.pending.popleft(), f"not searched: {why}"))
        left = counted(self.unreached_domains, "more domain", "more domains")
        line = (
            f"archive {unreached.archive} unreachable: {unreached.problem}, {unreached.failures} requests in a row;"
            f" the run stopped asking it ({left} not searched); run again once it answers: what was read is kept"
        )
        return Unfinished(None, (), line)

    def _unreached(self, unread: Unread) -> None:
        self.unreached_domains += 1
        self.done(unread)
        self.progress.add("not searched", done=True)

    def _advance(self) -> list[Planned]:
        """The first requests of the next domain that needs any; domains needing none are finished on the way. A
        domain with a saved state (a resumed search) first has the names its saved links are to looked up, off the
        crawl's thread as a page's are (:meth:`DiscoveryPlan.preparation`): the saved readings are held to the same
        rule as new ones (a link now found to lead inside is read again), and each of those names, waited for on
        the crawl's thread, would hold it for up to the bound, one after the other."""
        while self.pending and not self.stop.received and self.unreachable() is None:
            domain = self.pending.popleft()
            home = f"http://{domain}/"
            try:
                listed = self.source.list_captures_patiently(home, self.client, *self.period)
            except ArchiveUnreachable as error:  # the domains after it are handed over as not searched
                self.unlisted = error.unreached
                self.done(Unread(domain, f"archive listing failed: {error}"))
                self.progress.add("listings failed", done=True, one="listing failed")
                continue
            except ListingError as error:
                self.done(Unread(domain, f"archive listing failed: {error}"))
                self.progress.add("listings failed", done=True, one="listing failed")
                continue
            # One capture per URL and second, the first listed there: the archive serves one for them, so several
            # rows there (two crawls merged; a response and its rendered DOM's resource filed at its URL, as our
            # WARCs did before 2026-11-28, in pywb) are one replay, one reading. Looked up by URL and second
            # (``DiscoveryPlan.index``), a second row was never settled and the domain failed "interrupted" on
            # every run (2026-11-28).
            rows = [ref for ref in listed if home_page_row(ref)]
            # A row listed after this run began (more than CLOCK_SKEW) is the archive's error, refused as backfill
            # refuses it and said (Discovery.refused): read, it would be the latest capture, its link today's URL.
            future = self.future[domain] = {}
            for ref in rows:
                if why := in_the_future(ref.timestamp, self.clock, "listed at"):
                    future[ref.wayback_timestamp] = why
            rows = [ref for ref in rows if ref.wayback_timestamp not in future]
            refs = [rows[group[0]] for group in at_second(rows).values()]
            self.progress.add("captures listed", len(refs), one="capture listed")
            saved = state_file(self.data_dir, domain, self.document_type)
            proposals = Proposals((home,), self.names)
            # The saved links' names, collected by the search state's own check and looked up all at once.
            looking_up = proposals.looking_up(partial(SearchState, refs, saved, self.document_type))
            if saved.is_file() and looking_up is not None:
                self.resuming = domain
                return [Continuation(looking_up, partial(self._resume, domain, refs, proposals))]
            if requests := self._begin(domain, refs, proposals):
                return requests
        return []

    def _resume(self, domain: str, refs: list[CaptureRef], proposals: Proposals) -> list[Planned]:
        """A resumed search begun, its saved links' names known by now; the next domain's when it needs nothing."""
        self.resuming = None
        return self._begin(domain, refs, proposals) or self._advance()

    def _begin(self, domain: str, refs: list[CaptureRef], proposals: Proposals) -> list[FetchRequest]:
        """The first requests of ``domain``'s search; none: it is finished."""
        state = SearchState(refs, state_file(self.data_dir, domain, self.document_type), self.document_type, proposals)
        document = f"{domain}/{self.document_type}"
        plan = DiscoveryPlan(state, self.source, document, self.progress, proposals, self.clock)
        self.current = (domain, plan)
        if requests := list(plan.start()):
            return requests
        self._finish()
        return []

    def _finish(self) -> None:
        assert self.current is not None
        domain, plan = self.current
        self.current = None
        state = plan.state
        future = tuple(self.future.pop(domain, {}).items())
        if plan.refused is not None:
            read = counted(len(state.known) - len(state.retry), "home-page capture")
            self.done(Unread(domain, f"{plan.refused}; {read} read and kept, run again later to continue"))
            self.progress.add("refused by the archive", done=True)
            return
        sightings = state.sightings()
        unreadable = tuple(sighting for sighting in sightings if sighting.unreadable)
        eras = tuple(eras_of(sightings))
        self.done(Discovery(domain, self.document_type, eras, unreadable, len(state.refs), state.fetched,
                            unchecked=unchecked(eras, plan.proposals),
                            refused=future))  # fmt: skip
        self.progress.add("searched", done=True)


def unchecked(eras: Sequence[Era], proposals: Proposals) -> tuple[str, ...]:
    """The proposed URLs whose name gave no address, so that whether they lead inside is not known, each with
    why (``URL: HOST has no address …``): kept, since an old era's site may be gone, but said."""
    notes = ((era.url, proposals.unresolved(era.url)) for era in eras if era.url)
    return tuple(dict.fromkeys(f"{url}: {why}" for url, why in notes if why))
